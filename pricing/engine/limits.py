"""The ONE limit-price function shared by every rule (纠偏限价, RULES.md §4), exact and explainable.

`evaluate_pair` takes a target and its chosen benchmark and returns the converted benchmark unit
price, the limit price L_t, the ratio, the severity, whether the target breaks the rule, and the
`factors` JSON (schema fixed, see pricing.explain). Pure: no Django, no floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from pricing.engine.conversion import (
    Number,
    conversion_factor,
    div_half_up,
    exceeds,
    fraction_of,
    limit_parts,
    log2_exponent,
    severity,
    significant,
    to_decimal,
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
    converted_exact: Number
    limit: Decimal
    ratio: Decimal
    severity: str
    flagged: bool
    factors: dict


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
    """F through conversion.conversion_factor (the one formula) and its parts as explained."""
    converts = kind in ("content", "volume")
    x = Fraction(q_t) / Fraction(q_b) if converts else Fraction(1)
    factor = conversion_factor(
        k=Fraction(k) if k is not None else None,  # evaluate_pair passes k only for content/volume
        q_target=Fraction(q_t) if converts else None,
        q_bench=Fraction(q_b) if converts else None,
        k_pack=Fraction(k_pack),
        n_target=n_t,
        n_bench=n_b,
    )
    exponent = log2_exponent(x) if converts else Fraction(0)
    pack_exponent = log2_exponent(Fraction(n_t, n_b))
    info = {
        "x": significant(x),
        "exponent": significant(exponent),
        "pack_exponent": significant(pack_exponent),
        "factor": significant(factor, 20),
    }
    return factor, info


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
    converted, converted_exact, cents = limit_parts(bench.price, bench.n, target.n, factor)
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
    return _finish(target, converted, converted_exact, cents, factors, tolerance_abs, tolerance_rel, bands)


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
    cents = div_half_up(fraction_of(min_price).numerator * 100, fraction_of(min_price).denominator)
    converted_exact = fraction_of(min_price) / target.n
    converted = to_decimal(converted_exact, 10)
    factors = _reference_factors(target.n, n_reference, _fmt_price(min_price), province)
    return _finish(target, converted, converted_exact, cents, factors, tolerance_abs, tolerance_rel, bands)


def _reference_factors(n_target: int, n_reference: int | None, formula: str, province: str) -> dict:
    """The explanation inputs of a 四同 flag (no conversion: factor 1, the other province's pack price)."""
    return {
        "kind": "reference",
        "k": "",
        "unit": "",
        "q_target": "",
        "q_bench": "",
        "x": "1",
        "exponent": "0",
        "k_pack": "",
        "n_target": n_target,
        "n_bench": n_reference or n_target,
        "pack_exponent": "0",
        "factor": "1",
        "limit_formula": formula,
        "province": province,
    }


def evaluate_reference_e4(
    *,
    target: Side,
    target_e4: int,
    min_price: Decimal,
    min_e4: int,
    province: str,
    n_reference: int | None,
    bands: list[tuple[Decimal, str]],
) -> Evaluation:
    """`evaluate_reference` for a pair already known to be flagged (four_same decided P_t > L_t·(1+rel)+abs
    in integers), with both prices given exactly in 1/10000 yuan: the same values, the same Decimal text,
    in integer arithmetic instead of Fractions (the detection of a province has tens of thousands).

    Every rounding is floor(a/b + 1/2) of the same rational as `evaluate_reference`'s, so the results are
    equal (tests/pricing/test_reference_e4.py)."""
    n = target.n
    cents = (2 * min_e4 + 100) // 200  # L_t: min_price half-up to the cent
    converted = Decimal((2 * min_e4 * 10**6 + n) // (2 * n)).scaleb(-10)  # min_price / n_t, 10 decimals
    ratio = Decimal((2 * target_e4 * 100 + cents) // (2 * cents)).scaleb(-4)  # P_t / L_t, 4 decimals
    factors = _reference_factors(n, n_reference, _fmt_price_cached(min_price), province)
    return Evaluation(
        converted=converted,
        converted_exact=Fraction(min_e4, 10_000 * n),
        limit=Decimal(cents).scaleb(-2),
        ratio=ratio,
        severity=severity(ratio, bands),
        flagged=True,
        factors=factors,
    )


@lru_cache(maxsize=100_000)  # reference prices repeat across targets
def _fmt_price_cached(value: Decimal) -> str:
    return _fmt_price(value)


def _finish(
    target: Side,
    converted: Decimal,
    converted_exact: Number,
    cents: int,
    factors: dict,
    tolerance_abs: Decimal,
    tolerance_rel: Decimal,
    bands: list[tuple[Decimal, str]],
) -> Evaluation:
    """Flag decision P_t > L_t·(1 + rel) + abs and the ratio, in exact integers/fractions."""
    pt = fraction_of(target.price)
    limit = Decimal(cents).scaleb(-2)
    if cents <= 0:
        flagged, r = False, Decimal(0)
    else:
        if tolerance_abs == 0 and tolerance_rel == 0:
            flagged = pt.numerator * 100 > cents * pt.denominator
        else:
            flagged = exceeds(target.price, limit, tolerance_abs, tolerance_rel)
        r = Decimal(div_half_up(pt.numerator * 1_000_000, pt.denominator * cents)).scaleb(-4)
    return Evaluation(
        converted=converted,
        converted_exact=converted_exact,
        limit=limit,
        ratio=r,
        severity=severity(r, bands),
        flagged=flagged,
        factors=factors,
    )
