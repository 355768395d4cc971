"""A binding limit expressed in another spec or pack (差比价, RULES.md §3), through the engine's
own limit-price arithmetic (pricing.engine.limits.evaluate_pair): no second conversion here.

Pure: rows are plain mappings with the matching frame's columns (spec, n, content, unit, volume).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pricing.engine.limits import Side, evaluate_pair
from pricing.engine.ruleset import RuleParams

ZERO = Decimal(0)


def _present(value: Any) -> bool:
    return value is not None and value == value  # NaN from a pandas frame is missing too


def comparison(source: Mapping[str, Any], target: Mapping[str, Any]) -> tuple[str, Any, Any, str] | None:
    """(kind, q_target, q_source, unit) as the engine compares two specs, or None when the specs
    are not comparable (different unit families, unparsed and not identical)."""
    if source["spec"] == target["spec"]:
        return "identical", None, None, ""
    s_content, t_content = (
        _present(source["content"]) and source["unit"],
        _present(target["content"]) and target["unit"],
    )
    if s_content and t_content and source["unit"] == target["unit"]:
        return "content", target["content"], source["content"], source["unit"]
    if not s_content and not t_content and _present(source["volume"]) and _present(target["volume"]):
        return "volume", target["volume"], source["volume"], "ml"
    return None


def convert_price(
    price: Decimal, source: Mapping[str, Any], target: Mapping[str, Any], params: RuleParams
) -> Decimal | None:
    """`price`, a pack price of `source`, as a pack price of `target`'s spec and pack quantity
    (half-up to the cent, exactly as a limit price is), or None when the specs are not comparable."""
    how = comparison(source, target)
    if how is None:
        return None
    kind, q_target, q_source, unit = how
    k = params.k_content if kind == "content" else params.k_volume if kind == "volume" else None
    evaluation = evaluate_pair(
        kind=kind,
        target=Side(price=price, n=int(target["n"]), quantity=q_target),
        bench=Side(price=price, n=int(source["n"]), quantity=q_source),
        unit=unit,
        k=k,
        k_pack=params.k_pack,
        tolerance_abs=ZERO,
        tolerance_rel=ZERO,
        bands=params.bands,
    )
    return evaluation.limit
