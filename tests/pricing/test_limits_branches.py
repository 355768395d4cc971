"""Every branch of the one limit-price function (纠偏限价, RULES.md §4): evaluate_pair for each
comparison kind, evaluate_reference (四同), the flag decision with absolute and relative
tolerances, the ratio rounding, a limit that rounds to 0.00, and the explanation's factors/formula.
"""

from decimal import Decimal

import pytest

from pricing.engine.limits import Side, evaluate_pair, evaluate_reference

BANDS = [(Decimal("0"), "黄"), (Decimal("2"), "红★"), (Decimal("5"), "红★★"), (Decimal("10"), "红★★★")]


def pair(kind, target, bench, *, k=None, k_pack="2", tol_abs="0", tol_rel="0", unit="mg"):
    return evaluate_pair(
        kind=kind,
        target=target,
        bench=bench,
        unit=unit,
        k=Decimal(k) if k is not None else None,
        k_pack=Decimal(k_pack),
        tolerance_abs=Decimal(tol_abs),
        tolerance_rel=Decimal(tol_rel),
        bands=BANDS,
    )


def reference(price, n, min_price, *, n_reference=None, tol_abs="0", tol_rel="0", province="广东"):
    return evaluate_reference(
        target=Side(Decimal(price), n),
        min_price=Decimal(min_price),
        province=province,
        n_reference=n_reference,
        tolerance_abs=Decimal(tol_abs),
        tolerance_rel=Decimal(tol_rel),
        bands=BANDS,
    )


def test_volume_conversion_uses_k_volume_and_ml():
    ev = pair("volume", Side(Decimal("50.00"), 1, Decimal("20")), Side(Decimal("10.00"), 1, Decimal("10")), k="1.9")
    assert (ev.limit, ev.ratio, ev.severity, ev.flagged) == (Decimal("19.00"), Decimal("2.6316"), "红★", True)
    assert str(ev.converted) == "19.0000000000"
    assert ev.factors == {
        "kind": "volume",
        "k": "1.9",
        "unit": "mg",
        "q_target": "20",
        "q_bench": "10",
        "x": "2",
        "exponent": "1",
        "k_pack": "2",
        "n_target": 1,
        "n_bench": 1,
        "pack_exponent": "0",
        "factor": "1.9",
        "limit_formula": "10.00 × 1.9^1 × 1 / 1",
    }


def test_identical_specs_ignore_k_and_quantities():
    ev = pair("identical", Side(Decimal("30.00"), 20, Decimal("10")), Side(Decimal("10.00"), 10, Decimal("5")), k="1.7")
    # same spec text: only the pack count scales the price (K_p = 2), K and q are not used
    assert (ev.limit, ev.ratio, ev.flagged) == (Decimal("20.00"), Decimal("1.5000"), True)
    assert ev.factors["kind"] == "identical"
    assert (ev.factors["k"], ev.factors["unit"], ev.factors["q_target"], ev.factors["q_bench"]) == ("", "", "", "")
    assert (ev.factors["x"], ev.factors["exponent"], ev.factors["factor"]) == ("1", "0", "1")
    assert ev.factors["limit_formula"] == "10.00 × 20 / 10"


def test_same_quantity_content_pair_shows_no_k_term():
    ev = pair("content", Side(Decimal("50.00"), 20, Decimal("10")), Side(Decimal("10.00"), 10, Decimal("10")), k="1.7")
    assert ev.limit == Decimal("20.00")
    assert ev.factors["limit_formula"] == "10.00 × 20 / 10"
    assert (ev.factors["x"], ev.factors["exponent"], ev.factors["pack_exponent"]) == ("1", "0", "1")


def test_irrational_content_factor_and_unrounded_bench_price():
    ev = pair("content", Side(Decimal("50.00"), 1, Decimal("15")), Side(Decimal("10.125"), 1, Decimal("10")), k="1.70")
    # 10.125 × 1.7^log2(1.5) = 13.8101695086… → 13.81
    assert (ev.limit, ev.ratio, ev.severity) == (Decimal("13.81"), Decimal("3.6206"), "红★")
    assert str(ev.converted) == "13.8101695087"
    assert ev.factors["k"] == "1.7"
    assert ev.factors["x"] == "1.5"
    assert ev.factors["exponent"] == "0.584962500721156"
    assert ev.factors["factor"] == "1.3639673588794142845"
    assert ev.factors["limit_formula"] == "10.125 × 1.7^0.584962500721156 × 1 / 1"


def test_pack_coefficient_other_than_two_with_an_irrational_pack_exponent():
    ev = pair("identical", Side(Decimal("50.00"), 30), Side(Decimal("10.00"), 10), k_pack="1.95")
    # 10.00 × 0.975^log2(3) × 30/10 = 28.8200… → 28.82
    assert (ev.limit, ev.ratio, ev.severity) == (Decimal("28.82"), Decimal("1.7349"), "黄")
    assert str(ev.converted) == "0.9606666809"
    assert ev.factors["k_pack"] == "1.95"
    assert ev.factors["pack_exponent"] == "1.58496250072116"
    assert ev.factors["factor"] == "0.96066668091836928188"
    assert ev.factors["limit_formula"] == "10.00 × (1.95/2)^1.58496250072116 × 30 / 10"


def test_pack_coefficient_other_than_two_with_equal_packs_shows_no_pack_term():
    ev = pair("identical", Side(Decimal("12.00"), 10), Side(Decimal("10.00"), 10), k_pack="1.95")
    assert ev.limit == Decimal("10.00")
    assert ev.factors["limit_formula"] == "10.00 × 10 / 10"


def test_pack_coefficient_written_as_two_point_zero_is_two():
    ev = pair("identical", Side(Decimal("30.00"), 20), Side(Decimal("10.00"), 10), k_pack="2.0")
    assert ev.limit == Decimal("20.00")
    assert ev.factors["k_pack"] == "2"
    assert ev.factors["limit_formula"] == "10.00 × 20 / 10"


@pytest.mark.parametrize(
    ("bench_price", "shown"),
    [("35", "35.00"), ("35.1", "35.10"), ("35.1000", "35.10"), ("35.125", "35.125"), ("35.1250", "35.125")],
)
def test_benchmark_price_in_the_formula(bench_price, shown):
    ev = pair("identical", Side(Decimal("99.00"), 1), Side(Decimal(bench_price), 1))
    assert ev.factors["limit_formula"] == f"{shown} × 1 / 1"


@pytest.mark.parametrize(
    ("bench_price", "n_bench", "n_target", "limit"),
    [
        # exactly half a cent → up; a hair under → down
        ("0.25", 2, 1, "0.13"),
        ("0.2499", 2, 1, "0.12"),
        ("15.25", 14, 7, "7.63"),
        ("15.2499", 14, 7, "7.62"),
    ],
)
def test_limit_rounds_half_up_at_the_cent(bench_price, n_bench, n_target, limit):
    ev = pair("identical", Side(Decimal("99.00"), n_target), Side(Decimal(bench_price), n_bench))
    assert str(ev.limit) == limit


def test_limit_rounding_to_zero_cents_raises_no_flag():
    ev = pair("identical", Side(Decimal("0.05"), 1), Side(Decimal("0.004"), 1))
    assert (ev.limit, ev.ratio, ev.flagged, ev.severity) == (Decimal("0.00"), Decimal(0), False, "黄")
    assert str(ev.converted) == "0.0040000000"


def test_limit_of_one_cent_still_flags():
    ev = pair("identical", Side(Decimal("0.05"), 1), Side(Decimal("0.005"), 1))
    assert (ev.limit, ev.ratio, ev.flagged, ev.severity) == (Decimal("0.01"), Decimal("5.0000"), True, "红★★")


@pytest.mark.parametrize(
    ("price", "tol_abs", "tol_rel", "flagged"),
    [
        # no tolerance: one ten-thousandth of a yuan above the limit is a breach, the limit itself is not
        ("100.00", "0", "0", False),
        ("100.0001", "0", "0", True),
        ("99.99", "0", "0", False),
        # absolute tolerance only
        ("100.50", "0.50", "0", False),
        ("100.51", "0.50", "0", True),
        # relative tolerance only: 1 % of 100.00
        ("101.00", "0", "0.01", False),
        ("101.01", "0", "0.01", True),
        # both: 100.00 × 1.01 + 0.50
        ("101.50", "0.50", "0.01", False),
        ("101.51", "0.50", "0.01", True),
    ],
)
def test_pair_tolerances(price, tol_abs, tol_rel, flagged):
    ev = pair(
        "content",
        Side(Decimal(price), 2, Decimal("20")),
        Side(Decimal("29.4118"), 1, Decimal("10")),
        k="1.7",
        tol_abs=tol_abs,
        tol_rel=tol_rel,
    )
    assert ev.limit == Decimal("100.00")  # 29.4118 × 1.7 × 2 = 100.00012 → 100.00
    assert ev.flagged is flagged


@pytest.mark.parametrize(
    ("price", "tol_abs", "tol_rel", "flagged"),
    [
        # a tolerance of exactly one yuan, or of exactly 100 %, is a tolerance like any other
        ("10.50", "1", "0", False),
        ("11.00", "1", "0", False),
        ("11.01", "1", "0", True),
        ("15.00", "0", "1", False),
        ("20.00", "0", "1", False),
        ("20.01", "0", "1", True),
    ],
)
def test_whole_number_tolerances(price, tol_abs, tol_rel, flagged):
    ev = pair("identical", Side(Decimal(price), 1), Side(Decimal("10.00"), 1), tol_abs=tol_abs, tol_rel=tol_rel)
    assert ev.limit == Decimal("10.00")
    assert ev.flagged is flagged


def test_ratio_rounds_half_up_to_four_decimals():
    ev = pair("identical", Side(Decimal("2.0001"), 1), Side(Decimal("2.00"), 1))
    assert ev.ratio == Decimal("1.0001")  # 1.00005 → up
    ev = pair("identical", Side(Decimal("2.00009"), 1), Side(Decimal("2.00"), 1))
    assert ev.ratio == Decimal("1.0000")  # 1.000045 → down
    ev = pair("identical", Side(Decimal("100.0004"), 1), Side(Decimal("10.00"), 1))
    assert ev.ratio == Decimal("10.0000")  # 10.00004: a millionth of the ratio must not round it up
    ev = pair("identical", Side(Decimal("100.0005"), 1), Side(Decimal("10.00"), 1))
    assert ev.ratio == Decimal("10.0001")
    ev = pair("identical", Side(Decimal("1.00"), 1), Side(Decimal("3.00"), 1))
    assert (ev.ratio, ev.flagged) == (Decimal("0.3333"), False)
    ev = pair("identical", Side(Decimal("2.00"), 1), Side(Decimal("3.00"), 1))
    assert ev.ratio == Decimal("0.6667")


@pytest.mark.parametrize(
    ("price", "severity"),
    [("19.99", "黄"), ("20.00", "红★"), ("49.99", "红★"), ("50.00", "红★★"), ("100.00", "红★★★")],
)
def test_severity_follows_the_ratio(price, severity):
    assert pair("identical", Side(Decimal(price), 1), Side(Decimal("10.00"), 1)).severity == severity


def test_reference_limit_is_the_other_province_pack_price():
    ev = reference("24.00", 30, "21.30")
    assert (ev.limit, ev.ratio, ev.severity, ev.flagged) == (Decimal("21.30"), Decimal("1.1268"), "黄", True)
    assert str(ev.converted) == "0.7100000000"
    assert ev.factors == {
        "kind": "reference",
        "k": "",
        "unit": "",
        "q_target": "",
        "q_bench": "",
        "x": "1",
        "exponent": "0",
        "k_pack": "",
        "n_target": 30,
        "n_bench": 30,
        "pack_exponent": "0",
        "factor": "1",
        "limit_formula": "21.30",
        "province": "广东",
    }


def test_reference_price_with_more_decimals_rounds_half_up():
    ev = reference("24.00", 30, "21.305", n_reference=20, province="浙江")
    assert (ev.limit, ev.ratio) == (Decimal("21.31"), Decimal("1.1262"))
    assert str(ev.converted) == "0.7101666667"
    assert (ev.factors["n_bench"], ev.factors["province"], ev.factors["limit_formula"]) == (20, "浙江", "21.305")
    assert reference("24.00", 30, "21.3049").limit == Decimal("21.30")


@pytest.mark.parametrize(
    ("price", "tol_abs", "tol_rel", "flagged"),
    [
        ("21.30", "0", "0", False),
        ("21.3001", "0", "0", True),
        ("21.80", "0.50", "0", False),
        ("21.81", "0.50", "0", True),
        ("23.43", "0", "0.1", False),
        ("23.4301", "0", "0.1", True),
        ("23.93", "0.50", "0.1", False),
        ("23.94", "0.50", "0.1", True),
    ],
)
def test_reference_tolerances(price, tol_abs, tol_rel, flagged):
    assert reference(price, 30, "21.30", tol_abs=tol_abs, tol_rel=tol_rel).flagged is flagged


def test_reference_price_rounding_to_zero_raises_no_flag():
    ev = reference("1.00", 1, "0.004")
    assert (ev.limit, ev.ratio, ev.flagged) == (Decimal("0.00"), Decimal(0), False)
