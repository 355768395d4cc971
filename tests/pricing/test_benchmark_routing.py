"""What the benchmark chooser sends to its slow exact steps (比价药品, pricing.engine.benchmark).

The chooser decides with floats and vectorised integer arithmetic, and falls back to Python
(`exact_order`: Fraction / 40-digit Decimal, then 挂网编号; the exact evaluation of a pair) only
where floats cannot tell. Either way gives the same benchmark and flag, so the tests in
test_benchmark_branches.py cannot see *which* way a row took; at province scale it matters (the
exact steps are per group / per pair in Python). These tests check the benchmarks and flags and at
the same time what reaches the exact steps: `exact_order` gets exactly the near-tied groups of
different specs or packs (with only their near rows), and the pre-filter `possibly_flagged` drops
every pair clearly below its threshold. A few tests at the end pin exactness where floats fail.
"""

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from pricing.engine import benchmark
from pricing.engine.coverage import rule_pairs
from pricing.engine.frame import listings_from_raw, prepare
from pricing.engine.rules import run_rules
from pricing.engine.ruleset import RuleParams
from tests.pricing.test_rule_branches import flags, listing

UNEVALUATED = "TIER_UNEVALUATED"
SAME_MAKER = "SAME_MAKER_SPEC"


@pytest.fixture
def exact_calls(monkeypatch):
    """The rows (as 挂网编号, sorted) of every exact_order call."""
    calls: list[list[str]] = []
    real = benchmark.exact_order

    def spy(cols, rows, params):
        calls.append(sorted(cols.code[r] for r in rows))
        return real(cols, rows, params)

    monkeypatch.setattr(benchmark, "exact_order", spy)
    return calls


def _benchmarks(rows, rule, **changes) -> dict[str, str]:
    """target code → benchmark code of one rule (the pairs it compares, flagged or not)."""
    params = RuleParams.from_dict({"rules_enabled": [rule], **changes})
    df = prepare(listings_from_raw(rows, params), params)
    pairs = rule_pairs(df, None, params)[rule]
    code = df["code"].tolist()
    return {code[t]: code[b] for t, b in zip(pairs["target"].tolist(), pairs["bench"].tolist(), strict=True)}


# ---- class_pairs (the tier rules): one best benchmark per comparison class


def _clear_and_same_spec_groups() -> list[dict]:
    rows = []

    def group(name, *members):
        rows.append(listing(f"{name}-T", 通用名=name, 质量层次="未过评", 挂网价格="99"))
        for code, kw in members:
            rows.append(listing(code, 通用名=name, 生产企业=code, **kw))

    # the first class: an exact same-spec tie whose best row (smaller code) comes first
    group("药1", ("P1", {"挂网价格": "10.00"}), ("P9", {"挂网价格": "10.00"}))
    # a clear winner among different specs (20mg at 13.00 is 7.65 as 10mg, 23 % above 10mg at 6.20)
    group("药2", ("C9", {"挂网价格": "6.20"}), ("C1", {"规格": "20mg", "挂网价格": "13.00"}))
    # an exact same-spec tie, the larger code first
    group("药3", ("S9", {"挂网价格": "10.00"}), ("S2", {"挂网价格": "10.00"}), ("S5", {"挂网价格": "10.50"}))
    # same spec, different packs: 20.00 for 20 is 10.00 for 10 when K_p = 2
    group("药4", ("N9", {"挂网价格": "10.00"}), ("N3", {"转换比": "20", "挂网价格": "20.00"}))
    # same spec: 10,000.0001 / 1000 is cheaper than 9,990.0001 / 999 by 1e-11 (float noise)
    group(
        "药5",
        ("F9", {"转换比": "1000", "挂网价格": "10000.0001"}),
        ("F1", {"转换比": "999", "挂网价格": "9990.0001"}),
    )
    # a single benchmark, and a single one priced to 5 decimals (not comparable in 1/10000 yuan integers)
    group("药6", ("O1", {"挂网价格": "10.00"}))
    group("药7", ("O2", {"挂网价格": "10.00001"}))
    return rows


def test_clear_winners_and_same_spec_ties_are_settled_without_exact_ordering(exact_calls):
    got = _benchmarks(_clear_and_same_spec_groups(), UNEVALUATED)
    assert got == {
        "药1-T": "P1",
        "药2-T": "C9",
        "药3-T": "S2",
        "药4-T": "N3",
        "药5-T": "F9",
        "药6-T": "O1",
        "药7-T": "O2",
    }
    assert exact_calls == []


def test_same_spec_same_pack_ties_need_no_exact_ordering_whatever_the_pack_coefficient(exact_calls):
    # K_p = 1.95 only matters between packs: ties inside one pack size are still settled by code
    rows = [r for r in _clear_and_same_spec_groups() if r["通用名"] not in ("药4", "药5")]
    got = _benchmarks(rows, UNEVALUATED, k_pack="1.95")
    assert got == {"药1-T": "P1", "药2-T": "C9", "药3-T": "S2", "药6-T": "O1", "药7-T": "O2"}
    assert exact_calls == []


def test_near_ties_of_different_specs_or_packs_go_to_exact_ordering_with_only_the_near_rows(exact_calls):
    rows = [
        # 17.00 for 20mg is exactly 10.00 for 10mg; D (15.00) is clearly dearer and stays out
        listing("A", 质量层次="未过评", 挂网价格="99"),
        listing("B9", 生产企业="乙", 挂网价格="10.00"),
        listing("B1", 生产企业="丙", 规格="20mg", 挂网价格="17.00"),
        listing("D", 生产企业="丁", 挂网价格="15.00"),
        # with K_p = 1.95, 19.50 for 20 is exactly 10.00 for 10
        listing("E", 通用名="药2", 质量层次="未过评", 挂网价格="99"),
        listing("E9", 通用名="药2", 生产企业="乙", 挂网价格="10.00"),
        listing("E1", 通用名="药2", 生产企业="丙", 转换比="20", 挂网价格="19.50"),
    ]
    assert _benchmarks(rows, UNEVALUATED, k_pack="1.95") == {"A": "B1", "E": "E1"}
    assert sorted(exact_calls) == [["B1", "B9"], ["E1", "E9"]]


def test_a_benchmark_dearer_by_one_and_a_half_parts_per_billion_is_not_a_near_tie(exact_calls):
    # floats are exact to ~1e-16; the near-tie tolerance is 1e-9 (module docstring). 17,000,000.0255
    # for 20mg is 10,000,000.0000 × (1 + 1.5e-9) as 10mg: clearly dearer, no exact ordering needed
    rows = [
        listing("A", 质量层次="未过评", 挂网价格="99999999"),
        listing("B9", 生产企业="乙", 挂网价格="10000000.0000"),
        listing("B1", 生产企业="丙", 规格="20mg", 挂网价格="17000000.0255"),
    ]
    assert _benchmarks(rows, UNEVALUATED) == {"A": "B9"}
    assert exact_calls == []
    # at 0.5 parts per billion it is a near tie: ordered exactly (B9 is still the cheaper)
    rows[2] = listing("B1", 生产企业="丙", 规格="20mg", 挂网价格="17000000.0085")
    assert _benchmarks(rows, UNEVALUATED) == {"A": "B9"}
    assert exact_calls == [["B1", "B9"]]


# ---- sibling_pairs (SAME_MAKER_SPEC): the two lowest (规格, 转换比) keys of each maker's set


def test_sibling_sets_with_clearly_ordered_keys_need_no_exact_ordering(exact_calls):
    rows = [
        # maker 甲: three keys at 0.90, 1.00 and 1.10 per unit
        listing("J1", 转换比="10", 挂网价格="9.00"),
        listing("J2", 转换比="20", 挂网价格="20.00"),
        listing("J3", 转换比="30", 挂网价格="33.00"),
        listing("J4", 转换比="30", 挂网价格="34.00"),
        # maker 乙: one key only — no benchmark
        listing("Y1", 生产企业="乙", 挂网价格="10.00"),
        listing("Y2", 生产企业="乙", 挂网价格="11.00"),
        # maker 丙: two keys, 1.00 and 1.10 per unit
        listing("B1", 生产企业="丙", 挂网价格="10.00"),
        listing("B2", 生产企业="丙", 转换比="20", 挂网价格="22.00"),
    ]
    got = _benchmarks(rows, SAME_MAKER)
    assert got == {"J1": "J2", "J2": "J1", "J3": "J1", "J4": "J1", "B1": "B2", "B2": "B1"}
    assert exact_calls == []


def test_sibling_keys_tied_with_the_second_lowest_are_ordered_exactly(exact_calls):
    rows = [
        # maker 丁: (10mg,10) and (10mg,20) tie at 1.00 per unit, (10mg,30) is dearer — D5 takes D1
        listing("D9", 转换比="10", 挂网价格="10.00"),
        listing("D1", 转换比="20", 挂网价格="20.00"),
        listing("D5", 转换比="30", 挂网价格="33.00"),
        # maker 戊: (10mg,10) is cheapest, (10mg,20) and (10mg,30) tie for second — E5 takes E1
        listing("E5", 生产企业="戊", 转换比="10", 挂网价格="9.00"),
        listing("E9", 生产企业="戊", 转换比="20", 挂网价格="20.00"),
        listing("E1", 生产企业="戊", 转换比="30", 挂网价格="30.00"),
        listing("E7", 生产企业="戊", 转换比="40", 挂网价格="44.00"),
    ]
    got = _benchmarks(rows, SAME_MAKER)
    assert got == {"D9": "D1", "D1": "D9", "D5": "D1", "E5": "E1", "E9": "E5", "E1": "E5", "E7": "E5"}
    assert sorted(exact_calls) == [["D1", "D9"], ["E1", "E5", "E9"]]


# ---- the per-frame column lists


def test_columns_are_built_once_per_frame_and_forgotten_with_it():
    def frame(price):
        params = RuleParams.from_dict({})
        rows = [listing("A", 质量层次="未过评", 挂网价格=price), listing("B", 挂网价格="10.00")]
        return prepare(listings_from_raw(rows, params), params)

    first, second = frame("12.00"), frame("13.00")
    cols = benchmark._columns(first)
    assert benchmark._columns(first) is cols  # the exact steps of all rules share one build
    other = benchmark._columns(second)
    assert other is not cols
    assert (cols.price[0], other.price[0]) == (first["price"][0], second["price"][0])
    key = id(first)
    del first, cols
    assert key not in benchmark._COLUMNS  # a national catalogue's lists are not kept after the run
    # frames made and dropped one after the other (their ids are reused) never see stale lists
    for price in ("12.00", "14.00", "16.00"):
        df = frame(price)
        assert benchmark._columns(df).price == df["price"].tolist()
        del df


def test_columns_refuse_a_frame_whose_labels_are_not_positions():
    # the exact steps read rows by label as list positions: a sliced frame would read wrong rows
    params = RuleParams.from_dict({})
    rows = [listing(f"B{i}", 挂网价格=f"{10 + i}.00") for i in range(4)]
    df = prepare(listings_from_raw(rows, params), params)
    assert benchmark.Columns(df).code == ["B0", "B1", "B2", "B3"]
    for sliced in (df.iloc[1:], df.iloc[::2]):
        with pytest.raises(AssertionError):
            benchmark.Columns(sliced)


# ---- the float pre-filter: exact evaluation only for the pairs that may be flagged

# target and benchmark of one comparison class (benchmark 10.00 for 10 of 10mg / 10ml), by kind
KINDS = {
    "identical": ({}, {}, {}),
    "content": ({"规格": "20mg"}, {}, {}),
    "volume (irrational factor)": ({"剂型": "口服液", "规格": "15ml"}, {"剂型": "口服液", "规格": "10ml"}, {}),
    "pack, K_p = 1.95": ({"转换比": "30"}, {}, {"k_pack": "1.95"}),
    "content and pack, K_p = 1.95": ({"规格": "20mg", "转换比": "20"}, {}, {"k_pack": "1.95"}),
}
# tolerances the pre-filter decides in exact integers (whole 1/10000 yuan absolute, any relative), and
# absolute ones below 1/10000 yuan, which it can only bound with floats
EXACT_TOLERANCES = [
    {},
    {"tolerance_abs": "0.10"},
    {"tolerance_rel": "0.01"},
    {"tolerance_abs": "0.10", "tolerance_rel": "0.01"},
    {"tolerance_rel": "0.000001"},
]
FLOAT_TOLERANCES = [
    {"tolerance_abs": "0.10005"},
    {"tolerance_rel": "0.0100001"},
    {"tolerance_abs": "0.10005", "tolerance_rel": "0.0100001"},
]
E4 = Decimal("0.0001")


def _kept_and_flagged(kind, tolerances, prices):
    """possibly_flagged and the exact flag of one target per price against the kind's benchmark."""
    target_kw, bench_kw, params_kw = KINDS[kind]
    params = RuleParams.from_dict({"rules_enabled": [UNEVALUATED], **params_kw, **tolerances})
    rows = [listing("B", **bench_kw)]
    rows += [listing(f"T{i}", 质量层次="未过评", 挂网价格=str(p), **target_kw) for i, p in enumerate(prices)]
    df = prepare(listings_from_raw(rows, params), params)
    pairs = pd.DataFrame({"target": np.arange(1, len(rows)), "bench": np.zeros(len(rows) - 1, dtype=np.int64)})
    kept = benchmark.possibly_flagged(df, pairs, params).tolist()
    flagged = {df["code"][f.target]: f.evaluation for f in run_rules(df, None, params).itertuples()}
    return kept, [flagged.get(f"T{i}") for i in range(len(prices))]


def _threshold(kind, tolerances) -> Decimal:
    """The exact limit + tolerances of the kind (from the exact decision of a far dearer target)."""
    _kept, [ev] = _kept_and_flagged(kind, tolerances, [Decimal("9999")])
    params = RuleParams.from_dict(tolerances)
    return ev.limit * (1 + params.tolerance_rel) + params.tolerance_abs


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("tolerances", EXACT_TOLERANCES + FLOAT_TOLERANCES, ids=str)
def test_pre_filter_drops_targets_clearly_below_the_threshold_for_every_kind(kind, tolerances):
    threshold = _threshold(kind, tolerances)
    above = threshold.quantize(E4, rounding="ROUND_FLOOR") + E4  # the cheapest 4-decimal breach
    below = [
        (threshold * Decimal("0.99")).quantize(E4, rounding="ROUND_FLOOR"),  # 1 % below
        (threshold - Decimal("0.03")).quantize(E4, rounding="ROUND_FLOOR"),  # 3 cents below
        (threshold - Decimal("0.011")).quantize(E4, rounding="ROUND_FLOOR"),  # over a cent below
    ]
    kept, evaluations = _kept_and_flagged(kind, tolerances, [*below, above])
    assert kept == [False, False, False, True]
    assert [ev is not None for ev in evaluations] == [False, False, False, True]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("tolerances", EXACT_TOLERANCES, ids=str)
def test_pre_filter_with_exact_tolerances_drops_even_a_fraction_of_a_cent_below(kind, tolerances):
    # whole 1/10000 yuan and rational tolerances (denominator ≤ 10^6) are compared in exact integers:
    # a target at the threshold or a few 1/10000 yuan below needs no exact evaluation
    threshold = _threshold(kind, tolerances)
    prices = [threshold - Decimal("0.003"), threshold - Decimal("0.0001"), threshold]
    prices = [p.quantize(E4, rounding="ROUND_FLOOR") for p in prices]
    kept, evaluations = _kept_and_flagged(kind, tolerances, prices)
    assert kept == [False, False, False]
    assert evaluations == [None, None, None]


def test_float_fallback_drops_a_target_two_cents_below_a_ten_million_yuan_limit():
    # the float margin is 1e-9 of the limit (1 cent here) plus half a cent: two cents below is clear
    rows = [
        listing("B", 挂网价格="10000000.00"),
        listing("T1", 质量层次="未过评", 挂网价格="9999999.98"),
        listing("T2", 质量层次="未过评", 挂网价格="10000000.0001"),
    ]
    params = RuleParams.from_dict({"tolerance_abs": "0.00005"})
    df = prepare(listings_from_raw(rows, params), params)
    pairs = pd.DataFrame({"target": [1, 2], "bench": [0, 0]})
    assert benchmark.possibly_flagged(df, pairs, params).tolist() == [False, True]


def test_a_breach_of_a_ninety_million_yuan_limit_with_a_fine_relative_tolerance_is_kept():
    # tolerance 1e-7 (denominator 10^7): the threshold is 92,233,700.00 × (1 + 1e-7) = 92,233,709.2234.
    # In integers the target side would be 922,337,203,700 × 10^7 > 2^63 (it would wrap round while the
    # limit side does not), so the float bound decides — and keeps the 11-yuan breach
    rows = [
        listing("B", 挂网价格="92233700.00"),
        listing("T1", 质量层次="未过评", 挂网价格="92233720.37"),
        listing("T2", 质量层次="未过评", 挂网价格="92233709.00"),
    ]
    got = flags(rows, tolerance_rel="0.0000001")
    assert set(got) == {("T1", UNEVALUATED)}
    assert got[("T1", UNEVALUATED)]["limit"] == Decimal("92233700.00")


@pytest.mark.parametrize(
    ("limit", "breach", "below", "rel"),
    [
        # the limit side leaves int64: 92,233,600,000 cents × 100 × (10^6 + 1) > 2^63
        ("922336000.00", "922337300.00", "922336900.00", "0.000001"),
        # the target side leaves int64 (5·10^13 × 10^6) while the limit side fits
        ("100000000.00", "5000000000.00", "100000099.99", "0.000001"),
    ],
)
def test_breaches_of_huge_prices_with_a_six_decimal_tolerance_are_flagged(limit, breach, below, rel):
    # a six-decimal relative tolerance is compared in integers; where those integers would leave int64
    # the row stays a candidate and the exact evaluation decides (a wrapped comparison dropped the breach)
    rows = [
        listing("B", 挂网价格=limit),
        listing("T1", 质量层次="未过评", 挂网价格=breach),
        listing("T2", 质量层次="未过评", 挂网价格=below),
    ]
    got = flags(rows, tolerance_rel=rel)
    assert set(got) == {("T1", UNEVALUATED)}
    assert got[("T1", UNEVALUATED)]["limit"] == Decimal(limit)


# ---- exact ordering itself


def _bench(rows, **changes) -> str:
    return flags(rows, **changes)[("A", UNEVALUATED)]["bench"]


def _two(x, y, target="10mg"):
    """Target A and two benchmarks (code, 规格, 转换比, 挂网价格) of one comparison class."""
    rows = [listing("A", 质量层次="未过评", 规格=target, 转换比="1", 挂网价格="99999999")]
    for maker, (code, spec, n, price) in zip(("乙", "丙"), (x, y), strict=True):
        rows.append(listing(code, 生产企业=maker, 规格=spec, 转换比=n, 挂网价格=price))
    return rows


def test_a_pack_coefficient_of_three_converts_packs_in_exact_ordering():
    # K_p = 3: 30.00 for 2 is 15.00 per unit × 1.5^-1 = 10.00 for 1 — an exact tie, the smaller code wins
    assert _bench(_two(("B9", "10mg", "1", "10.00"), ("B1", "10mg", "2", "30.00")), k_pack="3") == "B1"
    # 3 units as 1: × 1.5^-log2(3) / 3 (irrational) — 5,704,522.4946 is 999,999.99998…, 1e-11 below B1
    low, high = "5704522.4946", "5704522.4947"
    assert _bench(_two(("B1", "10mg", "1", "1000000.0000"), ("B9", "10mg", "3", low)), k_pack="3") == "B9"
    assert _bench(_two(("B1", "10mg", "1", "1000000.0000"), ("B9", "10mg", "3", high)), k_pack="3") == "B1"


def test_exact_ordering_stays_exact_beyond_the_precision_of_floats():
    # K_p = 1.95, 40mg × 8 against 10mg × 1: over the common denominator 137,145,528 the two values
    # are 137,253,037,888,000,008 (B1) and …000 (B9): B9 is cheaper by 8, while floats there are 16 apart
    rows = _two(("B1", "10mg", "1", "100078.3911"), ("B9", "40mg", "8", "2144578.7170"))
    assert _bench(rows, k_pack="1.95") == "B9"


def test_rational_conversions_are_ordered_in_integer_arithmetic(monkeypatch):
    # _rational_value compares integer numerators; only irrational factors need Fraction / Decimal
    slow: list[str] = []
    real = benchmark._exact_value

    def spy(cols, b, ref, params):
        slow.append(cols.code[b])
        return real(cols, b, ref, params)

    monkeypatch.setattr(benchmark, "_exact_value", spy)
    # exact ties: content × 1.7, pack K_p = 1.95 (× 39/40), both — settled by code
    assert _bench(_two(("B9", "10mg", "1", "10.00"), ("B1", "20mg", "1", "17.00"))) == "B1"
    assert _bench(_two(("B9", "10mg", "1", "10.00"), ("B1", "10mg", "2", "19.50")), k_pack="1.95") == "B1"
    assert _bench(_two(("B9", "10mg", "1", "10.00"), ("B1", "20mg", "2", "33.15")), k_pack="1.95") == "B1"
    assert slow == []
    # 15mg as 10mg is × 1.7^-log2(1.5): irrational, ordered in 40-digit decimals
    assert _bench(_two(("B1", "10mg", "1", "1000000.0000"), ("B9", "15mg", "1", "1363967.3588"))) == "B9"
    assert sorted(slow) == ["B1", "B9"]


def test_an_irrational_conversion_factor_is_computed_once_not_once_per_group(monkeypatch):
    # 15mg as 10mg (1.7^-log2(1.5)) is a 40-digit exp/log: cached per distinct spec pair
    computed: list[tuple] = []
    real = benchmark.conversion_term

    def spy(k, x):
        computed.append((k, x))
        return real(k, x)

    monkeypatch.setattr(benchmark, "conversion_term", spy)
    rows = []
    for name in ("药1", "药2", "药3"):
        rows += [
            listing(f"{name}A", 通用名=name, 质量层次="未过评", 转换比="1", 挂网价格="9999999"),
            listing(f"{name}B1", 通用名=name, 生产企业="乙", 转换比="1", 挂网价格="1000000.0000"),
            listing(f"{name}B9", 通用名=name, 生产企业="丙", 规格="15mg", 转换比="1", 挂网价格="1363967.3588"),
        ]
    got = flags(rows)
    assert {t: f["bench"] for (t, _rule), f in got.items()} == {"药1A": "药1B9", "药2A": "药2B9", "药3A": "药3B9"}
    assert len(computed) <= 1  # once (or not at all, when an earlier test already computed it)
