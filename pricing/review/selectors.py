"""Reads for the review workspace (审核工作台). The tenant/role filter lives here, in one place.

Staff (regulators, admins) see every round and flag; any other user sees nothing through these
selectors (manufacturers read their own published flags through appeals' selectors).
Aggregations run in the database (values/annotate); flags are never all loaded into Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.core.cache import cache
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from catalogue.models import Listing
from pricing.models import CorrectionRound, Flag, FlagDecision, FlagStatus, RoundStatus, RuleCode, Severity


def _is_staff(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_regulator", False))


def rounds_for(user: Any) -> QuerySet[CorrectionRound]:
    """Rounds a user may review: all for staff, none otherwise."""
    qs = CorrectionRound.objects.select_related("catalogue_version", "rule_set")
    return qs if _is_staff(user) else qs.none()


def flags_for(user: Any) -> QuerySet[Flag]:
    """Flags a user may review: all for staff, none otherwise (the one tenant filter)."""
    return Flag.objects.all() if _is_staff(user) else Flag.objects.none()


def flag_list(user: Any, round_id: int) -> QuerySet[Flag]:
    """The list page's base queryset, for its filters, sort, count and the page's ids; the shown
    columns of a page's rows are read by pricing.review.list_rows."""
    return flags_for(user).filter(round_id=round_id)


def flag_detail(user: Any, flag_id: int) -> Flag:
    return (
        flags_for(user)
        .select_related(
            "round",
            "round__rule_set",
            "listing",
            "benchmark_listing",
            "benchmark_reference",
            "manufacturer",
        )
        .get(pk=flag_id)
    )


def round_summaries(user: Any) -> list[CorrectionRound]:
    """Rounds with per-status counts (`n_flags`, `n_pending`, …) for the staff home page: one
    GROUP BY on the flag table's (round, status) index instead of a join per round."""
    rounds = list(rounds_for(user))
    counts: dict[int, dict[str, int]] = {}
    rows = Flag.objects.filter(round_id__in=[r.pk for r in rounds]).order_by().values("round_id", "status")
    for row in rows.annotate(n=Count("id")):
        counts.setdefault(row["round_id"], {})[row["status"]] = row["n"]
    for r in rounds:
        c = counts.get(r.pk, {})
        r.n_flags = sum(c.values())
        r.n_pending = c.get(FlagStatus.PENDING, 0)
        r.n_confirmed = c.get(FlagStatus.CONFIRMED, 0)
        r.n_dismissed = c.get(FlagStatus.DISMISSED, 0)
    return rounds


@dataclass
class RoundCounts:
    total: int
    by_status: dict[str, int]
    by_rule: dict[str, int]
    by_severity: dict[str, int]
    rule_severity: dict[tuple[str, str], int]


def round_counts(round_id: int) -> RoundCounts:
    """Counts by rule × severity and by status: two GROUP BY queries on the flag table."""
    base = Flag.objects.filter(round_id=round_id).order_by()
    rule_severity = {
        (r["rule_code"], r["severity"]): r["n"] for r in base.values("rule_code", "severity").annotate(n=Count("id"))
    }
    by_status = {s.value: 0 for s in FlagStatus}
    for r in base.values("status").annotate(n=Count("id")):
        by_status[r["status"]] = r["n"]
    by_rule = {c.value: 0 for c in RuleCode}
    by_severity = {s.value: 0 for s in Severity}
    for (rule, sev), n in rule_severity.items():
        by_rule[rule] = by_rule.get(rule, 0) + n
        by_severity[sev] = by_severity.get(sev, 0) + n
    return RoundCounts(sum(by_status.values()), by_status, by_rule, by_severity, rule_severity)


def effective_overcharge() -> ExpressionWrapper:
    """P_t − L_t with the adjusted limit price when a regulator changed it."""
    return ExpressionWrapper(
        F("target_price") - Coalesce("adjusted_limit_price", "limit_price"),
        output_field=DecimalField(max_digits=16, decimal_places=4),
    )


def top_manufacturers(round_id: int, order: str, limit: int = 15) -> list[dict]:
    """Manufacturers by flag count (`order="n"`) or by overcharge Σ(P_t − L_t) (`order="amount"`),
    counting flags not dismissed or withdrawn."""
    qs = (
        Flag.objects.filter(round_id=round_id)
        .exclude(status__in=[FlagStatus.DISMISSED, FlagStatus.WITHDRAWN])
        .order_by()
        .values("manufacturer_id", "manufacturer__name")
        .annotate(n=Count("id"), amount=Sum(effective_overcharge()))
        .order_by(f"-{order}", "manufacturer__name")
    )
    return list(qs[:limit])


# log-spaced bins for 价差倍数 (r > 1 for every flag): 10^(i/8), 1 … 1000, plus overflow
RATIO_EDGES: list[Decimal] = [Decimal(str(round(10 ** (i / 8), 4))) for i in range(0, 25)]


def ratio_histogram(round_id: int) -> tuple[list[Decimal], list[int]]:
    """Counts of flags per log-spaced ratio bin, in one aggregate query."""
    edges = RATIO_EDGES
    aggregates: dict[str, Count] = {"under": Count("id", filter=Q(ratio__lt=edges[0]))}
    for i, lo in enumerate(edges):
        cond = Q(ratio__gte=lo) if i == len(edges) - 1 else Q(ratio__gte=lo, ratio__lt=edges[i + 1])
        aggregates[f"b{i}"] = Count("id", filter=cond)
    row = Flag.objects.filter(round_id=round_id).order_by().aggregate(**aggregates)
    counts = [row[f"b{i}"] for i in range(len(edges))]
    counts[0] += row["under"]
    return edges, counts


def form_groups(rnd: CorrectionRound) -> list[str]:
    """Distinct dosage-form groups of a round's flags (the filter's choices), cached until the
    round is re-detected: a round's flag set only changes through detection."""
    stamp = rnd.detected_at.timestamp() if rnd.detected_at else 0
    key = f"review:form_groups:{rnd.pk}:{stamp:.6f}:{rnd.flag_count}"

    def load() -> list[str]:
        qs = Flag.objects.filter(round_id=rnd.pk).order_by("form_group").values_list("form_group", flat=True)
        return list(qs.distinct())

    return cache.get_or_set(key, load, 600)


def decisions_of(flag: Flag) -> QuerySet[FlagDecision]:
    return flag.decisions.select_related("actor").order_by("at", "id")


def appeal_events_of(flag: Flag) -> list[dict]:
    """Appeals touching this flag with their events (empty while appeals have none)."""
    out = []
    links = flag.appeal_links.select_related("appeal", "appeal__company").prefetch_related("appeal__events__actor")
    for link in links:
        out.append({"appeal": link.appeal, "active": link.active, "events": list(link.appeal.events.all())})
    return out


def flag_history(flag: Flag) -> list[dict[str, Any]]:
    """处理记录: the flag's decisions and its appeals' events in time order, with Chinese labels
    (statuses as 待审核 / 确认纠偏 …, never the stored codes)."""
    from appeals.models import AppealStatus

    flag_labels = {k: str(v) for k, v in FlagStatus.choices}
    appeal_labels = {k: str(v) for k, v in AppealStatus.choices}
    rows: list[dict[str, Any]] = []
    for d in decisions_of(flag):
        rows.append(
            {
                "at": d.at,
                "what": str(d.get_action_display()),
                "actor": d.actor.get_username(),
                "change": f"{flag_labels.get(d.status_before, d.status_before)} → "
                f"{flag_labels.get(d.status_after, d.status_after)}",
                "limit": f"{d.limit_before if d.limit_before is not None else '—'} → "
                f"{d.limit_after if d.limit_after is not None else '—'}",
                "reason": d.reason,
                "kind": "decision",
                "order": (d.at, 0, d.pk),
            }
        )
    for item in appeal_events_of(flag):
        appeal = item["appeal"]
        for e in item["events"]:
            label = _("申诉#%(id)s 改判") if e.kind == "revise" else _("申诉#%(id)s")
            rows.append(
                {
                    "at": e.at,
                    "what": label % {"id": appeal.pk},
                    "actor": e.actor.get_username() if e.actor_id else _("系统"),
                    "change": (f"{appeal_labels.get(e.from_status, e.from_status)} → " if e.from_status else "")
                    + appeal_labels.get(e.to_status, e.to_status),
                    "limit": "—",
                    "reason": e.reason,
                    "kind": "appeal",
                    "appeal_id": appeal.pk,
                    "order": (e.at, 1, e.pk),
                }
            )
    rows.sort(key=lambda r: r["order"])
    return rows


def flags_on_listing(flag: Flag) -> list[Flag]:
    """Every flag of the flag's listing in its round (itself included): the detail page's binding limit
    (pricing.review.binding.binding_limit_among) and its list of the listing's other flags, one query."""
    return list(
        Flag.objects.filter(round_id=flag.round_id, listing_id=flag.listing_id).only(
            "id",
            "listing_id",
            "rule_code",
            "severity",
            "status",
            "target_price",
            "limit_price",
            "adjusted_limit_price",
        )
    )


def _quantities(target: Listing, other: Any) -> tuple[str, Decimal | None, Decimal | None] | None:
    """Comparison kind and quantities (RULES §3), or None when the specs are not comparable."""
    if target.content_value and other.content_value and target.content_unit == other.content_unit:
        return "content", target.content_value, other.content_value
    if not target.content_value and not other.content_value and target.volume_ml and other.volume_ml:
        return "volume", target.volume_ml, other.volume_ml
    if target.strength_norm == other.strength_norm:
        return "identical", None, None
    return None


# the comparison group's columns: its table, its chart and the spec comparison (`_quantities`)
GROUP_COLUMNS = (
    "id",
    "listing_code",
    "manufacturer_name",
    "dosage_form",
    "strength",
    "strength_norm",
    "content_value",
    "content_unit",
    "volume_ml",
    "pack_quantity",
    "quality_tier",
    "tier_class",
    "vbp_selected",
    "listed_price",
    "unit_price",
)


def comparison_group(flag: Flag) -> list[dict]:
    """Every active listing of the target's group in the round's catalogue version, with its unit
    price converted to the target's spec (None when not comparable), and the table's cells as
    plain values and display text (`*_text`: the `floatformat`/`yesno` text the template used to
    compute per cell), so the template reads dict keys only. `listing` is the row of GROUP_COLUMNS
    (a named tuple: `.id`, `.listing_code`, … as on the model)."""
    from pricing.engine.conversion import conversion_factor, converted_unit_price, round_half_up
    from pricing.review.display import decimal_separator, fixed, yes_no

    target = flag.listing
    params = flag.round.rule_set.params
    k_by_kind = {
        "content": Fraction(str(params.get("k_content", "1.7"))),
        "volume": Fraction(str(params.get("k_volume", "1.9"))),
    }
    k_pack = Fraction(str(params.get("k_pack", "2")))
    # F depends on the kind, the other listing's quantity and its pack (the target's are fixed):
    # listings of one group share a few specs, so each factor is computed once per page
    factors: dict[tuple[str, Decimal | None, int], Any] = {}
    listings = (
        Listing.objects.filter(
            version_id=flag.round.catalogue_version_id,
            generic_name_norm=target.generic_name_norm,
            form_group=target.form_group,
            is_active=True,
        )
        .order_by("unit_price", "listing_code")
        .values_list(*GROUP_COLUMNS, named=True)[:500]  # rows, not model instances: half the time
    )
    sep = decimal_separator()
    yes, no = yes_no()
    rows = []
    for other in listings:
        q = _quantities(target, other)
        converted = None
        if q is not None:
            kind, q_t, q_b = q
            key = (kind, q_b, other.pack_quantity)
            factor = factors.get(key)
            if factor is None:
                factor = factors[key] = conversion_factor(
                    k=k_by_kind.get(kind),
                    q_target=Fraction(q_t) if q_t is not None else None,
                    q_bench=Fraction(q_b) if q_b is not None else None,
                    k_pack=k_pack,
                    n_target=target.pack_quantity,
                    n_bench=other.pack_quantity,
                )
            converted = round_half_up(converted_unit_price(other.listed_price, other.pack_quantity, factor), 4)
        rows.append(
            {
                "listing": other,
                "converted": converted,
                "is_target": other.id == target.pk,
                "is_benchmark": other.id == flag.benchmark_listing_id,
                "code": other.listing_code,
                "maker": other.manufacturer_name,
                "dosage_form": other.dosage_form,
                "strength": other.strength,
                "pack_quantity": other.pack_quantity,
                "tier": f"{other.quality_tier}（{other.tier_class}）",
                "vbp_text": yes if other.vbp_selected else no,
                "listed_price_text": fixed(other.listed_price, 2, sep),
                "unit_price_text": fixed(other.unit_price, 4, sep),
                "converted_text": fixed(converted, 4, sep) if converted is not None else None,
            }
        )
    return rows


def round_is_open(rnd: CorrectionRound) -> bool:
    return rnd.status == RoundStatus.DRAFT
