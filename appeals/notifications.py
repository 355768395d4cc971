"""E-mails to companies (企业通知): appeal decisions and appeal-deadline reminders."""

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from audit.services import record
from pricing.models import CorrectionRound, Flag, FlagStatus, RoundStatus

from .models import Appeal, AppealStatus, ReminderSent
from .workflow import DECIDED

REMINDERS = (("1d", dt.timedelta(days=1)), ("3d", dt.timedelta(days=3)))  # checked in this order


def company_recipients(company_id: int) -> list[str]:
    return list(
        User.objects.filter(company_id=company_id, role=Role.MANUFACTURER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def send_decision_email(appeal_id: int) -> int:
    appeal = Appeal.objects.select_related("round").filter(pk=appeal_id).first()
    if appeal is None or appeal.status not in DECIDED:
        return 0
    recipients = company_recipients(appeal.company_id)
    if not recipients:
        return 0
    lines = [
        _("贵企业就“%(round)s”提交的申诉（编号 %(id)s）已处理。") % {"round": appeal.round.title, "id": appeal.pk},
        _("处理结果：%(result)s") % {"result": appeal.get_status_display()},
    ]
    if appeal.status == AppealStatus.PARTIAL:
        links = appeal.links.filter(active=True, new_limit_price__isnull=False).select_related("flag__listing")
        for link in links.order_by("flag__listing__listing_code", "flag_id"):
            lines.append(
                _("挂网编号 %(code)s（%(rule)s）：调整后限价 %(price)s 元")
                % {
                    "code": link.flag.listing.listing_code,
                    "rule": link.flag.get_rule_code_display(),
                    "price": link.new_limit_price,
                }
            )
    if appeal.decision_reason:
        lines.append(_("理由：%(reason)s") % {"reason": appeal.decision_reason})
    lines.append(_("请登录药价纠偏平台查看详情。"))
    return send_mail(
        _("申诉处理结果：%(result)s") % {"result": appeal.get_status_display()},
        "\n".join(lines),
        settings.DEFAULT_FROM_EMAIL,
        recipients,
    )


def uncovered_flag_counts(round_id: int) -> dict[int, int]:
    """company id -> number of confirmed flags not covered by a submitted or decided appeal.
    (A draft does not count as covered: it lapses at the deadline unless submitted.)"""
    covered = Q(
        appeal_links__active=True,
        appeal_links__appeal__status__in=[AppealStatus.SUBMITTED, *DECIDED],
    )
    rows = (
        Flag.objects.filter(round_id=round_id, status=FlagStatus.CONFIRMED)
        .exclude(covered)
        .values("manufacturer_id")
        .annotate(n=Count("id"))
    )
    return {row["manufacturer_id"]: row["n"] for row in rows}


def reminder_kind(deadline: dt.datetime, now: dt.datetime) -> str | None:
    """ "1d" within the last day, "3d" within the last three days, else None."""
    remaining = deadline - now
    if remaining <= dt.timedelta(0):
        return None
    for kind, window in REMINDERS:
        if remaining <= window:
            return kind
    return None


def send_deadline_reminders(now: dt.datetime | None = None) -> int:
    """Send each due reminder once. The ReminderSent row and the e-mail share a transaction, so a
    failed send is retried by the next hourly run and a sent one is never repeated."""
    now = now or timezone.now()
    sent = 0
    rounds = CorrectionRound.objects.filter(
        status=RoundStatus.PUBLISHED, appeal_deadline__gt=now, appeal_deadline__lte=now + dt.timedelta(days=3)
    )
    for round_ in rounds:
        kind = reminder_kind(round_.appeal_deadline, now)
        if kind is None:
            continue
        for company_id, count in uncovered_flag_counts(round_.pk).items():
            sent += _remind(round_, company_id, count, kind)
    return sent


def _remind(round_: CorrectionRound, company_id: int, count: int, kind: str) -> int:
    try:
        with transaction.atomic():
            reminder = ReminderSent.objects.create(round=round_, company_id=company_id, kind=kind)
            deadline = timezone.localtime(round_.appeal_deadline)
            recipients = company_recipients(company_id)
            if recipients:
                send_mail(
                    _("申诉截止提醒：%(round)s") % {"round": round_.title},
                    _(
                        "贵企业在“%(round)s”中有 %(n)d 条纠偏记录尚未提交申诉。"
                        "申诉截止时间为 %(deadline)s（北京时间），逾期不再受理。"
                    )
                    % {"round": round_.title, "n": count, "deadline": f"{deadline:%Y-%m-%d %H:%M}"},
                    settings.DEFAULT_FROM_EMAIL,
                    recipients,
                )
            record(
                actor=None,
                action=f"appeal.reminder_{kind}",
                obj=reminder,
                after={"round": round_.pk, "company": company_id, "flags": count, "recipients": len(recipients)},
            )
    except IntegrityError:  # already sent (possibly by a concurrent run)
        return 0
    return 1
