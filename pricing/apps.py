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
        from catalogue.vocabulary import set_vocabulary_source

        set_vocabulary_source(latest_rule_set_params)
