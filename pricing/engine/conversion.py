"""Converting prices between specs (差比价, RULES.md §3) and the exact limit price (纠偏限价, §4).

Pure functions, no Django. A price at quantity q_from is worth price × K^(log2(q_to / q_from)) at
q_to. When q_to / q_from is a power of two the factor is exactly K^k and everything stays a
`Fraction`; otherwise the factor is irrational and is carried as a `Decimal` with 40 significant
digits, so nothing is rounded before the final half-up to the cent.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from functools import lru_cache

Number = Fraction | Decimal

PRECISION = 40  # significant digits for irrational factors (RULES §4 asks for 15+)


def power_of_two_exponent(x: Fraction) -> int | None:
    """k when x == 2**k exactly (k may be negative), else None."""
    if x <= 0:
        raise ValueError("quantity ratio must be positive")
    num, den = x.numerator, x.denominator
    if den == 1 and num & (num - 1) == 0:
        return num.bit_length() - 1
    if num == 1 and den & (den - 1) == 0:
        return -(den.bit_length() - 1)
    return None


def _dec(value: Fraction) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return Decimal(value.numerator) / Decimal(value.denominator)


@lru_cache(maxsize=65_536)
def log2_exponent(x: Fraction) -> Number:
    """log2(x): an exact int (as Fraction) for powers of two, else a 40-digit Decimal."""
    k = power_of_two_exponent(x)
    if k is not None:
        return Fraction(k)
    with localcontext() as ctx:
        ctx.prec = PRECISION + 5
        value = _dec(x).ln() / Decimal(2).ln()
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return +value


@lru_cache(maxsize=65_536)
def conversion_term(k: Fraction, x: Fraction) -> Number:
    """K^(log2 x): the factor converting a price from quantity q to quantity q·x.

    Exact (Fraction) when x is a power of two, when K == 2 (the term is x itself) or K == 1.
    """
    if x == 1 or k == 1:
        return Fraction(1)
    if k == 2:
        return x
    e = power_of_two_exponent(x)
    if e is not None:
        return k**e
    with localcontext() as ctx:
        ctx.prec = PRECISION + 5
        exponent = _dec(x).ln() / Decimal(2).ln()
        value = (exponent * _dec(k).ln()).exp()
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return +value


def multiply(*values: Number | int) -> Number:
    """Product staying exact while every operand is rational."""
    if all(not isinstance(v, Decimal) for v in values):
        out = Fraction(1)
        for v in values:
            out *= v
        return out
    with localcontext() as ctx:
        ctx.prec = PRECISION
        out = Decimal(1)
        for v in values:
            out *= _dec(v) if isinstance(v, Fraction) else Decimal(v)
        return out


def round_half_up(value: Number | int, places: int = 2) -> Decimal:
    """Round a non-negative exact value half-up to `places` decimals (0.125 → 0.13)."""
    quantum = Decimal(1).scaleb(-places)
    if isinstance(value, Decimal):
        with localcontext() as ctx:
            ctx.prec = PRECISION + 10
            return value.quantize(quantum, rounding=ROUND_HALF_UP)
    f = value if isinstance(value, Fraction) else Fraction(value)
    scale = 10**places
    # half-up away from zero (prices are positive; keep symmetric for safety), in integers:
    # floor(|f|·scale + 1/2) = (2·|num|·scale + den) // (2·den)
    num, den = f.numerator, f.denominator
    sign = -1 if num < 0 else 1
    n = (abs(num) * scale * 2 + den) // (2 * den)
    return (Decimal(sign * n) / Decimal(scale)).quantize(quantum)


def to_decimal(value: Number | int, places: int = 10) -> Decimal:
    """A stored representation (half-up to `places` decimals)."""
    return round_half_up(value, places)


def significant(value: Number | int, digits: int = 15) -> str:
    """A decimal string: exact when the value terminates within 30 significant digits, else `digits`
    significant digits (normalised inside each context: the default 28-digit context would round)."""
    if isinstance(value, int) or (isinstance(value, Fraction) and value.denominator == 1):
        return str(int(value))
    if isinstance(value, Fraction):
        den = value.denominator
        for p in (2, 5):
            while den % p == 0:
                den //= p
        if den == 1:
            with localcontext() as ctx:
                ctx.prec = 60
                d = Decimal(value.numerator) / Decimal(value.denominator)
                text = format(d.normalize(), "f")
            if len(text.replace("-", "").replace(".", "").lstrip("0")) <= 30:
                return text
        value = _dec(value)
    with localcontext() as ctx:
        ctx.prec = digits
        return format((+value).normalize(), "f")


def conversion_factor(
    *,
    k: Fraction | None,
    q_target: Fraction | None,
    q_bench: Fraction | None,
    k_pack: Fraction,
    n_target: int,
    n_bench: int,
) -> Number:
    """F = K^(log2(q_t/q_b)) × (K_p/2)^(log2(n_t/n_b)); the content/volume term is 1 when k is None."""
    content = Fraction(1) if k is None else conversion_term(k, Fraction(q_target) / Fraction(q_bench))
    pack = conversion_term(k_pack / 2, Fraction(n_target, n_bench))
    return multiply(content, pack)


@lru_cache(maxsize=1_000_000)
def fraction_of(value: Decimal) -> Fraction:
    """The exact rational of a Decimal (cached: prices repeat)."""
    return Fraction(value)


def div_half_up(a: int, b: int) -> int:
    """round(a / b) half-up for a ≥ 0, b > 0, in integers."""
    return (2 * a + b) // (2 * b)


def limit_parts(bench_price: Decimal, n_bench: int, n_target: int, factor: Number) -> tuple[Decimal, Number, int]:
    """The ONE limit-price computation (RULES §4), used by detection and by the review pages.

    Returns (u_b→t half-up to 10 decimals, u_b→t exact, L_t in integer cents half-up) where
    u_b→t = P_b × F / n_b and L_t = u_b→t × n_t: exact integers when F is rational, else 40 digits.
    """
    if isinstance(factor, Fraction):
        pb = fraction_of(bench_price)
        num = pb.numerator * factor.numerator
        den = pb.denominator * factor.denominator * n_bench
        converted = Decimal(div_half_up(num * 10**10, den)).scaleb(-10)
        return converted, Fraction(num, den), div_half_up(num * n_target * 100, den)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        exact = bench_price * factor / n_bench
        converted = exact.quantize(Decimal("1E-10"), rounding=ROUND_HALF_UP)
        cents = int((exact * n_target * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return converted, exact, cents


def converted_unit_price(bench_price: Decimal, n_bench: int, factor: Number) -> Number:
    """u_b→t = (P_b / n_b) × F: the benchmark's unit price expressed in the target's spec (exact)."""
    return limit_parts(bench_price, n_bench, 1, factor)[1]


def limit_price(bench_price: Decimal, factor: Number, n_target: int, n_bench: int) -> Decimal:
    """L_t = P_b × F × n_t / n_b, computed exactly and rounded half-up to 0.01 yuan only at the end."""
    return Decimal(limit_parts(bench_price, n_bench, n_target, factor)[2]).scaleb(-2)


def ratio(target_price: Decimal, limit: Decimal) -> Decimal:
    """价差倍数 r = P_t / L_t, half-up to 4 decimals (a repriced flag's ratio after 调整限价 or an appeal)."""
    return round_half_up(Fraction(target_price) / Fraction(limit), 4)


def exceeds(target_price: Decimal, limit: Decimal, tolerance_abs: Decimal, tolerance_rel: Decimal) -> bool:
    """P_t > L_t + tolerance (absolute + relative × L_t), all exact decimals: never a float tie."""
    return Fraction(target_price) > Fraction(limit) + Fraction(tolerance_abs) + Fraction(limit) * Fraction(
        tolerance_rel
    )


def severity(r: Decimal, bands: list[tuple[Decimal, str]]) -> str:
    """The band whose lower bound is the largest one ≤ r (bands ascending)."""
    label = bands[0][1]
    for lower, name in bands:
        if r >= lower:
            label = name
    return label
