"""Round lifecycle after the notice (公示之后): closing the appeal window (申诉截止) and publishing
the frozen, versioned final correction list (最终纠偏清单)."""

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from pricing.models import CorrectionRound, FinalEntry, FinalList, Flag, FlagStatus, RoundEvent, RoundStatus
from pricing.review.binding import binding_limits
from pricing.review.repricing import reprice, severity_bands

from .errors import NotAllowed, NotFound, RoundStateError
from .models import Appeal, AppealStatus
from .services import expire_draft
from .workflow import deadline_passed


def _lock(round_id: int) -> CorrectionRound:
    try:
        return CorrectionRound.objects.select_for_update(no_key=True).get(pk=round_id)
    except CorrectionRound.DoesNotExist:
        raise NotFound(_("纠偏批次不存在。")) from None


def close_preview(round_id: int) -> dict[str, Any]:
    """What closing the window will do: early or not, drafts that lapse (and whose), appeals waiting."""
    round_ = CorrectionRound.objects.get(pk=round_id)
    drafts = Appeal.objects.filter(round=round_, status=AppealStatus.DRAFT)
    return {
        "round": round_,
        "now": timezone.now(),
        "early": not deadline_passed(round_.appeal_deadline, timezone.now()),
        "drafts": drafts.count(),
        "draft_companies": sorted(set(drafts.values_list("company__name", flat=True))),
        "submitted": pending_appeal_count(round_.pk),
        "companies": Flag.objects.filter(round=round_, status=FlagStatus.CONFIRMED)
        .values("manufacturer_id")
        .distinct()
        .count(),
    }


def final_preview(round_id: int) -> dict[str, Any]:
    """What publishing the final list will do: listings and companies at their 执行限价, how many
    were fixed by a decision or an appeal, what appeals withdrew, what still blocks it."""
    round_ = CorrectionRound.objects.get(pk=round_id)
    limits = binding_limits(round_.pk, scope="confirmed")
    companies = set(
        Flag.objects.filter(round=round_, listing_id__in=list(limits)).values_list("manufacturer_id", flat=True)
    )
    return {
        "round": round_,
        "listings": len(limits),
        "companies": len(companies),
        "decided": sum(1 for b in limits.values() if b.basis == "decision"),
        "withdrawn": Flag.objects.filter(round=round_, status=FlagStatus.WITHDRAWN).count(),
        "pending_appeals": pending_appeal_count(round_.pk),
        "version": (FinalList.objects.filter(round=round_).aggregate(v=Max("version"))["v"] or 0) + 1,
    }


def close_appeal_window(round_id: int, *, user: Any = None) -> CorrectionRound:
    """PUBLISHED → CLOSED. The system (user=None) closes only after the deadline; an admin may
    close earlier by decision. Drafts of the round lapse (withdrawn, with an event)."""
    if user is not None and not getattr(user, "is_admin_role", False):
        raise NotAllowed(_("只有管理员可以关闭申诉期。"))
    with transaction.atomic():
        round_ = _lock(round_id)
        if round_.status != RoundStatus.PUBLISHED:
            raise RoundStateError(
                _("只有公示中的批次可以关闭申诉期（当前：%(s)s）。") % {"s": round_.get_status_display()}
            )
        now = timezone.now()
        early = not deadline_passed(round_.appeal_deadline, now)
        if user is None and early:
            raise RoundStateError(_("申诉截止时间未到。"))
        drafts = list(Appeal.objects.select_for_update().filter(round=round_, status=AppealStatus.DRAFT))
        for appeal in drafts:
            expire_draft(appeal, user=user)
        round_.status, round_.closed_at = RoundStatus.CLOSED, now
        round_.lock_version += 1
        round_.save(update_fields=["status", "closed_at", "lock_version"])
        detail = {"early": early, "expired_drafts": len(drafts)}
        RoundEvent.objects.create(round=round_, action="closed", actor=user, detail=detail)
        record(
            actor=user,
            action="round.close_appeals",
            obj=round_,
            before={"status": RoundStatus.PUBLISHED},
            after={"status": RoundStatus.CLOSED, **detail},
            reason=_("管理员提前关闭申诉期") if early else _("申诉截止"),
        )
    return round_


def close_expired_windows() -> list[int]:
    """Close every published round whose deadline has passed (idempotent; for a beat task)."""
    closed = []
    due = CorrectionRound.objects.filter(status=RoundStatus.PUBLISHED, appeal_deadline__lt=timezone.now())
    for round_id in due.values_list("pk", flat=True):
        try:
            close_appeal_window(round_id)
        except RoundStateError:  # closed meanwhile by an admin or another run
            continue
        closed.append(round_id)
    return closed


def pending_appeal_count(round_id: int) -> int:
    return Appeal.objects.filter(round_id=round_id, status=AppealStatus.SUBMITTED).count()


def publish_final_list(round_id: int, *, user: Any) -> FinalList:
    """CLOSED → FINAL: freeze every listing with a confirmed flag (withdrawn ones excluded) with its
    执行限价 after appeals into a new FinalList version — one entry per listing, every flag behind it
    as a reason. Only when every submitted appeal is decided."""
    if not getattr(user, "is_admin_role", False):
        raise NotAllowed(_("只有管理员可以发布最终纠偏清单。"))
    with transaction.atomic():
        round_ = _lock(round_id)
        if round_.status != RoundStatus.CLOSED:
            raise RoundStateError(
                _("只有申诉截止后的批次可以发布最终纠偏清单（当前：%(s)s）。") % {"s": round_.get_status_display()}
            )
        pending = pending_appeal_count(round_.pk)
        if pending:
            raise RoundStateError(_("仍有 %(n)d 件申诉未处理，处理完毕后才能发布。") % {"n": pending})
        version = (FinalList.objects.filter(round=round_).aggregate(v=Max("version"))["v"] or 0) + 1
        final = FinalList.objects.create(round=round_, version=version, published_by=user)
        entries = final_entries(final, round_)
        FinalEntry.objects.bulk_create(entries, batch_size=2000)
        final.entry_count = len(entries)
        final.save(update_fields=["entry_count"])
        now = timezone.now()
        round_.status, round_.finalized_at = RoundStatus.FINAL, now
        round_.lock_version += 1
        round_.save(update_fields=["status", "finalized_at", "lock_version"])
        detail = {"final_list": final.pk, "version": version, "entries": len(entries)}
        RoundEvent.objects.create(round=round_, action="finalised", actor=user, detail=detail)
        record(
            actor=user,
            action="round.publish_final",
            obj=round_,
            before={"status": RoundStatus.CLOSED},
            after={"status": RoundStatus.FINAL, **detail},
        )
    return final


def final_entries(final: FinalList, round_: CorrectionRound) -> list[FinalEntry]:
    """One entry per listing with a confirmed flag: its 执行限价 (binding limit) and every reason,
    highest ratio first."""
    bands = severity_bands(round_)
    limits = sorted(binding_limits(round_.pk, scope="confirmed").values(), key=lambda b: (-b.ratio, b.listing_id))
    entries = []
    for b in limits:
        values = reprice(b.listed_price, b.limit, bands)
        entries.append(
            FinalEntry(
                final_list=final,
                flag_id=b.binding_reason.flag_id,
                listing_id=b.listing_id,
                status=FlagStatus.CONFIRMED,
                limit_price=b.limit,
                listed_price=b.listed_price,
                ratio=values.ratio,
                severity=values.severity,
                overcharge=values.overcharge,
                basis=b.basis,
                reasons=[r.as_json() for r in b.reasons],
            )
        )
    return entries


def latest_final_list(round_id: int) -> FinalList | None:
    return FinalList.objects.filter(round_id=round_id).order_by("-version").first()
