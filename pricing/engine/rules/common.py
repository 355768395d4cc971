"""Target/benchmark selection shared by the listing rules."""

import pandas as pd

from pricing.engine.benchmark import class_pairs, evaluate
from pricing.engine.ruleset import RuleParams

# the columns the rules select and group on (the rest stay in the full frame, read by row label)
POOL_COLUMNS = (
    *("vbp", "tier_class", "cid", "v", "generic", "form_group", "spec", "n", "maker", "nhsa"),
    *("maker_code", "tier_class_code", "spec_code"),
)


def active(listings: pd.DataFrame) -> pd.DataFrame:
    """Inactive listings (暂停, 撤网 …) are neither targets nor benchmarks.

    Returns the active rows with only POOL_COLUMNS (same row labels): copying every column of a
    national catalogue for each rule was most of the rules' pandas time.
    """
    columns = [c for c in POOL_COLUMNS if c in listings.columns]
    return listings.loc[listings["active"].to_numpy(dtype=bool), columns]


def targets_of(pool: pd.DataFrame, params: RuleParams) -> pd.DataFrame:
    """VBP winners (集采中选) are never targets unless the rule set says so."""
    if params.vbp_winners_are_targets:
        return pool
    return pool[~pool["vbp"].to_numpy(dtype=bool)]


def tier_rule(
    listings: pd.DataFrame,
    params: RuleParams,
    code: str,
    target_classes: tuple[str, ...],
    bench_classes: tuple[str, ...],
) -> pd.DataFrame:
    pool = active(listings)
    targets = targets_of(pool[pool["tier_class"].isin(target_classes)], params)
    bench = pool[pool["tier_class"].isin(bench_classes)]
    pairs = class_pairs(listings, targets, bench, params)
    return evaluate(listings, pairs, params, code)
