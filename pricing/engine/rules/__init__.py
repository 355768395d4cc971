"""The rules (纠偏规则), one module each, and `run_rules` that runs the enabled ones. Pure."""

import functools
from collections.abc import Callable
from typing import TypeVar

import pandas as pd

from pricing.engine import parallel
from pricing.engine.benchmark import FLAG_COLUMNS
from pricing.engine.rules import four_same, same_maker_spec, tier_evaluated, tier_unevaluated
from pricing.engine.ruleset import RuleParams

T = TypeVar("T")
U = TypeVar("U")

LISTING_RULES = {
    tier_unevaluated.CODE: tier_unevaluated.find,
    tier_evaluated.CODE: tier_evaluated.find,
    same_maker_spec.CODE: same_maker_spec.find,
}


def run_rules(listings: pd.DataFrame, refs: pd.DataFrame | None, params: RuleParams) -> pd.DataFrame:
    """All enabled rules over a prepared listings frame (pricing.frame.prepare) → candidate flags.

    On a large catalogue the 四同 rule runs on a second core beside the listing rules
    (pricing.engine.parallel); the flags are the same, in the same order, either way."""
    found, national = run_split(listings, refs, params, then=lambda flags: flags)
    if national is not None:
        found[four_same.CODE] = national
    return concat_flags(found, params)


def _as_found(found: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return found


def concat_flags(found: dict[str, pd.DataFrame], params: RuleParams) -> pd.DataFrame:
    """The rules' flag frames (by rule code) as one frame, in the rule set's order of rules."""
    frames = [found[code] for code in params.rules_enabled if code in found]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def run_split(
    listings: pd.DataFrame,
    refs: pd.DataFrame | None,
    params: RuleParams,
    *,
    then: Callable[[pd.DataFrame], T],
    here: Callable[[dict[str, pd.DataFrame]], U] = _as_found,
) -> tuple[U, T | None]:
    """`here(the enabled listing rules' flags by rule code)`, and `then(四同 flags)` (None when 四同 is off or
    there are no references). With listing rules to run beside it on a large catalogue, the 四同 rule and
    `then` run in a forked child (pricing.engine.parallel): `then` is where the caller turns the rule's
    frame into what is cheap to send back, and `here` is the caller's own work on the listing rules' flags,
    done in this process while the child is still busy."""
    listing_codes = [code for code in params.rules_enabled if code in LISTING_RULES]
    national = None
    if four_same.CODE in params.rules_enabled and refs is not None:
        job = functools.partial(_national, listings, refs, params, then)
        offload = listing_codes and parallel.worthwhile(len(listings))
        national = parallel.start(job) if offload else parallel.Pending(job, None, None)
    try:
        mine = here({code: LISTING_RULES[code](listings, params) for code in listing_codes})
    except BaseException:
        if national is not None:
            national.cancel()
        raise
    return mine, (national.result() if national is not None else None)


def _national(listings: pd.DataFrame, refs: pd.DataFrame, params: RuleParams, then: Callable[[pd.DataFrame], T]) -> T:
    return then(four_same.find(listings, refs, params))
