"""TIER_EVALUATED (过评高于参比): an evaluated (过评/视同过评) listing priced above the converted
price of the cheapest comparable 参比 listing (原研/参比制剂) of the same group."""

import pandas as pd

from pricing.engine.rules.common import tier_rule
from pricing.engine.ruleset import RuleParams

CODE = "TIER_EVALUATED"
TARGET_CLASSES = ("过评",)
BENCHMARK_CLASSES = ("参比",)


def find(listings: pd.DataFrame, params: RuleParams) -> pd.DataFrame:
    return tier_rule(listings, params, CODE, TARGET_CLASSES, BENCHMARK_CLASSES)
