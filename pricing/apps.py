from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def latest_rule_set_params() -> dict | None:
    """The alias tables of the newest rule set (the catalogue lays them over its shipped vocabulary)."""
    from pricing.models import RuleSet

    return RuleSet.objects.order_by("-version").values_list("params", flat=True).first()


class PricingConfig(AppConfig):
    name = "pricing"
    verbose_name = _("价格纠偏")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from catalogue.vocabulary import set_vocabulary_source

        set_vocabulary_source(latest_rule_set_params)

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
