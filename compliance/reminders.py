"""Reminders to manufacturers before the adjustment deadline (调价期限提醒): 3 and 1 working days
before, once each per company (AdjustmentReminder unique constraint), like the appeal reminders."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.notifications import company_recipients
from appeals.workflow import SHANGHAI
from audit.services import record
from catalogue.models import Listing
from compliance.models import AdjustmentDeadline, AdjustmentReminder, ComplianceResult, ComplianceStatus
from compliance.services import latest_final_check
from compliance.workdays import CalendarRangeError, working_days_between
from pricing.review.binding import binding_limits

KINDS = (("1wd", 1), ("3wd", 3))  # checked in this order


def reminder_kind(working_days_left: int) -> str | None:
    """ "1wd" with at most one working day left (the due day itself included), "3wd" with at most three."""
    for kind, days in KINDS:
        if working_days_left <= days:
            return kind
    return None


def companies_to_remind(round_id: int) -> dict[int, int]:
    """company id → listings of the final list not yet shown as complied by the latest check."""
    listing_ids = list(binding_limits(round_id, scope="final"))
    check = latest_final_check(round_id)
    if check is not None:
        done = ComplianceResult.objects.filter(check_run=check, status=ComplianceStatus.COMPLIED)
        complied = set(done.values_list("listing_id", flat=True))
        listing_ids = [i for i in listing_ids if i not in complied]
    counts: dict[int, int] = {}
    for maker_id in Listing.objects.filter(pk__in=listing_ids).values_list("manufacturer_id", flat=True):
        counts[maker_id] = counts.get(maker_id, 0) + 1
    return counts


def send_adjustment_reminders(now: dt.datetime | None = None) -> int:
    """Send every due reminder once; the row and the e-mail share a transaction."""
    now = now or timezone.now()
    today = timezone.localtime(now, SHANGHAI).date()
    sent = 0
    for term in AdjustmentDeadline.objects.filter(deadline__gt=now).select_related("round"):
        try:
            left = working_days_between(today, term.due_date) + 1  # the due day itself is still a day to act
        except CalendarRangeError:
            continue
        kind = reminder_kind(left)
        if kind is None:
            continue
        for company_id, count in companies_to_remind(term.round_id).items():
            sent += _remind(term, company_id, count, kind)
    return sent


def _remind(term: AdjustmentDeadline, company_id: int, count: int, kind: str) -> int:
    try:
        with transaction.atomic():
            reminder = AdjustmentReminder.objects.create(round=term.round, company_id=company_id, kind=kind)
            recipients = company_recipients(company_id)
            if recipients:
                send_mail(
                    _("调价期限提醒：%(round)s") % {"round": term.round.title},
                    _(
                        "贵企业在“%(round)s”最终纠偏清单中有 %(n)d 个挂网药品尚未核实调价到位。"
                        "调价期限为 %(due)s（北京时间当日 24 时前），逾期未调价的将列入暂停挂网建议名单。"
                    )
                    % {"round": term.round.title, "n": count, "due": term.due_date.isoformat()},
                    settings.DEFAULT_FROM_EMAIL,
                    recipients,
                )
            record(
                actor=None,
                action=f"compliance.reminder_{kind}",
                obj=reminder,
                after={"round": term.round_id, "company": company_id, "listings": count, "recipients": len(recipients)},
            )
    except IntegrityError:  # already sent (possibly by a concurrent run)
        return 0
    return 1
