"""Repricing a flag (重算): ratio, overcharge and severity follow every change of its limit.

The engine stores 价差倍数 r = P/L, 超限金额 P − L and 风险等级 for the rule's limit. When a decision
(调整限价) or an appeal (部分采纳) fixes another limit, the same three are recomputed here against the
new limit, with the round's rule-set severity bands, so pages and exports never show a stale ratio
(45.00 adjusted from 20.57 to 15.00 → ratio 3.0000, not 2.1877).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from pricing.engine.conversion import ratio as price_ratio
from pricing.engine.conversion import severity as severity_band
from pricing.engine.ruleset import RuleParams
from pricing.models import CorrectionRound, Flag


class LimitRefused(ValueError):
    """A new limit that breaks the rule 0 < L < P (message in Chinese)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def clean_new_limit(value: Any, listed_price: Decimal) -> Decimal:
    """Any new limit, from any path (调整限价, 改判, 部分采纳): a cent amount with 0 < L < P.

    A limit at or above the listed price corrects nothing: that is 不予纠偏 / 采纳, not a limit."""
    try:
        limit = Decimal(str(value).strip()).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        raise LimitRefused(_("调整后限价「%(v)s」不是有效金额。") % {"v": value}) from None
    if not limit.is_finite():
        raise LimitRefused(_("调整后限价「%(v)s」不是有效金额。") % {"v": value})
    if limit <= 0:
        raise LimitRefused(_("调整后限价必须大于 0。"))
    if limit >= listed_price:
        raise LimitRefused(
            _("调整后限价 %(v)s 不低于挂网价格 %(p)s，应选择「不予纠偏」。") % {"v": limit, "p": listed_price}
        )
    return limit


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
