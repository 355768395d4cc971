"""Every branch of the benchmark chooser (比价药品, RULES.md §4, §7) and of the float pre-filter.

The benchmark is the comparable listing with the lowest converted unit price, ties by the smallest
挂网编号 — decided exactly even where floats cannot tell (near ties, K_p ≠ 2, irrational factors).
Same-maker targets never take their own (规格, 转换比) as benchmark. The float pre-filter may only
skip rows that are certainly not flagged: with tolerances it cannot express exactly, with prices of
more than 4 decimals and at half cents the exact decision still runs.
"""

from decimal import Decimal

import numpy as np
import pandas as pd

from pricing.engine.benchmark import possibly_flagged
from pricing.engine.frame import listings_from_raw, prepare
from pricing.engine.ruleset import RuleParams
from tests.pricing.test_rule_branches import flags, listing

UNEVALUATED = "TIER_UNEVALUATED"
SAME_MAKER = "SAME_MAKER_SPEC"


def test_tie_across_pack_sizes_with_pack_coefficient_is_exact_and_by_code():
    # K_p = 1.95: 19.50 for 20 is worth 19.50 × 0.975^-1 / 2 = 10.00 for 10 — an exact tie with B9
    rows = [
        listing("A", 质量层次="未过评", 转换比="10", 挂网价格="12.00"),
        listing("B9", 生产企业="乙", 转换比="10", 挂网价格="10.00"),
        listing("B1", 生产企业="丙", 转换比="20", 挂网价格="19.50"),
    ]
    got = flags(rows, k_pack="1.95")
    assert got[("A", UNEVALUATED)]["bench"] == "B1"
    assert got[("A", UNEVALUATED)]["limit"] == Decimal("10.00")
    assert got[("A", UNEVALUATED)]["ratio"] == Decimal("1.2000")
    # with K_p = 2 the 20-pack is dearer per unit (0.975/unit): B1 is then clearly the cheapest
    got = flags(rows)
    assert got[("A", UNEVALUATED)]["bench"] == "B1"
    assert got[("A", UNEVALUATED)]["limit"] == Decimal("9.75")


def test_pack_coefficient_decides_which_pack_is_cheaper():
    # K_p = 1.95: the 20-pack at 19.60 is worth 10.05 for 10 → the 10-pack (10.00) is the benchmark
    rows = [
        listing("A", 质量层次="未过评", 转换比="10", 挂网价格="12.00"),
        listing("B9", 生产企业="乙", 转换比="10", 挂网价格="10.00"),
        listing("B1", 生产企业="丙", 转换比="20", 挂网价格="19.60"),
    ]
    got = flags(rows, k_pack="1.95")
    assert got[("A", UNEVALUATED)]["bench"] == "B9"
    assert got[("A", UNEVALUATED)]["limit"] == Decimal("10.00")
    # with K_p = 2 the 20-pack is cheaper per unit (0.98)
    assert flags(rows)[("A", UNEVALUATED)]["bench"] == "B1"


def test_near_tie_within_float_noise_goes_to_the_truly_cheaper_listing():
    # unit prices 10.0000001 (B9) and 10.0000001001… (B1): 1e-11 apart, below the float tolerance —
    # the exact comparison picks B9 although its code is larger
    rows = [
        listing("A", 质量层次="未过评", 转换比="1000", 挂网价格="10001.00"),
        listing("B9", 生产企业="乙", 转换比="1000", 挂网价格="10000.0001"),
        listing("B1", 生产企业="丙", 转换比="999", 挂网价格="9990.0001"),
    ]
    got = flags(rows)
    assert got[("A", UNEVALUATED)]["bench"] == "B9"
    assert got[("A", UNEVALUATED)]["limit"] == Decimal("10000.00")


def test_near_tie_with_an_irrational_content_factor():
    # B9 (15mg) converted to 10mg is 999,999.99994…; B1 (10mg) is 1,000,000.0000: B9 is cheaper
    rows = [
        listing("A", 质量层次="未过评", 转换比="1", 挂网价格="1000001.00"),
        listing("B1", 生产企业="乙", 转换比="1", 挂网价格="1000000.0000"),
        listing("B9", 生产企业="丙", 规格="15mg", 转换比="1", 挂网价格="1363967.3588"),
    ]
    got = flags(rows)
    assert got[("A", UNEVALUATED)]["bench"] == "B9"
    assert got[("A", UNEVALUATED)]["kind"] == "content"
    assert got[("A", UNEVALUATED)]["limit"] == Decimal("1000000.00")
    # priced one ten-thousandth higher, B9 converts to 1,000,000.00002…: B1 is cheaper
    rows[2] = listing("B9", 生产企业="丙", 规格="15mg", 转换比="1", 挂网价格="1363967.3589")
    assert flags(rows)[("A", UNEVALUATED)]["bench"] == "B1"


def test_three_way_exact_tie_takes_the_smallest_code():
    rows = [
        listing("A", 质量层次="未过评", 转换比="10", 挂网价格="12.00"),
        listing("B3", 生产企业="乙", 转换比="10", 挂网价格="10.00"),
        listing("B2", 生产企业="丙", 转换比="30", 挂网价格="30.00"),
        listing("B7", 生产企业="丁", 转换比="20", 挂网价格="20.00"),
    ]
    assert flags(rows)[("A", UNEVALUATED)]["bench"] == "B2"


def test_same_maker_never_takes_its_own_spec_and_pack_on_a_tie():
    # keys of maker 甲: (10mg, 10) = S2 10.00 and S4 10.50; (10mg, 20) = S1 20.00; (10mg, 30) = S3 33.00
    # (10mg, 10) and (10mg, 20) tie at 1.00/unit; the tie goes to S1's key (smaller code)
    rows = [
        listing("S2", 转换比="10", 挂网价格="10.00"),
        listing("S4", 转换比="10", 挂网价格="10.50"),
        listing("S1", 转换比="20", 挂网价格="20.00"),
        listing("S3", 转换比="30", 挂网价格="33.00"),
    ]
    got = flags(rows)
    assert set(got) == {("S4", SAME_MAKER), ("S3", SAME_MAKER)}
    assert (got[("S4", SAME_MAKER)]["bench"], got[("S4", SAME_MAKER)]["limit"]) == ("S1", Decimal("10.00"))
    assert (got[("S3", SAME_MAKER)]["bench"], got[("S3", SAME_MAKER)]["limit"]) == ("S1", Decimal("30.00"))


def test_same_maker_tie_the_other_way_round():
    # now the (10mg, 10) key holds the smaller code: S1's own key is first, it is compared with S2's
    rows = [
        listing("S1", 转换比="10", 挂网价格="10.00"),
        listing("S4", 转换比="10", 挂网价格="10.50"),
        listing("S2", 转换比="20", 挂网价格="20.00"),
        listing("S3", 转换比="30", 挂网价格="33.00"),
    ]
    got = flags(rows)
    assert set(got) == {("S4", SAME_MAKER), ("S3", SAME_MAKER)}
    assert got[("S4", SAME_MAKER)]["bench"] == "S2"
    assert got[("S3", SAME_MAKER)]["bench"] == "S1"


def test_same_maker_tie_with_pack_coefficient():
    # K_p = 1.95: 19.50 for 20 ties with 10.00 for 10; S4 (10.50 for 10) is compared with S1's key
    rows = [
        listing("S2", 转换比="10", 挂网价格="10.00"),
        listing("S4", 转换比="10", 挂网价格="10.50"),
        listing("S1", 转换比="20", 挂网价格="19.50"),
        listing("S3", 转换比="40", 挂网价格="40.00"),
    ]
    got = flags(rows, k_pack="1.95")
    # S3: 19.50 × 0.975 × 2 = 38.03 (half-up of 38.025)
    assert got[("S4", SAME_MAKER)]["bench"] == "S1"
    assert got[("S4", SAME_MAKER)]["limit"] == Decimal("10.00")
    assert got[("S3", SAME_MAKER)]["bench"] == "S1"
    assert got[("S3", SAME_MAKER)]["limit"] == Decimal("38.03")
    assert set(got) == {("S4", SAME_MAKER), ("S3", SAME_MAKER)}


def test_same_maker_three_keys_tied():
    rows = [
        listing("S3", 转换比="10", 挂网价格="10.00"),
        listing("S1", 转换比="20", 挂网价格="20.00"),
        listing("S2", 转换比="30", 挂网价格="30.00"),
        listing("S9", 转换比="30", 挂网价格="31.00"),
    ]
    got = flags(rows)
    assert set(got) == {("S9", SAME_MAKER)}
    assert got[("S9", SAME_MAKER)]["bench"] == "S1"


def test_same_maker_clear_order_uses_the_second_key_for_the_cheapest():
    rows = [
        listing("S1", 转换比="10", 挂网价格="9.00"),
        listing("S2", 转换比="20", 挂网价格="20.00"),
        listing("S3", 转换比="30", 挂网价格="36.00"),
    ]
    got = flags(rows)
    assert set(got) == {("S2", SAME_MAKER), ("S3", SAME_MAKER)}
    assert (got[("S2", SAME_MAKER)]["bench"], got[("S2", SAME_MAKER)]["limit"]) == ("S1", Decimal("18.00"))
    assert (got[("S3", SAME_MAKER)]["bench"], got[("S3", SAME_MAKER)]["limit"]) == ("S1", Decimal("27.00"))


def test_same_maker_needs_a_second_key():
    # one (规格, 转换比) only: listings of the same key are never each other's benchmark
    rows = [listing("S1", 挂网价格="10.00"), listing("S2", 挂网价格="12.00")]
    assert flags(rows) == {}


def test_kinds_and_units_of_the_explanation():
    rows = [
        listing("A", 质量层次="未过评", 规格="20mg", 挂网价格="40"),
        listing("B", 规格="10mg", 挂网价格="20"),
        listing("C", 剂型="口服液", 规格="20ml", 质量层次="未过评", 挂网价格="40"),
        listing("D", 剂型="口服液", 规格="10ml", 挂网价格="20"),
        listing("E", 剂型="注射剂", 规格="2ml:10mg", 质量层次="未过评", 挂网价格="20"),
        listing("F", 剂型="注射剂", 规格="2ml:10mg", 挂网价格="10"),
        listing("G", 剂型="颗粒剂", 规格="复方", 质量层次="未过评", 挂网价格="20"),
        listing("H", 剂型="颗粒剂", 规格="复方", 挂网价格="10"),
    ]
    params = RuleParams.from_dict({})
    df = prepare(listings_from_raw(rows, params), params)
    from pricing.engine.rules import run_rules

    out = {
        df.loc[f.target, "code"]: (f.evaluation.factors["kind"], f.evaluation.factors["unit"], f.evaluation.limit)
        for f in run_rules(df, None, params).itertuples()
        if f.rule_code == UNEVALUATED
    }
    assert out == {
        "A": ("content", "mg", Decimal("34.00")),
        "C": ("volume", "ml", Decimal("38.00")),
        "E": ("identical", "", Decimal("10.00")),
        "G": ("identical", "", Decimal("10.00")),
    }


def test_tolerance_the_pre_filter_cannot_express_exactly_still_flags_exactly():
    # 0.00005 yuan is not a whole number of 1/10000 yuan: the float pre-filter takes over
    rows = [
        listing("A", 质量层次="未过评", 挂网价格="10.0001"),
        listing("A2", 质量层次="未过评", 生产企业="乙", 挂网价格="10.00005"),
        listing("B", 生产企业="丙", 挂网价格="10.00"),
    ]
    got = flags(rows, tolerance_abs="0.00005")
    assert set(got) == {("A", UNEVALUATED)}
    assert got[("A", UNEVALUATED)]["limit"] == Decimal("10.00")
    # relative tolerance 1e-7 (denominator above 10^6): 10.00 × (1 + 1e-7) = 10.000001
    rows = [
        listing("A", 质量层次="未过评", 挂网价格="10.0001"),
        listing("A2", 质量层次="未过评", 生产企业="乙", 挂网价格="10.000001"),
        listing("B", 生产企业="丙", 挂网价格="10.00"),
    ]
    assert set(flags(rows, tolerance_rel="0.0000001")) == {("A", UNEVALUATED)}


def test_float_fallback_with_both_tolerances():
    rows = [
        listing("A", 质量层次="未过评", 挂网价格="110.51"),
        listing("A2", 质量层次="未过评", 生产企业="乙", 挂网价格="110.50005"),
        listing("B", 生产企业="丙", 挂网价格="100.00"),
    ]
    # 100.00 × 1.1 + 0.50005 = 110.50005
    assert set(flags(rows, tolerance_abs="0.50005", tolerance_rel="0.1")) == {("A", UNEVALUATED)}


def test_prices_with_more_than_four_decimals_are_decided_exactly():
    rows = [
        listing("A", 质量层次="未过评", 挂网价格="10.00001"),
        listing("A2", 质量层次="未过评", 生产企业="乙", 挂网价格="9.99999"),
        listing("B", 生产企业="丙", 挂网价格="10.00"),
    ]
    got = flags(rows)
    assert set(got) == {("A", UNEVALUATED)}
    assert got[("A", UNEVALUATED)]["ratio"] == Decimal("1.0000")


def test_benchmark_price_with_more_than_four_decimals():
    rows = [
        listing("A", 质量层次="未过评", 挂网价格="10.01"),
        listing("B", 生产企业="乙", 挂网价格="10.00001"),
        listing("C", 生产企业="丙", 挂网价格="10.00002"),
    ]
    got = flags(rows)
    assert got[("A", UNEVALUATED)]["bench"] == "B"
    assert got[("A", UNEVALUATED)]["limit"] == Decimal("10.00")


def test_half_cent_limit_is_decided_exactly():
    # bench 0.25 for 2 → 0.125 per unit: the limit for 1 unit is exactly half a cent above 0.12
    rows = [
        listing("A", 质量层次="未过评", 转换比="1", 挂网价格="0.13"),
        listing("A2", 质量层次="未过评", 生产企业="乙", 转换比="1", 挂网价格="0.1301"),
        listing("B", 生产企业="丙", 转换比="2", 挂网价格="0.25"),
    ]
    got = flags(rows)
    assert set(got) == {("A2", UNEVALUATED)}
    assert got[("A2", UNEVALUATED)]["limit"] == Decimal("0.13")


def _prefilter(rows, pairs, **changes):
    params = RuleParams.from_dict(changes)
    df = prepare(listings_from_raw(rows, params), params)
    code = {c: i for i, c in enumerate(df["code"])}
    frame = pd.DataFrame({"target": [code[t] for t, _b in pairs], "bench": [code[b] for _t, b in pairs]})
    return possibly_flagged(df, frame, params).tolist()


def test_pre_filter_skips_only_rows_certainly_not_flagged():
    rows = [
        listing("B", 挂网价格="10.00"),
        listing("LOW", 质量层次="未过评", 挂网价格="9.00"),
        listing("EQ", 质量层次="未过评", 挂网价格="10.00"),
        listing("HI", 质量层次="未过评", 挂网价格="10.0001"),
        listing("X", 质量层次="未过评", 挂网价格="10.00001"),
    ]
    pairs = [("LOW", "B"), ("EQ", "B"), ("HI", "B"), ("X", "B")]
    assert _prefilter(rows, pairs) == [False, False, True, True]
    # relative tolerance 1 %: 10.10 is the threshold
    rows += [listing("R1", 质量层次="未过评", 挂网价格="10.10"), listing("R2", 质量层次="未过评", 挂网价格="10.1001")]
    assert _prefilter(rows, [("R1", "B"), ("R2", "B"), ("LOW", "B")], tolerance_rel="0.01") == [False, True, False]
    assert _prefilter(rows, [("R1", "B"), ("R2", "B")], tolerance_abs="0.10") == [False, True]


def test_pre_filter_keeps_half_cent_limits_and_uses_the_float_fallback():
    rows = [
        listing("B", 转换比="2", 挂网价格="0.25"),
        listing("T", 质量层次="未过评", 转换比="1", 挂网价格="0.01"),
        listing("B2", 挂网价格="10.00"),
        listing("LOW", 质量层次="未过评", 挂网价格="9.00"),
        listing("HI", 质量层次="未过评", 挂网价格="10.0001"),
    ]
    # limit 0.125 exactly: ambiguous in floats, kept for the exact decision even though far below
    assert _prefilter(rows, [("T", "B")]) == [True]
    # float fallback (tolerance 0.00005): a clearly cheaper row is skipped, one just above kept
    assert _prefilter(rows, [("LOW", "B2"), ("HI", "B2")], tolerance_abs="0.00005") == [False, True]
    assert _prefilter(rows, [("LOW", "B2"), ("HI", "B2")], tolerance_rel="0.0000001") == [False, True]


def test_pre_filter_and_exact_decision_agree_on_a_price_grid():
    # every target price from 9.95 to 10.05 by 0.0025 against limits that are and are not half cents
    rows = [listing("B", 转换比="8", 挂网价格="79.96"), listing("C", 转换比="8", 挂网价格="80.00")]
    prices = np.round(np.arange(9.95, 10.05, 0.0025), 4)
    for i, p in enumerate(prices):
        rows.append(listing(f"T{i:03d}", 质量层次="未过评", 转换比="1", 挂网价格=f"{p:.4f}"))
    for kw in ({}, {"tolerance_abs": "0.01"}, {"tolerance_abs": "0.00005"}, {"tolerance_rel": "0.001"}):
        got = flags(rows, **kw)
        flagged = {t for t, _rule in got}
        params = RuleParams.from_dict(kw)
        threshold = Decimal("10.00") * (1 + params.tolerance_rel) + params.tolerance_abs  # 79.96/8 = 9.995 → 10.00
        expected = {f"T{i:03d}" for i, p in enumerate(prices) if Decimal(f"{p:.4f}") > threshold}
        assert flagged == expected, kw


# ---- exact ordering of near-tied benchmarks of different specs or packs (the Python path)


def _bench_of(rows, **changes):
    return flags(rows, **changes)[("A", UNEVALUATED)]["bench"]


def _tied_pair(code_x, code_y, *, spec_x="10mg", spec_y="20mg", n_x=1, n_y=1, p_x, p_y, form="片剂", target="10mg"):
    return [
        listing("A", 质量层次="未过评", 剂型=form, 规格=target, 转换比=str(n_x), 挂网价格="9999999"),
        listing(code_x, 生产企业="乙", 剂型=form, 规格=spec_x, 转换比=str(n_x), 挂网价格=p_x),
        listing(code_y, 生产企业="丙", 剂型=form, 规格=spec_y, 转换比=str(n_y), 挂网价格=p_y),
    ]


def test_exact_tie_across_content_specs_goes_to_the_smaller_code_either_way():
    # 17.00 for 20mg is exactly 10.00 for 10mg converted (× 1.7)
    assert _bench_of(_tied_pair("B1", "B9", p_x="10.00", p_y="17.00")) == "B1"
    assert _bench_of(_tied_pair("B9", "B1", p_x="10.00", p_y="17.00")) == "B1"


def test_exact_tie_across_volume_specs_goes_to_the_smaller_code_either_way():
    kw = {"spec_x": "10ml", "spec_y": "20ml", "form": "口服液", "target": "10ml", "p_x": "10.00", "p_y": "19.00"}
    assert _bench_of(_tied_pair("B1", "B9", **kw)) == "B1"
    assert _bench_of(_tied_pair("B9", "B1", **kw)) == "B1"


def test_exact_tie_across_packs_with_pack_coefficient_goes_to_the_smaller_code_either_way():
    kw = {"spec_y": "10mg", "n_x": 10, "n_y": 20, "p_x": "10.00", "p_y": "19.50"}
    assert _bench_of(_tied_pair("B1", "B9", **kw), k_pack="1.95") == "B1"
    assert _bench_of(_tied_pair("B9", "B1", **kw), k_pack="1.95") == "B1"


def test_exact_ties_with_prices_of_more_than_four_decimals():
    cases = [
        {"p_x": "10.00001", "p_y": "17.000017"},  # content × 1.7
        {"spec_x": "10ml", "spec_y": "20ml", "form": "口服液", "target": "10ml", "p_x": "10.00001", "p_y": "19.000019"},
        {"spec_y": "10mg", "n_x": 10, "n_y": 20, "p_x": "10.00001", "p_y": "19.5000195", "k_pack": "1.95"},
    ]
    for case in cases:
        k_pack = case.pop("k_pack", "2")
        assert _bench_of(_tied_pair("B1", "B9", **case), k_pack=k_pack) == "B1", case
        assert _bench_of(_tied_pair("B9", "B1", **case), k_pack=k_pack) == "B1", case


def test_near_ties_with_prices_of_more_than_four_decimals_are_exact():
    # 999,999.99999 is cheaper than 1,000,000.0000 by 1e-11 relative — below the float tolerance
    same = {"spec_y": "10mg"}
    assert _bench_of(_tied_pair("B1", "B9", p_x="999999.99999", p_y="1000000.0000", **same)) == "B1"
    assert _bench_of(_tied_pair("B1", "B9", p_x="1000000.00001", p_y="1000000.0000", **same)) == "B9"
    two = {"spec_y": "10mg", "n_x": 2, "n_y": 2}
    assert _bench_of(_tied_pair("B1", "B9", p_x="1999999.99998", p_y="2000000.0000", **two)) == "B1"
    assert _bench_of(_tied_pair("B1", "B9", p_x="2000000.00002", p_y="2000000.0000", **two)) == "B9"


def test_near_tie_with_an_irrational_volume_factor():
    # 15ml converted to 10ml with 1.9^log2(1.5) = 1.45566152601…: 1,455,661.5260 is 999,999.99998…
    kw = {"spec_x": "10ml", "spec_y": "15ml", "form": "口服液", "target": "10ml", "p_x": "1000000.0000"}
    assert _bench_of(_tied_pair("B1", "B9", p_y="1455661.5260", **kw)) == "B9"
    assert _bench_of(_tied_pair("B1", "B9", p_y="1455661.5261", **kw)) == "B1"


def test_near_tie_with_an_irrational_pack_factor():
    # K_p = 1.95, 30 units as 10: × 0.975^-log2(3) / 3 — 2,882,000.0427 is 999,999.99998…
    kw = {"spec_y": "10mg", "n_x": 10, "n_y": 30, "p_x": "1000000.0000"}
    assert _bench_of(_tied_pair("B1", "B9", p_y="2882000.0427", **kw), k_pack="1.95") == "B9"
    assert _bench_of(_tied_pair("B1", "B9", p_y="2882000.0428", **kw), k_pack="1.95") == "B1"


def test_reference_flags_name_their_province_and_reference_row():
    from pricing.engine.frame import prepare_references, references_from_raw
    from pricing.engine.rules import run_rules

    params = RuleParams.from_dict({})
    df = prepare(listings_from_raw([listing("A", 挂网价格="12.00")], params), params)
    same = {"通用名": "测试药", "剂型": "片剂", "规格": "10mg", "转换比": "10", "生产企业": "甲"}
    raw = [{"省份": "浙江", **same, "挂网价格": "10.50"}, {"省份": "广东", **same, "挂网价格": "10.00"}]
    refs = prepare_references(references_from_raw(raw), params)
    [flag] = list(run_rules(df, refs, params).itertuples())
    assert (flag.rule_code, flag.province) == ("FOUR_SAME_NATIONAL", "广东")
    assert refs.loc[flag.reference, "province"] == "广东"
    assert flag.evaluation.limit == Decimal("10.00")


def test_exact_ties_in_several_groups_each_get_their_own_benchmark():
    # three groups (generics), each with two identical cheapest benchmarks: settled per group by code
    rows = []
    for g, (big, small) in enumerate((("G1B9", "G1B2"), ("G2B8", "G2B3"), ("G3B7", "G3B1"))):
        name = f"药{g}"
        rows += [
            listing(f"G{g + 1}A", 通用名=name, 质量层次="未过评", 挂网价格="12.00"),
            listing(big, 通用名=name, 生产企业="乙", 挂网价格="10.00"),
            listing(small, 通用名=name, 生产企业="丙", 挂网价格="10.00"),
            listing(f"G{g + 1}C", 通用名=name, 生产企业="丁", 挂网价格="11.00"),
        ]
    got = flags(rows)
    assert {t: f["bench"] for (t, rule), f in got.items() if rule == UNEVALUATED} == {
        "G1A": "G1B2",
        "G2A": "G2B3",
        "G3A": "G3B1",
    }


def test_same_maker_two_keys_a_dearer_row_of_the_cheapest_key_is_compared_with_the_other_key():
    # (10mg, 10) holds S2 at 1.00/unit and S4 at 1.05/unit; (10mg, 20) is S1 at 1.02/unit
    rows = [
        listing("S2", 转换比="10", 挂网价格="10.00"),
        listing("S4", 转换比="10", 挂网价格="10.50"),
        listing("S1", 转换比="20", 挂网价格="20.40"),
    ]
    got = flags(rows)
    assert set(got) == {("S4", SAME_MAKER), ("S1", SAME_MAKER)}
    assert (got[("S4", SAME_MAKER)]["bench"], got[("S4", SAME_MAKER)]["limit"]) == ("S1", Decimal("10.20"))
    assert (got[("S1", SAME_MAKER)]["bench"], got[("S1", SAME_MAKER)]["limit"]) == ("S2", Decimal("20.00"))


def test_same_maker_second_key_tie_is_settled_by_code():
    # (10mg, 10) is clearly cheapest (0.90/unit) but holds a dearer row S6; (10mg, 20) S9 and
    # (10mg, 30) S1 tie at 1.00/unit for second place: S6 is compared with S1 (smaller code)
    rows = [
        listing("S5", 转换比="10", 挂网价格="9.00"),
        listing("S6", 转换比="10", 挂网价格="10.50"),
        listing("S9", 转换比="20", 挂网价格="20.00"),
        listing("S1", 转换比="30", 挂网价格="30.00"),
    ]
    got = flags(rows)
    assert got[("S6", SAME_MAKER)]["bench"] == "S1"
    assert got[("S6", SAME_MAKER)]["limit"] == Decimal("10.00")
    assert got[("S9", SAME_MAKER)]["bench"] == "S5"
    assert got[("S1", SAME_MAKER)]["bench"] == "S5"


def test_same_maker_sets_of_several_makers_and_sizes():
    # maker 甲: one key only (no benchmark); 乙: two keys; 丙: three keys — one frame, per-set results
    rows = [
        listing("J1", 生产企业="甲", 转换比="10", 挂网价格="10.00"),
        listing("J2", 生产企业="甲", 转换比="10", 挂网价格="30.00"),
        listing("Y1", 生产企业="乙", 转换比="10", 挂网价格="10.00"),
        listing("Y2", 生产企业="乙", 转换比="20", 挂网价格="22.00"),
        listing("B1", 生产企业="丙", 转换比="10", 挂网价格="10.00"),
        listing("B2", 生产企业="丙", 转换比="20", 挂网价格="21.00"),
        listing("B3", 生产企业="丙", 转换比="30", 挂网价格="33.00"),
    ]
    got = {t: (f["bench"], f["limit"]) for (t, rule), f in flags(rows).items() if rule == SAME_MAKER}
    assert got == {
        "Y2": ("Y1", Decimal("20.00")),
        "B2": ("B1", Decimal("20.00")),
        "B3": ("B1", Decimal("30.00")),
    }


def test_float_fallback_keeps_a_breach_of_a_ten_million_yuan_limit():
    # with a tolerance the pre-filter cannot express exactly, 0.0001 yuan above a limit of
    # 10,000,000.00 (+ 0.00005) is still a breach: the float margin must not swallow it
    rows = [
        listing("A", 质量层次="未过评", 挂网价格="10000000.0001"),
        listing("A2", 质量层次="未过评", 生产企业="乙", 挂网价格="10000000.00005"),
        listing("B", 生产企业="丙", 挂网价格="10000000.00"),
    ]
    assert set(flags(rows, tolerance_abs="0.00005")) == {("A", UNEVALUATED)}
    assert set(flags(rows, tolerance_rel="0.0000001")) == set()  # + 1.00 yuan


def test_same_maker_dearer_row_of_the_cheapest_key_among_three_clear_keys():
    # (10mg,10) 1.00 and B1X 1.08; (10mg,20) 1.05; (10mg,30) 1.10: B1X is compared with the second key
    rows = [
        listing("B1", 转换比="10", 挂网价格="10.00"),
        listing("B1X", 转换比="10", 挂网价格="10.80"),
        listing("B2", 转换比="20", 挂网价格="21.00"),
        listing("B3", 转换比="30", 挂网价格="33.00"),
    ]
    got = flags(rows)
    assert (got[("B1X", SAME_MAKER)]["bench"], got[("B1X", SAME_MAKER)]["limit"]) == ("B2", Decimal("10.50"))
    assert set(got) == {("B1X", SAME_MAKER), ("B2", SAME_MAKER), ("B3", SAME_MAKER)}


def test_same_maker_tie_in_a_later_set_is_settled_by_code():
    # maker 甲 (cheap, listed first) and maker 乙 whose two cheapest keys tie exactly at 1.00/unit;
    # 乙's (10mg,10) Y9 comes first in the file, its (10mg,20) Y1 has the smaller code: Y3 takes Y1
    rows = [
        listing("J1", 生产企业="甲", 转换比="10", 挂网价格="5.00"),
        listing("J2", 生产企业="甲", 转换比="20", 挂网价格="11.00"),
        listing("Y9", 生产企业="乙", 转换比="10", 挂网价格="10.00"),
        listing("Y1", 生产企业="乙", 转换比="20", 挂网价格="20.00"),
        listing("Y3", 生产企业="乙", 转换比="30", 挂网价格="33.00"),
    ]
    got = flags(rows)
    assert got[("Y3", SAME_MAKER)]["bench"] == "Y1"
    assert got[("J2", SAME_MAKER)]["bench"] == "J1"


def test_one_pair_evaluated_alone_uses_the_rule_set_bands():
    # the round coverage page evaluates single pairs without passing bands: the rule set's apply
    from pricing.engine.benchmark import Columns, evaluate_one

    rows = [listing("A", 质量层次="未过评", 规格="20mg", 挂网价格="40"), listing("B", 规格="10mg", 挂网价格="20")]
    params = RuleParams.from_dict({})
    df = prepare(listings_from_raw(rows, params), params)
    cols = Columns(df)
    a, b = (int(df.index[df["code"] == code][0]) for code in ("A", "B"))
    ev = evaluate_one(cols, a, b, params)
    assert (ev.limit, ev.ratio, ev.flagged) == (Decimal("34.00"), Decimal("1.1765"), True)
    assert ev.severity == flags(rows)[("A", UNEVALUATED)]["severity"]
