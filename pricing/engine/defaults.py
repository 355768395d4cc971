"""The default rule set (RULES.md), shipped as rule-set version 1. Pure data, no Django.

The alias tables (剂型组, 质量层次, 是否集采中选, 挂网状态) are the catalogue's shipped vocabulary
(catalogue.vocabulary): normalising a listing is catalogue knowledge, the rule set carries a copy
an admin may extend in a new version.
"""

from typing import Any

from catalogue.vocabulary import FORM_ALIASES, STATUS_ALIASES, TIER_ALIASES, TIER_CLASSES, VBP_ALIASES

DEFAULT_FORM_ALIASES: dict[str, str] = dict(FORM_ALIASES)
DEFAULT_TIER_ALIASES: dict[str, str] = dict(TIER_ALIASES)  # 质量层次 as written in uploads → canonical tier
DEFAULT_TIER_CLASSES: dict[str, str] = dict(TIER_CLASSES)  # canonical tier → tier class

DEFAULT_PARAMS: dict[str, Any] = {
    "k_content": "1.7",
    "k_volume": "1.9",
    "k_pack": "2",
    "tolerance_abs": "0.00",
    "tolerance_rel": "0",
    "tier_classes": DEFAULT_TIER_CLASSES,
    "tier_aliases": DEFAULT_TIER_ALIASES,
    "form_aliases": DEFAULT_FORM_ALIASES,
    "vbp_aliases": dict(VBP_ALIASES),
    "status_aliases": dict(STATUS_ALIASES),
    # Severity bands on r = P_t / L_t: lower bounds, ascending.
    "severity_bands": [["0", "黄"], ["2", "红★"], ["5", "红★★"], ["10", "红★★★"]],
    "rules_enabled": ["TIER_UNEVALUATED", "TIER_EVALUATED", "SAME_MAKER_SPEC", "FOUR_SAME_NATIONAL"],
    "vbp_winners_are_targets": False,
    # Cross-dosage-form comparison table (剂型比价, RULES §8): shipped empty, editable.
    "form_price_ratios": {},
}
