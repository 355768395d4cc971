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


# ---- companions: the three properties above would pass if the engine flagged nothing; these
# ---- demand the flags that must appear.

BENCH_CLASSES = {"未过评": {"新药", "过评", "参比"}, "过评": {"参比"}}


def _has_benchmark(parts, i) -> bool:
    """Listing i (of one generic and form) has a comparable benchmark under some listing rule."""
    _g, spec, n, maker, tier = parts[i]
    cls = PARAMS.tier_classes[tier]
    for j, (_g2, spec2, n2, maker2, tier2) in enumerate(parts):
        if j == i:
            continue
        cls2 = PARAMS.tier_classes[tier2]
        if maker2 == maker and cls2 == cls and (spec2, n2) != (spec, n):
            return True
        if cls2 in BENCH_CLASSES.get(cls, ()):
            return True
    return False


one_generic_parts = st.tuples(
    st.just("甲药"),
    st.sampled_from(SPECS),
    st.sampled_from([1, 2, 4, 8]),
    st.sampled_from(["甲厂", "乙厂"]),
    st.sampled_from(TIERS),
)


def _consistent_rows(parts, base, bumped: int | None = None, scale: int = 1):
    rows = []
    for i, (generic, spec, n, maker, tier) in enumerate(parts):
        price = Decimal(base) * Decimal("1.7") ** SPECS.index(spec) * n * scale
        rows.append(_row(i, generic, spec, n, maker, tier, price * 2 if i == bumped else price))
    return rows


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(one_generic_parts, min_size=2, max_size=10), base=st.integers(1, 50), data=st.data())
def test_one_overpriced_listing_in_a_consistent_catalogue_is_flagged(parts, base, data):
    # doubling one listing's price breaks every rule that has a benchmark for it: exactly it is flagged
    i = data.draw(st.integers(0, len(parts) - 1))
    flagged = {t for t, _rule, _b in _flags(_consistent_rows(parts, base, bumped=i))}
    assert flagged == ({f"L{i:04d}"} if _has_benchmark(parts, i) else set())


@settings(max_examples=40, deadline=None)
@given(
    parts=st.lists(one_generic_parts, min_size=2, max_size=10),
    base=st.integers(1, 50),
    scale=st.sampled_from([2, 10, 7]),
    data=st.data(),
)
def test_scaling_keeps_the_flags_that_must_appear(parts, base, scale, data):
    i = data.draw(st.integers(0, len(parts) - 1))
    flags = _flags(_consistent_rows(parts, base, bumped=i))
    assert flags == _flags(_consistent_rows(parts, base, bumped=i, scale=scale))
    assert bool(flags) == _has_benchmark(parts, i)


@settings(max_examples=80, deadline=None)
@given(
    a=st.tuples(st.sampled_from(["5mg", "10mg", "15mg", "0.1g"]), st.integers(1, 60), st.integers(1, 100_000)),
    b=st.tuples(st.sampled_from(["5mg", "10mg", "15mg", "0.1g"]), st.integers(1, 60), st.integers(1, 100_000)),
)
def test_an_inconsistent_same_maker_pair_is_flagged_exactly_one_way(a, b):
    # two evaluated listings of one maker: SAME_MAKER_SPEC is the only rule; each is flagged exactly
    # when its price is above the limit converted from the other (the limit-price function)
    from catalogue.specs import parse_strength
    from pricing.engine.conversion import conversion_factor, limit_price

    (spec_a, n_a, c_a), (spec_b, n_b, c_b) = a, b
    if (parse_strength(spec_a).norm, n_a) == (parse_strength(spec_b).norm, n_b):
        return
    rows = [_row(0, "甲药", spec_a, n_a, "甲厂", "过评", Decimal(c_a) / 100)]
    rows.append(_row(1, "甲药", spec_b, n_b, "甲厂", "过评", Decimal(c_b) / 100))

    def limit(t, o):
        (s_t, n_t, _c), (s_o, n_o, c_o) = t, o
        q_t, q_o = parse_strength(s_t).content, parse_strength(s_o).content
        same = parse_strength(s_t).norm == parse_strength(s_o).norm
        factor = conversion_factor(
            k=None if same else Fraction("1.7"),
            q_target=Fraction(q_t),
            q_bench=Fraction(q_o),
            k_pack=Fraction(2),
            n_target=n_t,
            n_bench=n_o,
        )
        return limit_price(Decimal(c_o) / 100, factor, n_t, n_o)

    expected = set()  # (a limit that rounds to 0.00 raises no flag)
    if 0 < limit(a, b) < Decimal(c_a) / 100:
        expected.add(("L0000", "SAME_MAKER_SPEC", "L0001"))
    if 0 < limit(b, a) < Decimal(c_b) / 100:
        expected.add(("L0001", "SAME_MAKER_SPEC", "L0000"))
    assert len(expected) <= 1
    assert _flags(rows) == expected


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
