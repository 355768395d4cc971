"""Repricing a flag (重算): ratio, overcharge and severity follow every change of its limit.

The engine stores 价差倍数 r = P/L, 超限金额 P − L and 风险等级 for the rule's limit. When a decision
(调整限价) or an appeal (部分采纳) fixes another limit, the same three are recomputed here against the
new limit, with the round's rule-set severity bands, so pages and exports never show a stale ratio
(45.00 adjusted from 20.57 to 15.00 → ratio 3.0000, not 2.1877).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from pricing.engine.conversion import ratio as price_ratio
from pricing.engine.conversion import severity as severity_band
from pricing.engine.ruleset import RuleParams
from pricing.models import CorrectionRound, Flag


@dataclass(frozen=True)
class Repriced:
    ratio: Decimal
    overcharge: Decimal
    severity: str


def severity_bands(round_: CorrectionRound) -> list[tuple[Decimal, str]]:
    """The round's rule-set severity bands (ascending lower bounds)."""
    return RuleParams.from_rule_set(round_.rule_set).bands


def reprice(listed_price: Decimal, limit: Decimal, bands: list[tuple[Decimal, str]]) -> Repriced:
    """r = P/L (4 dp, half-up), P − L (2 dp) and the severity band of r."""
    r = price_ratio(listed_price, limit)
    overcharge = (Decimal(listed_price) - Decimal(limit)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Repriced(ratio=r, overcharge=overcharge, severity=severity_band(r, bands))


def reprice_flag(flag: Flag, bands: list[tuple[Decimal, str]] | None = None) -> list[str]:
    """Set the flag's ratio/overcharge/severity from its effective limit; returns the changed fields."""
    values = reprice(flag.target_price, flag.effective_limit_price, bands or severity_bands(flag.round))
    flag.ratio, flag.overcharge, flag.severity = values.ratio, values.overcharge, values.severity
    return ["ratio", "overcharge", "severity"]
