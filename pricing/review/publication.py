"""Publishing a round's notice (公示): confirmed flags go to the manufacturers with an appeal deadline.

From publication on the confirmed set is frozen (pricing.review refuses decisions) and changes go
through appeals. Deadlines are Asia/Shanghai wall-clock times stored in UTC; a date-only deadline
ends that day at 23:59:59.999999 (+08:00), i.e. 15:59:59.999999Z — the one rule is
appeals.workflow.normalise_deadline, which the appeal window checks against.
"""

import datetime as dt
import logging
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
from pricing.models import CorrectionRound, Flag, FlagStatus, JobStatus, RoundEvent, RoundStatus

logger = logging.getLogger(__name__)


class PublishError(Exception):
    """Publication refused; the message (Chinese) says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def publish_notice(
    round_id: int, *, user: Any, deadline: dt.datetime | dt.date, notice_text: str = ""
) -> CorrectionRound:
    """Publish a draft round whose detection is done and which has at least one confirmed flag."""
    if not getattr(user, "is_admin_role", False):
        raise PermissionDenied(_("只有管理员可以发布公示。"))
    deadline_utc = normalise_deadline(deadline)
    now = timezone.now()
    if deadline_utc <= now:
        raise PublishError(_("申诉截止时间必须晚于当前时间。"))
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
        before = {"status": rnd.status, "appeal_deadline": None, "lock_version": rnd.lock_version}
        CorrectionRound.objects.filter(pk=rnd.pk).update(
            status=RoundStatus.PUBLISHED,
            published_at=now,
            published_by=user,
            appeal_deadline=deadline_utc,
            notice_text=notice_text.strip(),
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
