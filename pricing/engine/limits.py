"""The ONE limit-price function shared by every rule (纠偏限价, RULES.md §4), exact and explainable.

`evaluate_pair` takes a target and its chosen benchmark and returns the converted benchmark unit
price, the limit price L_t, the ratio, the severity, whether the target breaks the rule, and the
`factors` JSON (schema fixed, see pricing.explain). Pure: no Django, no floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from functools import lru_cache

from pricing.engine.conversion import (
    PRECISION,
    Number,
    conversion_term,
    exceeds,
    log2_exponent,
    multiply,
    severity,
    significant,
)


@dataclass(frozen=True)
class Side:
    """One listing as the limit-price arithmetic sees it."""

    price: Decimal  # pack price P
    n: int  # pack quantity
    quantity: Decimal | None = None  # content (mg/IU) or volume (ml), per the comparison kind


@dataclass(frozen=True)
class Evaluation:
    converted: Decimal  # u_b→t, 10 decimals
    exact_parts: tuple[int, int] | Decimal  # u_b→t exactly: (numerator, denominator) or an exact Decimal
    limit: Decimal
    ratio: Decimal
    severity: str
    flagged: bool
    factors: dict

    @property
    def converted_exact(self) -> Number:
        """u_b→t exactly (the Fraction is built on demand: its gcd is most of a flag's arithmetic)."""
        parts = self.exact_parts
        return Fraction(*parts) if isinstance(parts, tuple) else parts


def _fmt_price(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')) if value == value.quantize(Decimal('0.01')) else value.normalize()}"


def _str(d: Decimal | None) -> str:
    if d is None:
        return ""
    text = format(Decimal(d).normalize(), "f")
    return text


@lru_cache(maxsize=200_000)
def _factor(
    kind: str, k: Decimal | None, q_t: Decimal | None, q_b: Decimal | None, k_pack: Decimal, n_t: int, n_b: int
) -> tuple[Number, dict]:
    x = Fraction(q_t) / Fraction(q_b) if kind in ("content", "volume") else Fraction(1)
    k_f = Fraction(k) if k is not None else Fraction(1)
    content_term = conversion_term(k_f, x) if kind in ("content", "volume") else Fraction(1)
    x_pack = Fraction(n_t, n_b)
    pack_term = conversion_term(Fraction(k_pack) / 2, x_pack)
    factor = multiply(content_term, pack_term)
    exponent = log2_exponent(x) if kind in ("content", "volume") else Fraction(0)
    pack_exponent = log2_exponent(x_pack)
    info = {
        "x": significant(x),
        "exponent": significant(exponent),
        "pack_exponent": significant(pack_exponent),
        "factor": significant(factor, 20),
    }
    return factor, info


@lru_cache(maxsize=1_000_000)
def _ratio(value: Decimal) -> tuple[int, int]:
    """(numerator, denominator) in lowest terms: Fraction(value)'s, without building the Fraction."""
    return value.as_integer_ratio()


def _half_up(a: int, b: int) -> int:
    """round(a / b) half-up for a ≥ 0, b > 0, in integers."""
    return (2 * a + b) // (2 * b)


def _limit_parts(
    bench_price: Decimal, n_b: int, n_t: int, factor: Number
) -> tuple[Decimal, tuple[int, int] | Decimal, int]:
    """(converted unit price at 10 dp, converted exact as (num, den) or Decimal, limit price in integer cents)."""
    if isinstance(factor, Fraction):
        pb_num, pb_den = _ratio(bench_price)
        num = pb_num * factor.numerator
        den = pb_den * factor.denominator * n_b
        converted = Decimal(_half_up(num * 10**10, den)).scaleb(-10)
        return converted, (num, den), _half_up(num * n_t * 100, den)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        exact = bench_price * factor / n_b
        converted = exact.quantize(Decimal("1E-10"), rounding=ROUND_HALF_UP)
        cents = int((exact * n_t * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return converted, exact, cents


def evaluate_pair(
    *,
    kind: str,
    target: Side,
    bench: Side,
    unit: str,
    k: Decimal | None,
    k_pack: Decimal,
    tolerance_abs: Decimal,
    tolerance_rel: Decimal,
    bands: list[tuple[Decimal, str]],
) -> Evaluation:
    """Limit price of `target` against `bench` for kind content | volume | identical."""
    use_k = k if kind in ("content", "volume") else None
    factor, info = _factor(
        kind,
        use_k,
        target.quantity if kind in ("content", "volume") else None,
        bench.quantity if kind in ("content", "volume") else None,
        k_pack,
        target.n,
        bench.n,
    )
    converted, exact, cents = _limit_parts(bench.price, bench.n, target.n, factor)
    formula = f"{_fmt_price(bench.price)}"
    if kind in ("content", "volume") and info["exponent"] != "0":
        formula += f" × {_str(k)}^{info['exponent']}"
    if k_pack != 2 and info["pack_exponent"] != "0":
        formula += f" × ({_str(k_pack)}/2)^{info['pack_exponent']}"
    formula += f" × {target.n} / {bench.n}"
    factors = {
        "kind": kind,
        "k": _str(use_k),
        "unit": unit if kind in ("content", "volume") else "",
        "q_target": _str(target.quantity) if kind in ("content", "volume") else "",
        "q_bench": _str(bench.quantity) if kind in ("content", "volume") else "",
        "x": info["x"],
        "exponent": info["exponent"],
        "k_pack": _str(k_pack),
        "n_target": target.n,
        "n_bench": bench.n,
        "pack_exponent": info["pack_exponent"],
        "factor": info["factor"],
        "limit_formula": formula,
    }
    return _finish(target, converted, exact, cents, factors, tolerance_abs, tolerance_rel, bands)


def evaluate_reference(
    *,
    target: Side,
    min_price: Decimal,
    province: str,
    n_reference: int | None,
    tolerance_abs: Decimal,
    tolerance_rel: Decimal,
    bands: list[tuple[Decimal, str]],
) -> Evaluation:
    """四同: the limit price is the lowest pack price of the same product in another province."""
    p_num, p_den = _ratio(min_price)
    cents = _half_up(p_num * 100, p_den)
    # P / n half-up to 10 decimals in integers (what to_decimal(Fraction(P) / n, 10) gives, without the gcd)
    exact = (p_num, p_den * target.n)
    converted = Decimal(_half_up(exact[0] * 10**10, exact[1])).scaleb(-10)
    factors = {
        "kind": "reference",
        "k": "",
        "unit": "",
        "q_target": "",
        "q_bench": "",
        "x": "1",
        "exponent": "0",
        "k_pack": "",
        "n_target": target.n,
        "n_bench": n_reference or target.n,
        "pack_exponent": "0",
        "factor": "1",
        "limit_formula": f"{_fmt_price(min_price)}",
        "province": province,
    }
    return _finish(target, converted, exact, cents, factors, tolerance_abs, tolerance_rel, bands)


def _finish(
    target: Side,
    converted: Decimal,
    exact: tuple[int, int] | Decimal,
    cents: int,
    factors: dict,
    tolerance_abs: Decimal,
    tolerance_rel: Decimal,
    bands: list[tuple[Decimal, str]],
) -> Evaluation:
    """Flag decision P_t > L_t·(1 + rel) + abs and the ratio, in exact integers/fractions."""
    pt_num, pt_den = _ratio(target.price)
    limit = Decimal(cents).scaleb(-2)
    if cents <= 0:
        flagged, r = False, Decimal(0)
    else:
        if tolerance_abs == 0 and tolerance_rel == 0:
            flagged = pt_num * 100 > cents * pt_den
        else:
            flagged = exceeds(target.price, limit, tolerance_abs, tolerance_rel)
        r = Decimal(_half_up(pt_num * 1_000_000, pt_den * cents)).scaleb(-4)
    return Evaluation(
        converted=converted,
        exact_parts=exact,
        limit=limit,
        ratio=r,
        severity=severity(r, bands),
        flagged=flagged,
        factors=factors,
    )
