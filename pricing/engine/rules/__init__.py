"""The rules (纠偏规则), one module each, and `run_rules` that runs the enabled ones. Pure."""

import functools

import pandas as pd

from pricing.engine import parallel
from pricing.engine.benchmark import FLAG_COLUMNS
from pricing.engine.rules import four_same, same_maker_spec, tier_evaluated, tier_unevaluated
from pricing.engine.ruleset import RuleParams

LISTING_RULES = {
    tier_unevaluated.CODE: tier_unevaluated.find,
    tier_evaluated.CODE: tier_evaluated.find,
    same_maker_spec.CODE: same_maker_spec.find,
}


def run_rules(listings: pd.DataFrame, refs: pd.DataFrame | None, params: RuleParams) -> pd.DataFrame:
    """All enabled rules over a prepared listings frame (pricing.frame.prepare) → candidate flags.

    On a large catalogue the 四同 rule runs on a second core beside the listing rules
    (pricing.engine.parallel); the flags are the same, in the same order, either way."""
    listing_codes = [code for code in params.rules_enabled if code in LISTING_RULES]
    national = None
    if four_same.CODE in params.rules_enabled and refs is not None:
        job = functools.partial(four_same.find, listings, refs, params)
        offload = listing_codes and parallel.worthwhile(len(listings))
        national = parallel.start(job) if offload else parallel.Pending(job, None, None)
    try:
        found = {code: LISTING_RULES[code](listings, params) for code in listing_codes}
    except BaseException:
        if national is not None:
            national.cancel()
        raise
    if national is not None:
        found[four_same.CODE] = national.result()
    frames = [found[code] for code in params.rules_enabled if code in found]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    return pd.concat(frames, ignore_index=True)
