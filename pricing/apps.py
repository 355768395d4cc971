from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PricingConfig(AppConfig):
    name = "pricing"
    verbose_name = _("价格纠偏")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(_ensure_stats_triggers, sender=self)


def _ensure_stats_triggers(sender, using: str = "default", **kwargs) -> None:
    """Schema upkeep, not domain logic: a later migration that rebuilds pricing_flag on SQLite drops its
    triggers; put them back after every `migrate` (pricing.stats_triggers.ensure_triggers)."""
    from django.db import connections

    from pricing.stats_triggers import ensure_triggers

    connection = connections[using]
    if "pricing_flag" in connection.introspection.table_names() and (
        "pricing_roundstatsversion" in connection.introspection.table_names()
    ):
        ensure_triggers(connection)
