"""执行限价 (binding limit): one limit per listing per round, with every reason behind it.

A listing may break several rules in one round; each flag carries its own limit (the rule's, or the
one fixed by a decision or an appeal). What the manufacturer must comply with is one price: the
lowest limit among the listing's flags in scope. Compliance checks, the manufacturer's notice and
the final list read it from here, never recompute it.

Scopes: "final" — the latest published final list of the round; "confirmed" — flags confirmed by a
regulator; "all" — every flag not dismissed or withdrawn (pending included).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pricing.models import FinalEntry, FinalList, Flag, FlagStatus

Scope = Literal["final", "confirmed", "all"]
SCOPES: tuple[Scope, ...] = ("final", "confirmed", "all")


@dataclass(frozen=True)
class BindingReason:
    """One flag behind a binding limit: its rule and its own limit."""

    flag_id: int
    rule_code: str
    limit: Decimal
    decided: bool  # the limit was fixed by a decision or an appeal, not by the rule


@dataclass(frozen=True)
class BindingLimit:
    listing_id: int
    listed_price: Decimal
    limit: Decimal
    reasons: tuple[BindingReason, ...]

    @property
    def ratio(self) -> Decimal:
        """价差倍数 against the binding limit, 4 places."""
        return (self.listed_price / self.limit).quantize(Decimal("0.0001"))


def combine(listing_id: int, listed_price: Decimal, reasons: Iterable[BindingReason]) -> BindingLimit:
    """The binding limit of one listing: the lowest limit among its reasons."""
    ordered = tuple(sorted(reasons, key=lambda r: (r.limit, r.flag_id)))
    if not ordered:
        raise ValueError("a binding limit needs at least one flag")
    return BindingLimit(listing_id=listing_id, listed_price=listed_price, limit=ordered[0].limit, reasons=ordered)


def _group(rows: Iterable[tuple[int, Decimal, BindingReason]]) -> dict[int, BindingLimit]:
    grouped: dict[int, tuple[Decimal, list[BindingReason]]] = {}
    for listing_id, price, reason in rows:
        grouped.setdefault(listing_id, (price, []))[1].append(reason)
    return {lid: combine(lid, price, reasons) for lid, (price, reasons) in grouped.items()}


def binding_limits(round_id: int, *, scope: Scope = "confirmed") -> dict[int, BindingLimit]:
    """listing id → BindingLimit for one round in the given scope (empty when nothing is in scope)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    if scope == "final":
        final = FinalList.objects.filter(round_id=round_id).order_by("-version").first()
        if final is None:
            return {}
        entries = FinalEntry.objects.filter(final_list=final).select_related("flag")
        return _group(
            (
                e.flag.listing_id,
                e.flag.target_price,
                BindingReason(e.flag_id, e.flag.rule_code, e.limit_price, e.limit_price != e.flag.limit_price),
            )
            for e in entries.iterator(chunk_size=2000)
        )
    statuses = [FlagStatus.CONFIRMED] if scope == "confirmed" else [FlagStatus.CONFIRMED, FlagStatus.PENDING]
    flags = Flag.objects.filter(round_id=round_id, status__in=statuses).only(
        "id", "listing_id", "rule_code", "target_price", "limit_price", "adjusted_limit_price"
    )
    return _group(
        (
            f.listing_id,
            f.target_price,
            BindingReason(f.pk, f.rule_code, f.effective_limit_price, f.adjusted_limit_price is not None),
        )
        for f in flags.iterator(chunk_size=2000)
    )
