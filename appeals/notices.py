"""The manufacturer's notice, an appeal and the staff review, per listing (一个挂网药品一行).

A listing may carry several flags in a round; the manufacturer must comply with one price, its
执行限价 (pricing.review.binding). These rows group a set of flags by listing with that binding
limit and, under it, every flag (type, own limit, benchmark, arithmetic, appeal link).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pricing.models import CorrectionRound, Flag, FlagStatus, RoundStatus
from pricing.review.binding import BindingLimit, binding_limits

from .explain import explanation
from .models import Appeal, AppealFlag


@dataclass
class FlagRow:
    flag: Flag
    steps: list[dict[str, str]]
    appeal: Appeal | None = None  # the active appeal covering the flag
    link: AppealFlag | None = None  # the flag's link in the appeal being shown

    @property
    def proposed_price(self) -> Decimal | None:
        return self.link.proposed_price if self.link else None


@dataclass
class ListingRow:
    listing: Any
    binding: BindingLimit | None
    flags: list[FlagRow] = field(default_factory=list)

    @property
    def appeal(self) -> Appeal | None:
        return next((r.appeal for r in self.flags if r.appeal is not None), None)

    @property
    def confirmed(self) -> list[FlagRow]:
        return [r for r in self.flags if r.flag.status == FlagStatus.CONFIRMED]

    @property
    def first_flag(self) -> Flag:
        return self.flags[0].flag

    @property
    def withdrawn(self) -> bool:
        return self.binding is None and all(r.flag.status == FlagStatus.WITHDRAWN for r in self.flags)


def binding_scope(round_: CorrectionRound) -> str:
    """What binds the manufacturer: the final list once published, the confirmed flags before."""
    return "final" if round_.status == RoundStatus.FINAL else "confirmed"


def listing_rows(
    flags: Iterable[Flag],
    round_: CorrectionRound,
    *,
    appeals: dict[int, Appeal] | None = None,
    links: dict[int, AppealFlag] | None = None,
    with_steps: bool = True,
) -> list[ListingRow]:
    """Group `flags` (one round) by listing, highest binding ratio first; each listing with its
    binding limit and every flag under it."""
    flags = list(flags)
    limits = binding_limits(round_.pk, scope=binding_scope(round_), listing_ids={f.listing_id for f in flags})
    rows: dict[int, ListingRow] = {}
    for f in flags:
        row = rows.setdefault(f.listing_id, ListingRow(listing=f.listing, binding=limits.get(f.listing_id)))
        row.flags.append(
            FlagRow(
                flag=f,
                steps=explanation(f) if with_steps else [],
                appeal=(appeals or {}).get(f.pk),
                link=(links or {}).get(f.pk),
            )
        )
    for row in rows.values():
        order = {r.flag_id: i for i, r in enumerate(row.binding.reasons)} if row.binding else {}
        row.flags.sort(key=lambda r: (order.get(r.flag.pk, len(order)), r.flag.pk))
    return sorted(
        rows.values(),
        key=lambda r: (r.binding is None, -(r.binding.ratio if r.binding else Decimal(0)), r.listing.listing_code),
    )


def appeal_rows(appeal: Appeal, *, with_steps: bool = True) -> list[ListingRow]:
    """The listings of one appeal, each flag with its link (proposed price, new limit)."""
    links = {
        link.flag_id: link
        for link in AppealFlag.objects.filter(appeal=appeal).select_related(
            "flag__listing", "flag__benchmark_listing", "flag__manufacturer", "flag__round"
        )
    }
    flags = [link.flag for link in links.values()]
    return listing_rows(flags, appeal.round, links=links, with_steps=with_steps)
