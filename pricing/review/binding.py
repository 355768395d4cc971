"""执行限价 (binding limit): one limit per listing per round, with every reason behind it.

A listing may break several rules in one round; each flag carries its own limit — the rule's
(纠偏限价) or one fixed by a regulator's 调整限价 / an appeal's 部分采纳 (`adjusted_limit_price`).
What the manufacturer must comply with is ONE price per listing:

- if any flag of the listing in scope has a limit fixed by a decision or an appeal, the lowest such
  fixed value binds (the decision was taken with the listing's other flags in view and overrides
  the rules' arithmetic);
- otherwise the lowest rule limit among its flags in scope binds.

Every flag in scope stays listed as a reason (rule, its own limit, the rule's limit, decided or
not). Compliance checks, the manufacturer's notice, appeals, exports and the final list read the
binding limit from here (or from `binding_limit_expression`, the same rule in SQL), never recompute it.

Scopes: "final" — the latest published final list of the round (frozen FinalEntry rows, one per
listing); "confirmed" — flags confirmed by a regulator; "all" — every flag not dismissed or
withdrawn (pending included).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from pricing.engine.conversion import ratio as price_ratio
from pricing.models import FinalEntry, FinalList, Flag, FlagStatus

Scope = Literal["final", "confirmed", "all"]
SCOPES: tuple[Scope, ...] = ("final", "confirmed", "all")
BASIS_RULE = "rule"
BASIS_DECISION = "decision"
_STATUSES: dict[str, tuple[str, ...]] = {
    "confirmed": (FlagStatus.CONFIRMED,),
    "all": (FlagStatus.CONFIRMED, FlagStatus.PENDING),
}


@dataclass(frozen=True)
class BindingReason:
    """One flag behind a binding limit: its rule and its own limit."""

    flag_id: int
    rule_code: str
    limit: Decimal
    decided: bool  # the limit was fixed by a decision or an appeal, not by the rule
    rule_limit: Decimal | None = None  # the rule's own 纠偏限价 (before any decision)

    def as_json(self) -> dict[str, Any]:
        return {
            "flag_id": self.flag_id,
            "rule_code": self.rule_code,
            "limit": str(self.limit),
            "decided": self.decided,
            "rule_limit": None if self.rule_limit is None else str(self.rule_limit),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BindingReason:
        rule_limit = data.get("rule_limit")
        return cls(
            flag_id=int(data["flag_id"]),
            rule_code=str(data["rule_code"]),
            limit=Decimal(str(data["limit"])),
            decided=bool(data["decided"]),
            rule_limit=None if rule_limit is None else Decimal(str(rule_limit)),
        )


@dataclass(frozen=True)
class BindingLimit:
    listing_id: int
    listed_price: Decimal
    limit: Decimal
    reasons: tuple[BindingReason, ...]

    @property
    def ratio(self) -> Decimal:
        """价差倍数 against the binding limit, 4 places (half-up, as the engine rounds)."""
        return price_ratio(self.listed_price, self.limit)

    @property
    def overcharge(self) -> Decimal:
        """超限金额 P − L against the binding limit."""
        return (self.listed_price - self.limit).quantize(Decimal("0.01"))

    @property
    def basis(self) -> str:
        """ "decision" when a decided value binds, "rule" when the rules' lowest limit binds."""
        return BASIS_DECISION if any(r.decided for r in self.reasons) else BASIS_RULE

    @property
    def binding_reason(self) -> BindingReason:
        """The reason whose limit binds (the first one: reasons are ordered binding-first)."""
        return self.reasons[0]


def _order_key(reason: BindingReason) -> tuple[int, Decimal, int]:
    return (0 if reason.decided else 1, reason.limit, reason.flag_id)


def combine(listing_id: int, listed_price: Decimal, reasons: Iterable[BindingReason]) -> BindingLimit:
    """The binding limit of one listing: the lowest decided limit if any, else the lowest rule limit.

    Reasons come back ordered with the binding one first (decided ones first, then by limit)."""
    ordered = tuple(sorted(reasons, key=_order_key))
    if not ordered:
        raise ValueError("a binding limit needs at least one flag")
    return BindingLimit(listing_id=listing_id, listed_price=listed_price, limit=ordered[0].limit, reasons=ordered)


def _group(rows: Iterable[tuple[int, Decimal, BindingReason]]) -> dict[int, BindingLimit]:
    grouped: dict[int, tuple[Decimal, list[BindingReason]]] = {}
    for listing_id, price, reason in rows:
        grouped.setdefault(listing_id, (price, []))[1].append(reason)
    return {lid: combine(lid, price, reasons) for lid, (price, reasons) in grouped.items()}


def reason_of(flag: Flag) -> BindingReason:
    return BindingReason(
        flag.pk, flag.rule_code, flag.effective_limit_price, flag.adjusted_limit_price is not None, flag.limit_price
    )


def _final_limits(final: FinalList, listing_ids: Iterable[int] | None = None) -> dict[int, BindingLimit]:
    entries = FinalEntry.objects.filter(final_list=final).select_related("flag")
    if listing_ids is not None:
        entries = entries.filter(
            Q(listing_id__in=listing_ids) | Q(listing__isnull=True, flag__listing_id__in=listing_ids)
        )
    result: dict[int, BindingLimit] = {}
    legacy: list[tuple[int, Decimal, BindingReason]] = []
    for e in entries.iterator(chunk_size=2000):
        if e.listing_id is None:  # a list published before lists were per listing: one row per flag
            legacy.append((e.flag.listing_id, e.flag.target_price, reason_of(e.flag)))
            continue
        reasons = tuple(BindingReason.from_json(r) for r in e.reasons)
        result[e.listing_id] = BindingLimit(e.listing_id, e.listed_price, e.limit_price, reasons)
    result.update(_group(legacy))
    return result


def binding_limits(
    round_id: int, *, scope: Scope = "confirmed", listing_ids: Iterable[int] | None = None
) -> dict[int, BindingLimit]:
    """listing id → BindingLimit for one round in the given scope (empty when nothing is in scope).

    `listing_ids` restricts the answer to those listings (a page, one appeal)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    ids = None if listing_ids is None else list(listing_ids)
    if scope == "final":
        final = FinalList.objects.filter(round_id=round_id).order_by("-version").first()
        return {} if final is None else _final_limits(final, ids)
    flags = Flag.objects.filter(round_id=round_id, status__in=_STATUSES[scope])
    if ids is not None:
        flags = flags.filter(listing_id__in=ids)
    flags = flags.only("id", "listing_id", "rule_code", "target_price", "limit_price", "adjusted_limit_price")
    # a whole round streams in chunks; a page's or one listing's flags are few (one plain query:
    # a server-side cursor costs three round trips on PostgreSQL)
    rows = flags.iterator(chunk_size=2000) if ids is None else flags
    return _group((f.listing_id, f.target_price, reason_of(f)) for f in rows)


def binding_limit_among(flags: Iterable[Flag], *, scope: Scope = "all") -> BindingLimit | None:
    """As `binding_limit_of`, from one listing's flags of one round already read (the detail page reads
    them once for this and for its list of the listing's other flags). Not for the "final" scope."""
    if scope not in _STATUSES:
        raise ValueError(f"scope {scope!r} is read from the final list, not from flags")
    in_scope = [f for f in flags if f.status in _STATUSES[scope]]
    if not in_scope:
        return None
    return combine(in_scope[0].listing_id, in_scope[0].target_price, (reason_of(f) for f in in_scope))


def binding_limit_of(flag: Flag, *, scope: Scope = "all") -> BindingLimit | None:
    """The binding limit of the flag's listing in the flag's round (None when nothing is in scope)."""
    return binding_limits(flag.round_id, scope=scope, listing_ids=[flag.listing_id]).get(flag.listing_id)


def binding_limit_expression(
    scope: Scope = "confirmed", *, listing_ref: str = "listing_id", round_ref: str = "round_id"
):
    """The same rule as `combine`, as an SQL expression to annotate Flag querysets with (exports).

    Null when the listing has no flag in scope. For "final" it reads the latest final list's entry."""
    if scope == "final":
        latest = FinalList.objects.filter(round_id=OuterRef(OuterRef(round_ref))).order_by("-version").values("pk")[:1]
        entry = FinalEntry.objects.filter(final_list_id=Subquery(latest), listing_id=OuterRef(listing_ref))
        return Subquery(entry.values("limit_price")[:1])
    peers = Flag.objects.filter(
        round_id=OuterRef(round_ref), listing_id=OuterRef(listing_ref), status__in=_STATUSES[scope]
    ).order_by()
    decided = (
        peers.filter(adjusted_limit_price__isnull=False).values("listing_id").annotate(m=Min("adjusted_limit_price"))
    )
    ruled = peers.values("listing_id").annotate(m=Min("limit_price"))
    return Coalesce(Subquery(decided.values("m")[:1]), Subquery(ruled.values("m")[:1]))


__all__ = [
    "BASIS_DECISION",
    "BASIS_RULE",
    "SCOPES",
    "BindingLimit",
    "BindingReason",
    "Scope",
    "binding_limit_among",
    "binding_limit_expression",
    "binding_limit_of",
    "binding_limits",
    "combine",
    "reason_of",
]
