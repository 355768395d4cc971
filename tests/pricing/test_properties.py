"""Hypothesis properties of conversion and of the rules (pure level)."""

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.engine.conversion import conversion_term, multiply
from pricing.engine.frame import listings_from_raw, prepare
from pricing.engine.rules import run_rules
from pricing.engine.ruleset import RuleParams

PARAMS = RuleParams.from_dict({})
quantities = st.fractions(min_value=Fraction(1, 1000), max_value=Fraction(10000)).filter(lambda f: f > 0)
ks = st.sampled_from([Fraction("1.7"), Fraction("1.9"), Fraction("1.95") / 2, Fraction(2), Fraction(3, 2)])


def _close(a, b) -> bool:
    a, b = multiply(a), multiply(b)
    return abs(Fraction(a) - Fraction(b)) <= abs(Fraction(b)) * Fraction(1, 10**30)


@given(k=ks, x=quantities, y=quantities)
def test_conversion_is_multiplicative(k, x, y):
    assert _close(multiply(conversion_term(k, x), conversion_term(k, y)), conversion_term(k, x * y))


@given(k=ks, x=quantities)
def test_conversion_round_trips(k, x):
    assert _close(multiply(conversion_term(k, x), conversion_term(k, 1 / x)), Fraction(1))


@given(k=ks, e=st.integers(-6, 6))
def test_powers_of_two_are_exact(k, e):
    assert conversion_term(k, Fraction(2) ** e) == k**e


def _row(i, generic, spec, n, maker, tier, price):
    return {
        "挂网编号": f"L{i:04d}",
        "通用名": generic,
        "剂型": "片剂",
        "规格": spec,
        "转换比": str(n),
        "生产企业": maker,
        "质量层次": tier,
        "挂网价格": str(price),
    }


def _flags(rows, params=PARAMS):
    df = prepare(listings_from_raw(rows, params), params)
    flags = run_rules(df, None, params)
    return {(df.loc[f.target, "code"], f.rule_code, df.loc[f.bench, "code"]) for f in flags.itertuples()}


SPECS = ["10mg", "20mg", "40mg"]  # content ratios are powers of two: factors are exact
TIERS = ["原研", "过评", "视同过评", "新药", "未过评"]
listing_parts = st.tuples(
    st.sampled_from(["甲药", "乙药"]),
    st.sampled_from(SPECS),
    st.sampled_from([1, 2, 4, 8]),
    st.sampled_from(["甲厂", "乙厂"]),
    st.sampled_from(TIERS),
)


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(listing_parts, min_size=2, max_size=12), base=st.integers(1, 50))
def test_consistently_priced_catalogue_raises_no_flag(parts, base):
    # unit price u0 × 1.7^log2(q/10) per unit: every pair is priced exactly consistently, to the cent
    rows = []
    for i, (generic, spec, n, maker, tier) in enumerate(parts):
        k = SPECS.index(spec)
        rows.append(_row(i, generic, spec, n, maker, tier, Decimal(base) * Decimal("1.7") ** k * n))
    assert _flags(rows) == set()


@settings(max_examples=60, deadline=None)
@given(
    parts=st.lists(st.tuples(listing_parts, st.integers(1, 50)), min_size=2, max_size=12),
    scale=st.sampled_from([2, 10, 7]),
)
def test_scaling_all_prices_changes_no_flag(parts, scale):
    # prices are multiples of 23.12 (= 2.89 × 8), so every limit price is exact in cents
    rows = [_row(i, g, s, n, m, t, Decimal("23.12") * c) for i, ((g, s, n, m, t), c) in enumerate(parts)]
    scaled = [{**r, "挂网价格": str(Decimal(r["挂网价格"]) * scale)} for r in rows]
    assert _flags(rows) == _flags(scaled)


@settings(max_examples=80, deadline=None)
@given(
    parts=st.lists(
        st.tuples(
            st.sampled_from(["5mg", "10mg", "15mg", "25mg", "0.1g"]),
            st.integers(1, 60),
            st.integers(1, 100_000),
            st.sampled_from(["甲厂", "乙厂"]),
            st.sampled_from(TIERS),
        ),
        min_size=2,
        max_size=10,
    )
)
def test_a_pair_is_never_flagged_both_ways(parts):
    # every listing rule at once (makers and tier classes vary); irrational factors (15mg/25mg) too
    rows = [_row(i, "甲药", s, n, m, t, Decimal(c) / 100) for i, (s, n, c, m, t) in enumerate(parts)]
    flags = _flags(rows)
    pairs = {(t, b) for t, _rule, b in flags}
    assert not any((b, t) in pairs for t, b in pairs)


@given(
    price=st.decimals(min_value=Decimal("0"), max_value=Decimal("99999"), places=4, allow_nan=False),
    n=st.integers(1, 5000),
    n_reference=st.one_of(st.none(), st.integers(1, 5000)),
)
def test_reference_evaluation_is_the_exact_fraction(price, n, n_reference):
    """四同: the integer shortcut stores what the Fraction arithmetic gives (value and representation)."""
    from pricing.engine.conversion import to_decimal
    from pricing.engine.limits import Side, evaluate_reference

    ev = evaluate_reference(
        target=Side(Decimal("12.34"), n),
        min_price=price,
        province="江苏省",
        n_reference=n_reference,
        tolerance_abs=PARAMS.tolerance_abs,
        tolerance_rel=PARAMS.tolerance_rel,
        bands=PARAMS.bands,
    )
    expected = to_decimal(Fraction(price) / n, 10)
    assert ev.converted == expected and str(ev.converted) == str(expected)
    assert ev.converted_exact == Fraction(price) / n
