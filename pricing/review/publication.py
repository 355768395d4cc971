"""Publishing a round's notice (公示): confirmed flags go to the manufacturers with an appeal deadline.

From publication on the confirmed set is frozen (pricing.review refuses decisions) and changes go
through appeals. Deadlines are Asia/Shanghai wall-clock times stored in UTC; a date-only deadline
ends that day at 23:59:59.999999 (+08:00), i.e. 15:59:59.999999Z — the one rule is
appeals.workflow.normalise_deadline, which the appeal window checks against.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from appeals.workflow import SHANGHAI, normalise_deadline
from audit.services import record
from pricing.models import CorrectionRound, Flag, FlagDecision, FlagStatus, JobStatus, RoundEvent, RoundStatus

logger = logging.getLogger(__name__)


class PublishError(Exception):
    """Publication refused; the message (Chinese) says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


MAX_APPEAL_WINDOW = dt.timedelta(days=366)  # a deadline further ahead is a typo (issue 11)


class PendingFlags(PublishError):
    """Flags still 待审核: decide them or defer them explicitly (with the count shown)."""

    def __init__(self, message: str, *, pending: int) -> None:
        super().__init__(message)
        self.pending = pending


DEFER_REASON = "公示时尚未审核，经管理员确认转入下一批次"


def _defer(flag_ids: list[int], user: Any) -> int:
    """待审核 → 转下一批次, one FlagDecision per flag, inside publish_notice's transaction."""
    if not flag_ids:
        return 0
    now = timezone.now()
    for start in range(0, len(flag_ids), 2000):
        Flag.objects.filter(pk__in=flag_ids[start : start + 2000], status=FlagStatus.PENDING).update(
            status=FlagStatus.DEFERRED, lock_version=F("lock_version") + 1, updated_at=now
        )
    rows = Flag.objects.filter(pk__in=flag_ids).values_list("pk", "limit_price", "adjusted_limit_price")
    FlagDecision.objects.bulk_create(
        [
            FlagDecision(
                flag_id=pk,
                action=FlagDecision.Action.DEFER,
                actor=user,
                status_before=FlagStatus.PENDING,
                status_after=FlagStatus.DEFERRED,
                limit_before=adj if adj is not None else lim,
                limit_after=adj if adj is not None else lim,
                reason=DEFER_REASON,
            )
            for pk, lim, adj in rows.iterator(chunk_size=2000)
        ],
        batch_size=2000,
    )
    return len(flag_ids)


@dataclass(frozen=True)
class NoticePreview:
    """What publishing will do (shown before the admin confirms): counts, companies, pending flags."""

    confirmed: int
    listings: int
    companies: int
    pending: int
    dismissed: int
    per_company: list[dict[str, Any]]


def notice_preview(round_id: int, *, top: int = 20) -> NoticePreview:
    flags = Flag.objects.filter(round_id=round_id)
    by_status = dict(flags.order_by().values("status").annotate(n=Count("id")).values_list("status", "n"))
    confirmed = flags.filter(status=FlagStatus.CONFIRMED)
    per_company = list(
        confirmed.order_by()
        .values("manufacturer_id", "manufacturer__name")
        .annotate(flags=Count("id"), listings=Count("listing_id", distinct=True))
        .order_by("-flags", "manufacturer__name")
    )
    return NoticePreview(
        confirmed=by_status.get(FlagStatus.CONFIRMED, 0),
        listings=confirmed.values("listing_id").distinct().count(),
        companies=len(per_company),
        pending=by_status.get(FlagStatus.PENDING, 0),
        dismissed=by_status.get(FlagStatus.DISMISSED, 0),
        per_company=per_company[:top],
    )


def publish_notice(
    round_id: int,
    *,
    user: Any,
    deadline: dt.datetime | dt.date,
    notice_text: str = "",
    defer_pending: bool = False,
    expected_pending: int | None = None,
    evidence_required: bool = True,
    dry_run: bool = False,
) -> CorrectionRound:
    """Publish a draft round whose detection is done and which has at least one confirmed flag.

    Flags still 待审核 would be frozen undecidable in a published round, so publication is refused
    while any remain — unless the admin explicitly defers them to the next round
    (`defer_pending=True` with `expected_pending` = the count he was shown): they become 转下一批次,
    each with a FlagDecision and the count in the audit event. `dry_run` runs every check and
    changes nothing (the confirmation step shows the refusal before the admin confirms)."""
    if not getattr(user, "is_admin_role", False):
        raise PermissionDenied(_("只有管理员可以发布公示。"))
    try:
        deadline_utc = normalise_deadline(deadline)
    except OverflowError:
        raise PublishError(_("申诉截止时间超出允许范围。")) from None
    now = timezone.now()
    if deadline_utc <= now:
        raise PublishError(_("申诉截止时间必须晚于当前时间。"))
    if deadline_utc > now + MAX_APPEAL_WINDOW:
        raise PublishError(_("申诉截止时间不能晚于一年以后。"))
    with transaction.atomic():
        rnd = CorrectionRound.objects.select_for_update().get(pk=round_id)
        if rnd.status != RoundStatus.DRAFT:
            raise PublishError(
                _("批次「%(t)s」当前状态为「%(s)s」，不能重复公示。") % {"t": rnd.title, "s": rnd.get_status_display()}
            )
        if rnd.detection_status != JobStatus.DONE:
            raise PublishError(_("批次「%(t)s」尚未完成纠偏计算，不能公示。") % {"t": rnd.title})
        confirmed = Flag.objects.filter(round=rnd, status=FlagStatus.CONFIRMED)
        per_company = dict(
            confirmed.order_by().values("manufacturer_id").annotate(n=Count("id")).values_list("manufacturer_id", "n")
        )
        if not per_company:
            raise PublishError(_("批次「%(t)s」没有确认纠偏的记录，不能公示。") % {"t": rnd.title})
        pending_ids = list(Flag.objects.filter(round=rnd, status=FlagStatus.PENDING).values_list("pk", flat=True))
        if pending_ids and not defer_pending:
            raise PendingFlags(
                _("批次「%(t)s」仍有 %(n)d 条待审核记录。请先审核完毕，或明确选择将其转入下一批次后再公示。")
                % {"t": rnd.title, "n": len(pending_ids)},
                pending=len(pending_ids),
            )
        if pending_ids and expected_pending is not None and int(expected_pending) != len(pending_ids):
            raise PendingFlags(
                _("待审核记录数已变为 %(n)d 条（确认时为 %(m)d 条），请重新确认。")
                % {"n": len(pending_ids), "m": int(expected_pending)},
                pending=len(pending_ids),
            )
        if dry_run:
            return rnd
        deferred = _defer(pending_ids, user)
        before = {"status": rnd.status, "appeal_deadline": None, "lock_version": rnd.lock_version}
        CorrectionRound.objects.filter(pk=rnd.pk).update(
            status=RoundStatus.PUBLISHED,
            published_at=now,
            published_by=user,
            appeal_deadline=deadline_utc,
            notice_text=notice_text.strip(),
            evidence_required=evidence_required,
            lock_version=F("lock_version") + 1,
        )
        rnd.refresh_from_db()
        total = sum(per_company.values())
        RoundEvent.objects.create(
            round=rnd,
            action="published",
            actor=user,
            detail={
                "appeal_deadline": deadline_utc.isoformat(),
                "confirmed": total,
                "companies": len(per_company),
                "deferred": deferred,
            },
        )
        record(
            actor=user,
            action="round.publish",
            obj=rnd,
            before=before,
            after={
                "status": rnd.status,
                "appeal_deadline": deadline_utc.isoformat(),
                "confirmed": total,
                "companies": len(per_company),
                "deferred": deferred,
                "evidence_required": evidence_required,
                "lock_version": rnd.lock_version,
            },
            reason=rnd.notice_text,
        )
        transaction.on_commit(lambda: notify_companies(rnd.pk, per_company))
    return rnd


def notify_companies(round_id: int, per_company: dict[int, int]) -> int:
    """E-mail every active user of each affected company (one mail per company). Returns mails sent."""
    rnd = CorrectionRound.objects.get(pk=round_id)
    deadline = timezone.localtime(rnd.appeal_deadline, SHANGHAI)
    users = (
        User.objects.filter(role=Role.MANUFACTURER, company_id__in=per_company, is_active=True)
        .exclude(email="")
        .select_related("company")
        .order_by("company_id", "id")
    )
    by_company: dict[int, list[User]] = {}
    for u in users:
        by_company.setdefault(u.company_id, []).append(u)
    sent = 0
    for company_id, members in by_company.items():
        subject = _("【药价纠偏】%(t)s 纠偏公示") % {"t": rnd.title}
        body = _(
            "%(company)s：\n\n"
            "%(province)s「%(t)s」已公示，贵企业有 %(n)d 条挂网药品被确认纠偏。\n"
            "如有异议，请于 %(deadline)s（北京时间）前登录药价纠偏平台提交申诉。\n\n%(notice)s\n"
        ) % {
            "company": members[0].company.name,
            "province": rnd.province,
            "t": rnd.title,
            "n": per_company[company_id],
            "deadline": deadline.strftime("%Y-%m-%d %H:%M"),
            "notice": rnd.notice_text,
        }
        try:
            sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [u.email for u in members])
        except Exception:  # a mail server outage must not undo a committed publication
            logger.exception("publication mail to company %s failed", company_id)
    return sent
