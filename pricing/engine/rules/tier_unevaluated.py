"""TIER_UNEVALUATED (未过评高于新药/过评/参比): an unevaluated listing priced above the converted
price of the cheapest comparable 新药/过评/参比 listing of the same group (any maker)."""

import pandas as pd

from pricing.engine.rules.common import tier_rule
from pricing.engine.ruleset import RuleParams

CODE = "TIER_UNEVALUATED"
TARGET_CLASSES = ("未过评",)
BENCHMARK_CLASSES = ("新药", "过评", "参比")


def find(listings: pd.DataFrame, params: RuleParams) -> pd.DataFrame:
    """listings: a frame from pricing.frame.prepare → candidate flags (pricing.benchmark.FLAG_COLUMNS)."""
    return tier_rule(listings, params, CODE, TARGET_CLASSES, BENCHMARK_CLASSES)
