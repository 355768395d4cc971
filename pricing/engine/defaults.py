"""The default rule set (RULES.md), shipped as rule-set version 1. Pure data, no Django."""

from typing import Any

DEFAULT_FORM_ALIASES: dict[str, str] = {
    "注射液": "注射剂",
    "注射剂": "注射剂",
    "小容量注射液": "注射剂",
    "注射用无菌粉末": "注射用无菌粉末",
    "冻干粉针剂": "注射用无菌粉末",
    "粉针剂": "注射用无菌粉末",
    "片": "片剂",
    "片剂": "片剂",
    "普通片": "片剂",
    "薄膜衣片": "片剂",
    "糖衣片": "片剂",
    "胶囊": "胶囊剂",
    "胶囊剂": "胶囊剂",
    "硬胶囊": "胶囊剂",
    "颗粒": "颗粒剂",
    "颗粒剂": "颗粒剂",
}

# 质量层次 as written in uploads → canonical tier.
DEFAULT_TIER_ALIASES: dict[str, str] = {
    "原研": "原研",
    "参比制剂": "参比制剂",
    "参比": "参比制剂",
    "过评": "过评",
    "通过一致性评价": "过评",
    "一致性评价": "过评",
    "视同过评": "视同过评",
    "未过评": "未过评",
    "未通过一致性评价": "未过评",
    "新药": "新药",
}

# canonical tier → tier class (参比 / 过评 / 新药 / 未过评)
DEFAULT_TIER_CLASSES: dict[str, str] = {
    "原研": "参比",
    "参比制剂": "参比",
    "过评": "过评",
    "视同过评": "过评",
    "新药": "新药",
    "未过评": "未过评",
}

DEFAULT_PARAMS: dict[str, Any] = {
    "k_content": "1.7",
    "k_volume": "1.9",
    "k_pack": "2",
    "tolerance_abs": "0.00",
    "tolerance_rel": "0",
    "tier_classes": DEFAULT_TIER_CLASSES,
    "tier_aliases": DEFAULT_TIER_ALIASES,
    "form_aliases": DEFAULT_FORM_ALIASES,
    # Severity bands on r = P_t / L_t: lower bounds, ascending.
    "severity_bands": [["0", "黄"], ["2", "红★"], ["5", "红★★"], ["10", "红★★★"]],
    "rules_enabled": ["TIER_UNEVALUATED", "TIER_EVALUATED", "SAME_MAKER_SPEC", "FOUR_SAME_NATIONAL"],
    "vbp_winners_are_targets": False,
    # Cross-dosage-form comparison table (剂型比价, RULES §8): shipped empty, editable.
    "form_price_ratios": {},
}
