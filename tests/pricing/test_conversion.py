"""Worked examples of RULES.md §3 and the exact limit price of §4 (half-cent cases)."""

from decimal import Decimal
from fractions import Fraction

import pytest

from pricing.engine.conversion import (
    conversion_factor,
    conversion_term,
    converted_unit_price,
    exceeds,
    limit_price,
    log2_exponent,
    round_half_up,
    severity,
)
from pricing.engine.limits import Side, evaluate_pair

K = Fraction("1.7")
BANDS = [(Decimal("0"), "黄"), (Decimal("2"), "红★"), (Decimal("5"), "红★★"), (Decimal("10"), "红★★★")]


def u4(value) -> Decimal:
    return round_half_up(value, 4)


@pytest.mark.parametrize(
    ("q_bench", "q_target", "expected"),
    [("10", "20", "3.4000"), ("10", "5", "1.1765"), ("10", "15", "2.7279")],
)
def test_content_worked_examples(q_bench, q_target, expected):
    factor = conversion_factor(
        k=K, q_target=Fraction(q_target), q_bench=Fraction(q_bench), k_pack=Fraction(2), n_target=1, n_bench=1
    )
    assert u4(converted_unit_price(Decimal("2.0000"), 1, factor)) == Decimal(expected)


def test_injection_worked_example_uses_content_not_volume():
    # 2ml:10mg unit 10.0000 → 5ml:25mg: 10 × 1.7^log2(2.5)
    factor = conversion_factor(
        k=K, q_target=Fraction(25), q_bench=Fraction(10), k_pack=Fraction(2), n_target=1, n_bench=1
    )
    assert u4(converted_unit_price(Decimal("10"), 1, factor)) == Decimal("20.1668")


def test_volume_worked_example():
    factor = conversion_factor(
        k=Fraction("1.9"), q_target=Fraction(20), q_bench=Fraction(10), k_pack=Fraction(2), n_target=1, n_bench=1
    )
    assert u4(converted_unit_price(Decimal("2"), 1, factor)) == Decimal("3.8000")


def test_powers_of_two_are_exact_fractions():
    assert conversion_term(K, Fraction(4)) == Fraction(289, 100)
    assert conversion_term(K, Fraction(1, 2)) == Fraction(10, 17)
    assert log2_exponent(Fraction(1, 4)) == -2
    # irrational exponent carried with 40 digits
    assert str(log2_exponent(Fraction(3, 2)))[:17] == "0.584962500721156"


def test_k_equal_two_is_the_plain_ratio():
    assert conversion_term(Fraction(2), Fraction(3)) == 3


@pytest.mark.parametrize(
    ("bench_price", "n_bench", "q_bench", "n_target", "q_target", "expected"),
    [
        # 21.25 for 100 × 200mg as 1 × 100mg = 21.25 / 1.7 / 100 = 0.125 → 0.13
        ("21.25", 100, 200, 1, 100, "0.13"),
        # 15.25 for 14 units as 7 units = 7.625 → 7.63
        ("15.25", 14, 10, 7, 10, "7.63"),
        # 35.00 for 7 × 20mg as 28 × 10mg = 35 × 10/17 × 4 = 82.3529… → 82.35
        ("35.00", 7, 20, 28, 10, "82.35"),
    ],
)
def test_half_cent_limit_prices(bench_price, n_bench, q_bench, n_target, q_target, expected):
    factor = conversion_factor(
        k=K,
        q_target=Fraction(q_target),
        q_bench=Fraction(q_bench),
        k_pack=Fraction(2),
        n_target=n_target,
        n_bench=n_bench,
    )
    assert limit_price(Decimal(bench_price), factor, n_target, n_bench) == Decimal(expected)


def test_round_half_up_on_exact_half():
    assert round_half_up(Fraction(1, 8), 2) == Decimal("0.13")
    assert round_half_up(Fraction(61, 8), 2) == Decimal("7.63")
    assert round_half_up(Fraction(1, 8) - Fraction(1, 10**12), 2) == Decimal("0.12")


def test_ratio_tolerance_and_severity():
    assert not exceeds(Decimal("7.63"), Decimal("7.63"), Decimal(0), Decimal(0))
    assert exceeds(Decimal("7.64"), Decimal("7.63"), Decimal(0), Decimal(0))
    assert not exceeds(Decimal("7.64"), Decimal("7.63"), Decimal("0.01"), Decimal(0))
    # relative tolerance 1% of 100.00 = 1.00
    assert not exceeds(Decimal("101.00"), Decimal("100.00"), Decimal(0), Decimal("0.01"))
    assert exceeds(Decimal("101.01"), Decimal("100.00"), Decimal(0), Decimal("0.01"))
    assert [severity(Decimal(r), BANDS) for r in ("1.9999", "2", "4.9999", "5", "10", "19.9")] == [
        "黄",
        "红★",
        "红★",
        "红★★",
        "红★★★",
        "红★★★",
    ]


def test_evaluate_pair_factors_schema():
    ev = evaluate_pair(
        kind="content",
        target=Side(Decimal("98.00"), 28, Decimal("10")),
        bench=Side(Decimal("35.00"), 7, Decimal("20")),
        unit="mg",
        k=Decimal("1.7"),
        k_pack=Decimal("2"),
        tolerance_abs=Decimal(0),
        tolerance_rel=Decimal(0),
        bands=BANDS,
    )
    assert ev.limit == Decimal("82.35")
    assert ev.ratio == Decimal("1.1900")
    assert ev.severity == "黄" and ev.flagged
    assert u4(ev.converted) == Decimal("2.9412")
    assert ev.factors == {
        "kind": "content",
        "k": "1.7",
        "unit": "mg",
        "q_target": "10",
        "q_bench": "20",
        "x": "0.5",
        "exponent": "-1",
        "k_pack": "2",
        "n_target": 28,
        "n_bench": 7,
        "pack_exponent": "2",
        "factor": "0.58823529411764705882",
        "limit_formula": "35.00 × 1.7^-1 × 28 / 7",
    }


def test_pack_differential_option():
    # K_p = 1.95: 10 units benchmark priced 10.00 as 20 units: 10 × (1.95/2)^1 × 20/10 = 19.50
    ev = evaluate_pair(
        kind="identical",
        target=Side(Decimal("20.00"), 20),
        bench=Side(Decimal("10.00"), 10),
        unit="",
        k=None,
        k_pack=Decimal("1.95"),
        tolerance_abs=Decimal(0),
        tolerance_rel=Decimal(0),
        bands=BANDS,
    )
    assert ev.limit == Decimal("19.50")
    assert ev.flagged
    assert ev.factors["limit_formula"] == "10.00 × (1.95/2)^1 × 20 / 10"
