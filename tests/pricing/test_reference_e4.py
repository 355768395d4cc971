"""四同's integer shortcut (four_same._certainly_flagged + limits.evaluate_reference_e4) must equal the
exact Fraction/Decimal path (limits.evaluate_reference): the same flag decision and the same stored
values, Decimal text included."""

from dataclasses import replace
from decimal import Decimal

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.engine.frame import _e4
from pricing.engine.limits import Side, evaluate_reference, evaluate_reference_e4
from pricing.engine.rules.four_same import _certainly_flagged
from pricing.engine.ruleset import RuleParams

PARAMS = RuleParams.from_dict({})

# prices with up to 4 decimals (the stored scale), from a fen to 99,999 yuan, ties at the half cent included
_PRICE = st.one_of(
    st.integers(1, 999_999_999).map(lambda e4: Decimal(e4).scaleb(-4)),
    st.integers(1, 9_999_999).map(lambda c: Decimal(c * 100 + 50).scaleb(-4)),  # x.xx50: the half-up tie
    st.integers(1, 99_999).map(Decimal),
)
_TOLERANCE = st.sampled_from([Decimal("0"), Decimal("0.01"), Decimal("0.05"), Decimal("0.5"), Decimal("1.00")])


def _decide(target_price: Decimal, min_price: Decimal, params: RuleParams) -> bool | None:
    listings = pd.DataFrame({"p_e4": np.array([_e4(target_price)], dtype=np.int64)})
    refs = pd.DataFrame({"p_e4": np.array([_e4(min_price)], dtype=np.int64)})
    return _certainly_flagged(listings, refs, np.array([0]), np.array([0]), params)[0]


@settings(max_examples=500, deadline=None)
@given(
    target_price=_PRICE,
    min_price=_PRICE,
    n=st.integers(1, 1000),
    n_reference=st.one_of(st.none(), st.integers(1, 1000)),
    tolerance_abs=_TOLERANCE,
    tolerance_rel=_TOLERANCE,
)
def test_integer_reference_evaluation_equals_the_exact_one(
    target_price, min_price, n, n_reference, tolerance_abs, tolerance_rel
):
    params = replace(PARAMS, tolerance_abs=tolerance_abs, tolerance_rel=tolerance_rel)
    exact = evaluate_reference(
        target=Side(target_price, n),
        min_price=min_price,
        province="江苏省",
        n_reference=n_reference,
        tolerance_abs=tolerance_abs,
        tolerance_rel=tolerance_rel,
        bands=params.bands,
    )
    decided = _decide(target_price, min_price, params)
    assert decided is not None  # 4-decimal prices below 100,000 yuan are always decided in integers
    assert decided == exact.flagged
    if not decided:
        return
    fast = evaluate_reference_e4(
        target=Side(target_price, n),
        target_e4=_e4(target_price),
        min_price=min_price,
        min_e4=_e4(min_price),
        province="江苏省",
        n_reference=n_reference,
        bands=params.bands,
    )
    assert fast == exact
    for name in ("converted", "limit", "ratio"):
        assert str(getattr(fast, name)) == str(getattr(exact, name)), name
    assert fast.factors == exact.factors


def test_a_half_cent_reference_price_rounds_up_and_flags_the_cent_above():
    # 10.005 → limit 10.01; a target at 10.02 is above it, at 10.01 it is not
    assert _decide(Decimal("10.0200"), Decimal("10.005"), PARAMS) is True
    assert _decide(Decimal("10.0100"), Decimal("10.005"), PARAMS) is False
    ev = evaluate_reference_e4(
        target=Side(Decimal("10.0200"), 3),
        target_e4=100_200,
        min_price=Decimal("10.005"),
        min_e4=100_050,
        province="江苏省",
        n_reference=None,
        bands=PARAMS.bands,
    )
    assert str(ev.limit) == "10.01" and str(ev.converted) == "3.3350000000" and str(ev.ratio) == "1.0010"
