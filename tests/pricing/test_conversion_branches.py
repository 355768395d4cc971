"""Every branch of the conversion arithmetic (差比价, RULES.md §3–4): exact values, exact roundings.

Reference values for irrational factors are computed here at 90 significant digits and rounded to
the 40 the engine promises, so a less precise engine fails.
"""

from decimal import Decimal, localcontext
from fractions import Fraction

import pytest

from pricing.engine.conversion import (
    conversion_factor,
    conversion_term,
    converted_unit_price,
    exceeds,
    limit_parts,
    limit_price,
    log2_exponent,
    multiply,
    power_of_two_exponent,
    ratio,
    round_half_up,
    severity,
    significant,
    to_decimal,
)


def forty(value: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 40
        return +value


def ln(x: int | str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 90
        return Decimal(x).ln()


def reference_term(k: str, x: str) -> Decimal:
    """K^(log2 x) at 90 digits, rounded to 40."""
    with localcontext() as ctx:
        ctx.prec = 90
        value = (Decimal(x).ln() / Decimal(2).ln() * Decimal(k).ln()).exp()
    return forty(value)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (Fraction(1), 0),
        (Fraction(2), 1),
        (Fraction(8), 3),
        (Fraction(1024), 10),
        (Fraction(1, 2), -1),
        (Fraction(1, 8), -3),
        (Fraction(3), None),
        (Fraction(6), None),
        (Fraction(3, 4), None),
        (Fraction(1, 3), None),
        (Fraction(1, 6), None),
        (Fraction(2, 3), None),
        (Fraction(5, 2), None),
    ],
)
def test_power_of_two_exponent(x, expected):
    assert power_of_two_exponent(x) == expected


@pytest.mark.parametrize("x", [Fraction(0), Fraction(-2), Fraction(-1, 2)])
def test_quantity_ratio_must_be_positive(x):
    with pytest.raises(ValueError, match="^quantity ratio must be positive$"):
        power_of_two_exponent(x)


def test_log2_exponent_exact_for_powers_of_two_and_40_digits_otherwise():
    assert log2_exponent(Fraction(16)) == 4
    assert log2_exponent(Fraction(1, 4)) == -2
    assert log2_exponent(Fraction(1)) == 0
    # exact means a rational, not a 40-digit decimal that happens to print as a whole number
    for x, k in ((Fraction(16), 4), (Fraction(1, 2**200), -200), (Fraction(1), 0)):
        assert isinstance(log2_exponent(x), Fraction) and log2_exponent(x) == k
    with localcontext() as ctx:
        ctx.prec = 90
        log2_3 = ln(3) / ln(2)
        log2_1_5 = ln("1.5") / ln(2)
    assert log2_exponent(Fraction(3)) == forty(log2_3)
    assert str(log2_exponent(Fraction(3))) == "1.584962500721156181453738943947816508760"
    assert log2_exponent(Fraction(3, 2)) == forty(log2_1_5)
    # 2/3 is itself carried with 40 digits first: equal to 39 digits
    assert abs(log2_exponent(Fraction(2, 3)) + forty(log2_1_5)) <= Decimal("1E-39")


@pytest.mark.parametrize(
    ("k", "x", "expected"),
    [
        # no conversion
        (Fraction("1.7"), Fraction(1), Fraction(1)),
        (Fraction(1), Fraction(3), Fraction(1)),
        (Fraction(1), Fraction(1, 3), Fraction(1)),
        # K = 2: the plain quantity ratio
        (Fraction(2), Fraction(3), Fraction(3)),
        (Fraction(2), Fraction(3, 5), Fraction(3, 5)),
        # powers of two: K^k exactly
        (Fraction("1.7"), Fraction(4), Fraction(289, 100)),
        (Fraction("1.7"), Fraction(1, 4), Fraction(100, 289)),
        (Fraction("1.9"), Fraction(2), Fraction(19, 10)),
        (Fraction("0.975"), Fraction(2), Fraction(39, 40)),
    ],
)
def test_conversion_term_exact_cases(k, x, expected):
    assert conversion_term(k, x) == expected


def test_no_content_conversion_keeps_a_half_cent_exact():
    # K = 1 (a rule set may switch content conversion off): the term is exactly 1, so with the
    # pack term 20/17 (K_p = 1.7, half the pack) 0.2125 for 2 gives exactly 0.125 for 1 → 0.13
    factor = conversion_factor(
        k=Fraction(1), q_target=Fraction(3), q_bench=Fraction(1), k_pack=Fraction("1.7"), n_target=1, n_bench=2
    )
    assert factor == Fraction(20, 17)
    assert limit_price(Decimal("0.2125"), factor, 1, 2) == Decimal("0.13")
    # x = 1 with any K: exactly 1 too (0.2125 × 20/17 / 2 = 0.125)
    factor = conversion_factor(
        k=Fraction("1.7"), q_target=Fraction(5), q_bench=Fraction(5), k_pack=Fraction("1.7"), n_target=1, n_bench=2
    )
    assert limit_price(Decimal("0.2125"), factor, 1, 2) == Decimal("0.13")


def test_k_two_is_exact_for_any_ratio():
    # K = 2 (a rule set may choose it): 10mg from 30mg is exactly a third, 0.375 → 0.125 → 0.13
    factor = conversion_factor(
        k=Fraction(2), q_target=Fraction(10), q_bench=Fraction(30), k_pack=Fraction(2), n_target=1, n_bench=1
    )
    assert factor == Fraction(1, 3)
    assert limit_price(Decimal("0.375"), factor, 1, 1) == Decimal("0.13")


@pytest.mark.parametrize(("k", "x"), [("1.7", "3"), ("1.7", "1.5"), ("1.9", "2.5"), ("0.975", "3"), ("1.7", "0.3")])
def test_conversion_term_irrational_to_40_digits(k, x):
    got = conversion_term(Fraction(k), Fraction(x))
    assert isinstance(got, Decimal)
    assert got == reference_term(k, x)


def test_conversion_term_of_one_seventh_k3():
    # K = 1.7, x = 3: 1.7^1.58496… = 2.3187445100950042835957482182079143895…
    assert str(conversion_term(Fraction("1.7"), Fraction(3))) == "2.318744510095004283595748218207914389505"


def test_multiply_stays_exact_while_rational():
    assert multiply(Fraction(1, 3), 2, Fraction(3, 4)) == Fraction(1, 2)
    assert multiply() == 1
    assert multiply(Fraction(2, 3)) == Fraction(2, 3)
    assert not isinstance(multiply(Fraction(1, 3), 3), Decimal)


def test_multiply_with_an_irrational_operand_carries_40_digits():
    third = multiply(Fraction(1, 3), Decimal(1))
    assert str(third) == "0." + "3" * 40
    assert multiply(2, Decimal("1.5")) == 3
    assert multiply(Decimal("1.5"), Fraction(1, 2), 4) == 3


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        # exactly half a cent rounds up, a hair below rounds down (Fraction and Decimal paths)
        (Fraction(1, 8), 2, "0.13"),
        (Fraction(1, 8) - Fraction(1, 10**12), 2, "0.12"),
        (Fraction(61, 8), 2, "7.63"),
        (Fraction(3, 8), 2, "0.38"),
        (Fraction(1, 3), 2, "0.33"),
        (Fraction(2, 3), 2, "0.67"),
        (Fraction(-1, 8), 2, "-0.13"),
        (Fraction(-1, 3), 2, "-0.33"),
        (Decimal("0.125"), 2, "0.13"),
        (Decimal("0.135"), 2, "0.14"),
        (Decimal("2.675"), 2, "2.68"),
        (Decimal("0.1249999999"), 2, "0.12"),
        (Decimal("-0.125"), 2, "-0.13"),
        (Decimal("12345678901234567890123456789012.125"), 2, "12345678901234567890123456789012.13"),
        (3, 2, "3.00"),
        (Fraction(5, 2), 0, "3"),
        (Fraction(3, 2), 0, "2"),
        (Decimal("2.5"), 0, "3"),
        (Fraction(1, 20000), 4, "0.0001"),
        (Fraction(1, 20000) - Fraction(1, 10**9), 4, "0.0000"),
        (Decimal("1.00005"), 4, "1.0001"),
        (Fraction(1, 2048), 10, "0.0004882813"),
    ],
)
def test_round_half_up(value, places, expected):
    assert str(round_half_up(value, places)) == expected


def test_round_half_up_defaults_to_cents_and_to_decimal_to_ten_places():
    assert str(round_half_up(Fraction(1, 8))) == "0.13"
    assert str(to_decimal(Fraction(1, 3))) == "0.3333333333"
    assert str(to_decimal(Fraction(2, 3))) == "0.6666666667"
    assert str(to_decimal(Fraction(1, 8), 2)) == "0.13"


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (7, 15, "7"),
        (Fraction(12), 15, "12"),
        (Fraction(-3), 15, "-3"),
        (Fraction(5, 2), 15, "2.5"),
        (Fraction(-1, 8), 15, "-0.125"),
        (Fraction(1, 2**40), 15, "0.0000000000009094947017729282379150390625"),  # 28 digits: exact
        (Fraction(1, 2**50), 15, "0.000000000000000888178419700125"),  # 35 digits: 15 significant
        (Fraction(10**29 + 1, 10), 15, "10000000000000000000000000000.1"),  # 30 digits: exact
        (Fraction(10**30 + 1, 10), 15, "1" + "0" * 29),  # 31 digits: rounded to 15
        (Fraction(-(10**29 + 1), 10), 15, "-10000000000000000000000000000.1"),  # the sign is not a digit
        (Fraction(-(10**26 + 1), 10), 15, "-10000000000000000000000000.1"),
        (Fraction(123456789012345678, 5**23), 15, "10.35630607963275053236224"),
        (Fraction(123456789012345678, 5**25), 15, "0.4142522431853100212944896"),  # 5^24 > 2^53: integers
        (Fraction(1, 3), 15, "0.333333333333333"),
        (Fraction(2, 3), 5, "0.66667"),
        (Fraction(1, 7), 20, "0.14285714285714285714"),
        (Decimal("2.50"), 15, "2.5"),
        (Decimal("100"), 15, "100"),
        (Decimal("1.23456789012345678"), 5, "1.2346"),
        (Decimal("0.58823529411764705882352941176470588235"), 20, "0.58823529411764705882"),
    ],
)
def test_significant(value, digits, expected):
    assert significant(value, digits) == expected


def test_significant_defaults_to_15_digits():
    assert significant(Fraction(1, 3)) == "0.333333333333333"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # no content term (identical specs): only the pack term, 1 when K_p = 2
        ({"k": None, "q_target": None, "q_bench": None, "k_pack": "2", "n_target": 28, "n_bench": 7}, Fraction(1)),
        ({"k": None, "q_target": None, "q_bench": None, "k_pack": "1.9", "n_target": 20, "n_bench": 10}, "0.95"),
        ({"k": None, "q_target": None, "q_bench": None, "k_pack": "1.9", "n_target": 5, "n_bench": 10}, "20/19"),
        # content per kind: K = 1.7 (content) or 1.9 (volume)
        ({"k": "1.7", "q_target": "20", "q_bench": "10", "k_pack": "2", "n_target": 28, "n_bench": 7}, "1.7"),
        ({"k": "1.7", "q_target": "10", "q_bench": "20", "k_pack": "2", "n_target": 1, "n_bench": 1}, "10/17"),
        ({"k": "1.9", "q_target": "20", "q_bench": "5", "k_pack": "2", "n_target": 1, "n_bench": 1}, "3.61"),
        # both terms
        ({"k": "1.7", "q_target": "20", "q_bench": "10", "k_pack": "1.9", "n_target": 20, "n_bench": 10}, "1.615"),
    ],
)
def test_conversion_factor(kwargs, expected):
    fr = {k: (Fraction(v) if isinstance(v, str) else v) for k, v in kwargs.items()}
    assert conversion_factor(**fr) == Fraction(expected)


def test_conversion_factor_irrational():
    factor = conversion_factor(
        k=Fraction("1.7"), q_target=Fraction(30), q_bench=Fraction(10), k_pack=Fraction(2), n_target=1, n_bench=1
    )
    assert factor == reference_term("1.7", "3")


@pytest.mark.parametrize(
    ("price", "n_bench", "n_target", "factor", "converted", "cents"),
    [
        # exact half a cent → up; just under → down (rational factors, integer arithmetic)
        ("0.25", 2, 1, Fraction(1), "0.1250000000", 13),
        ("0.2499", 2, 1, Fraction(1), "0.1249500000", 12),
        ("21.25", 100, 1, Fraction(10, 17), "0.1250000000", 13),
        ("15.25", 14, 7, Fraction(1), "1.0892857143", 763),
        ("1", 3, 1, Fraction(1), "0.3333333333", 33),
        ("2", 3, 1, Fraction(1), "0.6666666667", 67),
        ("1", 2048, 1, Fraction(1), "0.0004882813", 0),
        ("1", 2048, 1000, Fraction(1), "0.0004882813", 49),
        ("35.00", 7, 28, Fraction(10, 17), "2.9411764706", 8235),
        ("10.00", 10, 20, Fraction(39, 40), "0.9750000000", 1950),
        # irrational factors (40-digit Decimal arithmetic), with a half cent too
        ("0.10", 1, 1, Decimal("1.25"), "0.1250000000", 13),
        ("0.10", 1, 1, Decimal("1.2499"), "0.1249900000", 12),
        ("10", 1, 1, conversion_term(Fraction("1.7"), Fraction(3)), "23.1874451010", 2319),
        ("10", 4, 2, conversion_term(Fraction("1.7"), Fraction(3)), "5.7968612752", 1159),
    ],
)
def test_limit_parts(price, n_bench, n_target, factor, converted, cents):
    got_converted, exact, got_cents = limit_parts(Decimal(price), n_bench, n_target, factor)
    assert (str(got_converted), got_cents) == (converted, cents)
    assert round_half_up(exact, 10) == Decimal(converted)
    assert limit_price(Decimal(price), factor, n_target, n_bench) == Decimal(cents).scaleb(-2)


def test_limit_parts_exact_value():
    assert limit_parts(Decimal("21.25"), 100, 1, Fraction(10, 17))[1] == Fraction(1, 8)
    assert converted_unit_price(Decimal("21.25"), 100, Fraction(10, 17)) == Fraction(1, 8)
    exact = converted_unit_price(Decimal("10"), 4, conversion_term(Fraction("1.7"), Fraction(3)))
    with localcontext() as ctx:
        ctx.prec = 90
        expected = reference_term("1.7", "3") * 10 / 4
    assert abs(exact - expected) <= Decimal("1E-38")


def test_limit_price_text_is_in_cents():
    assert str(limit_price(Decimal("10"), Fraction(1), 1, 1)) == "10.00"
    assert str(limit_price(Decimal("21.25"), Fraction(10, 17), 1, 100)) == "0.13"


@pytest.mark.parametrize(
    ("price", "limit", "tol_abs", "tol_rel", "expected"),
    [
        ("7.63", "7.63", "0", "0", False),
        ("7.6301", "7.63", "0", "0", True),
        ("7.64", "7.63", "0.01", "0", False),
        ("7.6401", "7.63", "0.01", "0", True),
        ("101.00", "100.00", "0", "0.01", False),
        ("101.01", "100.00", "0", "0.01", True),
        ("101.50", "100.00", "0.50", "0.01", False),
        ("101.51", "100.00", "0.50", "0.01", True),
        ("7.62", "7.63", "0", "0", False),
    ],
)
def test_exceeds_with_absolute_and_relative_tolerance(price, limit, tol_abs, tol_rel, expected):
    assert exceeds(Decimal(price), Decimal(limit), Decimal(tol_abs), Decimal(tol_rel)) is expected


def test_severity_bands():
    bands = [(Decimal("1"), "低"), (Decimal("2"), "中"), (Decimal("5"), "高")]
    assert [severity(Decimal(r), bands) for r in ("0.5", "1", "1.9999", "2", "4.99", "5", "50")] == [
        "低",
        "低",
        "低",
        "中",
        "中",
        "高",
        "高",
    ]


@pytest.mark.parametrize(
    ("price", "limit", "expected"),
    [
        # 价差倍数 after 调整限价 / an appeal: P / L half-up to 4 decimals
        ("45.00", "20.57", "2.1877"),  # 2.18765...
        ("45.00", "15.00", "3.0000"),
        ("616.68", "30.96", "19.9186"),
        ("10.00", "3.00", "3.3333"),
        ("20.00", "3.00", "6.6667"),
        ("1.00", "8.00", "0.1250"),
    ],
)
def test_ratio_is_price_over_limit_to_four_decimals(price, limit, expected):
    value = ratio(Decimal(price), Decimal(limit))
    assert str(value) == expected
