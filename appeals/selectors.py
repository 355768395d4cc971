"""Reads for the appeal pages and API. THE tenant filter lives here and nowhere else:
a manufacturer sees only its own company's confirmed/withdrawn flags in published, closed or
final rounds, and its own appeals and evidence; regulators and admins see everything."""

from typing import Any

from django.db.models import Case, Count, Prefetch, Q, QuerySet, When

from pricing.models import CorrectionRound, Flag, FlagStatus, RoundStatus

from .models import Appeal, AppealFlag, AppealStatus, Evidence

VISIBLE_ROUND_STATUSES = (RoundStatus.PUBLISHED, RoundStatus.CLOSED, RoundStatus.FINAL)
VISIBLE_FLAG_STATUSES = (FlagStatus.CONFIRMED, FlagStatus.WITHDRAWN)


def _is_staff(user: Any) -> bool:
    return bool(user and user.is_authenticated and getattr(user, "is_regulator", False))


def _company_id(user: Any) -> int | None:
    if user and user.is_authenticated and getattr(user, "is_manufacturer", False):
        return user.company_id
    return None


def visible_flags(user: Any) -> QuerySet[Flag]:
    """Flags the user may see (staff: all; manufacturer: own company's published ones)."""
    qs = Flag.objects.select_related("round", "listing", "manufacturer", "benchmark_listing", "benchmark_reference")
    if _is_staff(user):
        return qs
    company_id = _company_id(user)
    if company_id is None:
        return qs.none()
    return qs.filter(
        manufacturer_id=company_id,
        round__status__in=VISIBLE_ROUND_STATUSES,
        status__in=VISIBLE_FLAG_STATUSES,
    )


def visible_appeals(user: Any) -> QuerySet[Appeal]:
    """Appeals the user may see (staff: all; manufacturer: its company's)."""
    qs = Appeal.objects.select_related("round", "company", "created_by", "decided_by").prefetch_related(
        Prefetch("flags", queryset=Flag.objects.select_related("listing")), "evidence"
    )
    if _is_staff(user):
        return qs
    company_id = _company_id(user)
    if company_id is None:
        return qs.none()
    return qs.filter(company_id=company_id)


def visible_evidence(user: Any) -> QuerySet[Evidence]:
    qs = Evidence.objects.select_related("appeal")
    if _is_staff(user):
        return qs
    company_id = _company_id(user)
    if company_id is None:
        return qs.none()
    return qs.filter(appeal__company_id=company_id)


def notice_rounds(user: Any) -> QuerySet[CorrectionRound]:
    """Rounds (published/closed/final) in which the user's company has visible flags, newest first."""
    flag_rounds = visible_flags(user).values("round_id")
    return (
        CorrectionRound.objects.filter(pk__in=flag_rounds, status__in=VISIBLE_ROUND_STATUSES)
        .annotate(my_flag_count=Count("flags", filter=Q(flags__in=visible_flags(user).values("pk"))))
        .order_by("-published_at", "-id")
    )


def active_appeal_by_flag(flag_ids: list[int]) -> dict[int, Appeal]:
    """flag id -> the active appeal covering it (at most one by the DB constraint)."""
    links = AppealFlag.objects.filter(flag_id__in=flag_ids, active=True).select_related("appeal")
    return {link.flag_id: link.appeal for link in links}


def appealable_flags(user: Any, round_id: int) -> QuerySet[Flag]:
    """The user's confirmed flags of a round that no active appeal covers yet."""
    return (
        visible_flags(user)
        .filter(round_id=round_id, status=FlagStatus.CONFIRMED, round__status=RoundStatus.PUBLISHED)
        .exclude(appeal_links__active=True)
    )


def appeal_queue(user: Any, *, round_id: Any = None, status: str = "", grounds: str = "", company_id: Any = None):
    """The regulator's appeal queue with optional filters (already tenant-filtered)."""
    qs = visible_appeals(user).annotate(flag_count=Count("links", distinct=True))
    if round_id:
        qs = qs.filter(round_id=round_id)
    if status:
        qs = qs.filter(status=status)
    else:
        qs = qs.exclude(status__in=[AppealStatus.DRAFT])
    if grounds:
        qs = qs.filter(grounds=grounds)
    if company_id:
        qs = qs.filter(company_id=company_id)
    return qs.order_by("submitted_at", "id")


def with_binding_limit(flags: QuerySet[Flag]) -> QuerySet[Flag]:
    """Annotate `binding_limit_price`: the listing's 执行限价 as the manufacturer is bound by it —
    the final list's once the round's final list is published, the confirmed flags' before
    (notices.binding_scope, as one SQL expression per row). Null when nothing binds the listing."""
    from pricing.review.binding import binding_limit_expression

    return flags.annotate(
        binding_limit_price=Case(
            When(round__status=RoundStatus.FINAL, then=binding_limit_expression("final")),
            default=binding_limit_expression("confirmed"),
        )
    )
