"""SAME_MAKER_SPEC (同厂同通用名同剂型同质量层次不同规格): a listing priced above the converted
price of the cheapest sibling (same group, maker and tier class) with a different (规格, 转换比)."""

import pandas as pd

from pricing.engine.benchmark import evaluate, sibling_pairs
from pricing.engine.rules.common import active, targets_of
from pricing.engine.ruleset import RuleParams

CODE = "SAME_MAKER_SPEC"


def find(listings: pd.DataFrame, params: RuleParams) -> pd.DataFrame:
    pool = active(listings)
    targets = targets_of(pool, params)
    # same class, maker and tier class; a different (规格, 转换比) — as factorised codes (pricing.frame)
    by, key = ["cid", "maker_code", "tier_class_code"], ["spec_code", "n"]
    pairs = sibling_pairs(listings, targets, pool, by, key, params)
    return evaluate(listings, pairs, params, CODE)
