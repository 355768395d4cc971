"""Every branch of RULES.md at the pure level: rule functions over hand-made catalogues."""

from decimal import Decimal

from pricing.engine.conversion import round_half_up
from pricing.engine.frame import listings_from_raw, prepare
from pricing.engine.rules import run_rules
from pricing.engine.ruleset import RuleParams

BASE = {
    "医保药品编码": "",
    "通用名": "测试药",
    "剂型": "片剂",
    "规格": "10mg",
    "转换比": "10",
    "生产企业": "甲",
    "质量层次": "过评",
    "是否集采中选": "否",
    "挂网价格": "10.00",
    "挂网状态": "挂网",
}


def listing(code: str, **kw) -> dict:
    return {**BASE, "挂网编号": code, **{k: str(v) for k, v in kw.items()}}


def flags(rows: list[dict], **changes) -> dict[tuple[str, str], dict]:
    params = RuleParams.from_dict(changes)
    df = prepare(listings_from_raw(rows, params), params)
    out = {}
    for f in run_rules(df, None, params).itertuples():
        ev = f.evaluation
        out[(df.loc[f.target, "code"], f.rule_code)] = {
            "bench": df.loc[f.bench, "code"],
            "limit": ev.limit,
            "converted": round_half_up(ev.converted, 4),
            "ratio": ev.ratio,
            "severity": ev.severity,
            "kind": ev.factors["kind"],
        }
    return out


def test_unparsed_specs_compare_only_with_identical_text():
    rows = [
        listing("A", 规格="0.5%", 质量层次="未过评", 挂网价格="20"),
        listing("B", 规格="0.5%", 挂网价格="15"),
        listing("C", 规格="1%", 挂网价格="1"),  # different unparsed text: not comparable
        listing("D", 规格="10mg", 挂网价格="1"),  # parsed: not comparable
    ]
    got = flags(rows)
    assert got == {
        ("A", "TIER_UNEVALUATED"): {
            "bench": "B",
            "limit": Decimal("15.00"),
            "converted": Decimal("1.5000"),
            "ratio": Decimal("1.3333"),
            "severity": "黄",
            "kind": "identical",
        }
    }


def test_inactive_listings_are_neither_target_nor_benchmark():
    rows = [
        listing("A", 质量层次="未过评", 挂网价格="20"),
        listing("B", 挂网价格="15", 挂网状态="暂停"),
        listing("C", 质量层次="未过评", 挂网价格="99", 挂网状态="撤网"),
        listing("D", 挂网价格="18"),
    ]
    got = flags(rows)
    assert set(got) == {("A", "TIER_UNEVALUATED")}
    assert got[("A", "TIER_UNEVALUATED")]["bench"] == "D"


def test_vbp_winners_are_benchmarks_never_targets_unless_option():
    rows = [
        listing("A", 质量层次="未过评", 挂网价格="20", 是否集采中选="是"),
        listing("B", 挂网价格="5", 是否集采中选="是"),
        listing("C", 质量层次="未过评", 挂网价格="6"),
    ]
    got = flags(rows)
    assert set(got) == {("C", "TIER_UNEVALUATED")}
    assert got[("C", "TIER_UNEVALUATED")]["bench"] == "B"
    got = flags(rows, vbp_winners_are_targets=True)
    assert set(got) == {("A", "TIER_UNEVALUATED"), ("C", "TIER_UNEVALUATED")}


def test_exact_price_tie_is_not_flagged():
    # 11.16 for 20 units: in float64 11.16/20 came out one ulp above an equal group minimum (0.558)
    rows = [
        listing("A", 质量层次="未过评", 挂网价格="11.16", 转换比="20"),
        listing("B", 挂网价格="5.58", 转换比="10"),
    ]
    assert flags(rows) == {}


def test_benchmark_tie_broken_by_smallest_code_even_if_float_differs():
    # B9 and B1 have the same converted price exactly (0.558 per unit) but different floats
    rows = [
        listing("A", 质量层次="未过评", 挂网价格="12.00", 转换比="20"),
        listing("B9", 挂网价格="5.58", 转换比="10"),
        listing("B1", 挂网价格="11.16", 转换比="20"),
        listing("B5", 挂网价格="16.74", 转换比="30"),
    ]
    got = flags(rows)
    assert got[("A", "TIER_UNEVALUATED")]["bench"] == "B1"
    assert got[("A", "TIER_UNEVALUATED")]["limit"] == Decimal("11.16")


def test_same_maker_ties_are_exact_across_content_conversions():
    # 20mg at 3.40/unit equals 10mg at 2.00/unit converted (×1.7): an exact tie → smaller code
    rows = [
        listing("T", 规格="20mg", 挂网价格="40", 质量层次="未过评"),
        listing("Z", 规格="10mg", 挂网价格="20"),
        listing("Y", 规格="20mg", 挂网价格="34"),
    ]
    got = flags(rows)
    assert got[("T", "TIER_UNEVALUATED")]["bench"] == "Y"
    assert got[("T", "TIER_UNEVALUATED")]["limit"] == Decimal("34.00")


def test_iu_units_convert_with_wan():
    rows = [
        listing("A", 剂型="注射用无菌粉末", 规格="160万U", 质量层次="未过评", 挂网价格="30", 转换比="10"),
        listing("B", 剂型="粉针剂", 规格="400000IU", 挂网价格="10", 转换比="10"),
        listing("C", 剂型="粉针剂", 规格="10mg", 挂网价格="0.01", 转换比="10"),  # mg family: not comparable
    ]
    got = flags(rows)
    # 1.00/unit × 1.7^log2(4) = 2.89 → limit 28.90
    assert got[("A", "TIER_UNEVALUATED")]["bench"] == "B"
    assert got[("A", "TIER_UNEVALUATED")]["limit"] == Decimal("28.90")
    assert got[("A", "TIER_UNEVALUATED")]["kind"] == "content"


def test_full_width_colon_is_the_same_spec():
    rows = [
        listing("A", 剂型="注射液", 规格="5ml：0.1g", 质量层次="未过评", 挂网价格="30", 转换比="5"),
        listing("B", 剂型="注射剂", 规格="5ml:100mg", 挂网价格="20", 转换比="5"),
    ]
    got = flags(rows)
    assert got[("A", "TIER_UNEVALUATED")]["limit"] == Decimal("20.00")


def test_volume_only_specs_use_k_volume():
    rows = [
        listing("A", 剂型="口服液", 规格="20ml", 质量层次="未过评", 挂网价格="39", 转换比="10"),
        listing("B", 剂型="口服液", 规格="10ml", 挂网价格="20", 转换比="10"),
        listing("C", 剂型="口服液", 规格="10ml:5mg", 挂网价格="1", 转换比="10"),  # has content: not comparable
    ]
    got = flags(rows)
    assert got[("A", "TIER_UNEVALUATED")] == {
        "bench": "B",
        "limit": Decimal("38.00"),
        "converted": Decimal("3.8000"),
        "ratio": Decimal("1.0263"),
        "severity": "黄",
        "kind": "volume",
    }


def test_absolute_and_relative_tolerance():
    rows = [listing("A", 质量层次="未过评", 挂网价格="10.50"), listing("B", 挂网价格="10.00")]
    assert set(flags(rows)) == {("A", "TIER_UNEVALUATED")}
    assert flags(rows, tolerance_abs="0.50") == {}
    assert set(flags(rows, tolerance_abs="0.49")) == {("A", "TIER_UNEVALUATED")}
    assert flags(rows, tolerance_rel="0.05") == {}
    assert set(flags(rows, tolerance_rel="0.049")) == {("A", "TIER_UNEVALUATED")}


def test_half_cent_limits_same_maker():
    rows = [
        listing("P1", 规格="200mg", 转换比="100", 挂网价格="21.25", 质量层次="未过评"),
        listing("P2", 规格="100mg", 转换比="1", 挂网价格="0.13", 质量层次="未过评"),
        listing("P3", 规格="100mg", 转换比="1", 挂网价格="0.14", 质量层次="未过评"),
        listing("Q1", 通用名="另一药", 转换比="14", 挂网价格="15.25"),
        listing("Q2", 通用名="另一药", 转换比="7", 挂网价格="7.63"),
        listing("Q3", 通用名="另一药", 转换比="7", 挂网价格="7.64"),
    ]
    got = flags(rows)
    assert set(got) == {("P3", "SAME_MAKER_SPEC"), ("Q3", "SAME_MAKER_SPEC")}
    assert got[("P3", "SAME_MAKER_SPEC")]["limit"] == Decimal("0.13")
    assert got[("P3", "SAME_MAKER_SPEC")]["bench"] == "P1"  # P2 shares P3's (规格, 转换比)
    assert got[("Q3", "SAME_MAKER_SPEC")]["limit"] == Decimal("7.63")


def test_same_maker_needs_same_tier_class_and_maker():
    rows = [
        listing("A", 转换比="20", 挂网价格="30"),
        listing("B", 转换比="10", 挂网价格="10", 生产企业="乙"),
        listing("C", 转换比="10", 挂网价格="10", 质量层次="原研"),
    ]
    got = flags(rows)
    assert ("A", "SAME_MAKER_SPEC") not in got


def test_tier_evaluated_and_severity_bands():
    rows = [
        listing("A", 质量层次="视同过评", 挂网价格="100"),
        listing("B", 质量层次="原研", 挂网价格="10"),
        listing("C", 质量层次="新药", 挂网价格="1"),  # not a benchmark of 过评
    ]
    got = flags(rows)
    assert got[("A", "TIER_EVALUATED")]["bench"] == "B"
    assert got[("A", "TIER_EVALUATED")]["severity"] == "红★★★"


def test_disabled_rules_raise_nothing():
    rows = [listing("A", 质量层次="未过评", 挂网价格="20"), listing("B", 挂网价格="10")]
    assert flags(rows, rules_enabled=["TIER_EVALUATED"]) == {}


def test_pack_coefficient_option_changes_the_limit():
    rows = [listing("A", 转换比="20", 挂网价格="19.80"), listing("B", 转换比="10", 挂网价格="10.00")]
    # K_p = 2: A's limit is 10.00 × 20/10 = 20.00 (not flagged); B's is 19.80 × 10/20 = 9.90
    assert set(flags(rows)) == {("B", "SAME_MAKER_SPEC")}
    # K_p = 1.95: A's limit is 10.00 × 0.975 × 2 = 19.50; B's is 19.80 / 0.975 / 2 = 10.15
    got = flags(rows, k_pack="1.95")
    assert set(got) == {("A", "SAME_MAKER_SPEC")}
    assert got[("A", "SAME_MAKER_SPEC")]["limit"] == Decimal("19.50")
