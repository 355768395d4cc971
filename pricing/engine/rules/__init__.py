"""The rules (纠偏规则), one module each, and `run_rules` that runs the enabled ones. Pure."""

import pandas as pd

from pricing.engine.benchmark import FLAG_COLUMNS
from pricing.engine.rules import four_same, same_maker_spec, tier_evaluated, tier_unevaluated
from pricing.engine.ruleset import RuleParams

LISTING_RULES = {
    tier_unevaluated.CODE: tier_unevaluated.find,
    tier_evaluated.CODE: tier_evaluated.find,
    same_maker_spec.CODE: same_maker_spec.find,
}


def run_rules(listings: pd.DataFrame, refs: pd.DataFrame | None, params: RuleParams) -> pd.DataFrame:
    """All enabled rules over a prepared listings frame (pricing.frame.prepare) → candidate flags."""
    frames = []
    for code in params.rules_enabled:
        if code in LISTING_RULES:
            frames.append(LISTING_RULES[code](listings, params))
        elif code == four_same.CODE and refs is not None:
            frames.append(four_same.find(listings, refs, params))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    return pd.concat(frames, ignore_index=True)
