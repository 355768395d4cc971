"""Compliance services (调价落实): run a check, set the adjustment deadline, confirm the escalation
list. Each write is one transaction with its audit event."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.workflow import SHANGHAI, normalise_deadline
from audit.services import record
from catalogue.models import CatalogueVersion, ImportStatus, Listing
from catalogue.specs import normalise_text
from compliance import classify
from compliance.errors import ComplianceError, NotAllowed
from compliance.frames import binding_frame, listing_frame
from compliance.models import (
    NON_COMPLIANT,
    AdjustmentDeadline,
    ComplianceCheck,
    ComplianceResult,
    EscalationEntry,
    EscalationList,
)
from compliance.workdays import CalendarRangeError, add_working_days
from pricing.engine.ruleset import RuleParams
from pricing.models import CorrectionRound, FinalList, JobStatus, RoundEvent
from pricing.review.binding import SCOPES, binding_limits

logger = logging.getLogger(__name__)
MAX_WORKING_DAYS = 250


def _round(round_id: int) -> CorrectionRound:
    rnd = CorrectionRound.objects.select_related("catalogue_version", "rule_set").filter(pk=round_id).first()
    if rnd is None:
        raise ComplianceError(_("纠偏批次 %(id)s 不存在。") % {"id": round_id})
    return rnd


def default_scope(round_id: int) -> str:
    """The final list once one is published, otherwise the confirmed flags."""
    return "final" if FinalList.objects.filter(round_id=round_id).exists() else "confirmed"


def validate_request(
    round_id: int, catalogue_id: int, scope: str | None
) -> tuple[CorrectionRound, CatalogueVersion, str]:
    """The round, the later catalogue version of the same province and the scope, or a ComplianceError."""
    rnd = _round(round_id)
    version = CatalogueVersion.objects.filter(pk=catalogue_id).first()
    if version is None or version.status != ImportStatus.ACTIVE:
        raise ComplianceError(_("目录版本 %(id)s 不存在或尚未生效。") % {"id": catalogue_id})
    if normalise_text(version.province) != normalise_text(rnd.province):
        raise ComplianceError(
            _("目录版本 %(id)s 属于%(p)s，纠偏批次属于%(q)s，只能核查同一省份的目录。")
            % {"id": version.pk, "p": version.province, "q": rnd.province}
        )
    if version.pk <= rnd.catalogue_version_id:
        raise ComplianceError(
            _("目录版本 %(id)s 不晚于本批次使用的目录版本 %(old)s，请选择之后导入的目录。")
            % {"id": version.pk, "old": rnd.catalogue_version_id}
        )
    scope = scope or default_scope(rnd.pk)
    if scope not in SCOPES:
        raise ComplianceError(_("未知的核查范围：%(s)s（可选 final、confirmed、all）") % {"s": scope})
    return rnd, version, scope


def create_check(round_id: int, catalogue_id: int, *, scope: str | None = None, user: Any = None) -> ComplianceCheck:
    """A pending check row, audited. The caller runs it (command) or queues it (page)."""
    rnd, version, scope = validate_request(round_id, catalogue_id, scope)
    with transaction.atomic():
        check = ComplianceCheck.objects.create(round=rnd, catalogue_version=version, scope=scope, requested_by=user)
        record(
            actor=user,
            action="compliance.check_requested",
            obj=check,
            after={"round": rnd.pk, "catalogue_version": version.pk, "scope": scope},
        )
    return check


def start_check(round_id: int, catalogue_id: int, *, scope: str | None = None, user: Any = None) -> ComplianceCheck:
    """create_check, then the Celery task after commit (page)."""
    from compliance.tasks import run_check as task

    with transaction.atomic():
        check = create_check(round_id, catalogue_id, scope=scope, user=user)
        transaction.on_commit(lambda: task.delay(check.pk))
    return check


def _result_rows(check: ComplianceCheck, outcome: classify.Outcome) -> list[ComplianceResult]:
    rows = outcome.rows
    ids = set(rows["listing_id"].tolist()) | {i for i in rows["new_listing_id"].tolist() if i >= 0}
    info = {
        pk: (code, generic, maker_id, maker)
        for pk, code, generic, maker_id, maker in Listing.objects.filter(pk__in=ids).values_list(
            "id", "listing_code", "generic_name", "manufacturer_id", "manufacturer_name"
        )
    }
    out = []
    for r in rows.itertuples(index=False):
        code, generic, maker_id, maker = info[r.listing_id]
        new_id = int(r.new_listing_id) if r.new_listing_id >= 0 else None
        if r.status == classify.NEW_SPEC_ABOVE:  # the row is about the new listing
            _, generic, maker_id, maker = info[new_id]
        out.append(
            ComplianceResult(
                check_run=check,
                listing_id=int(r.listing_id),
                new_listing_id=new_id,
                manufacturer_id=maker_id,
                status=r.status,
                matched_by=r.how or "",
                listing_code=code,
                generic_name=generic,
                manufacturer_name=maker,
                listed_price=r.listed_price,
                binding_limit=r.binding_limit,
                compared_limit=r.compared_limit,
                new_listing_code=info[new_id][0] if new_id else "",
                new_price=r.new_price,
                rule_codes=list(r.rules),
            )
        )
    return out


def run_check(check_id: int) -> ComplianceCheck:
    """Compute and store a check's results. Idempotent: a done check is left alone; a failed or
    interrupted one is recomputed from scratch (its partial rows replaced in one transaction)."""
    check = ComplianceCheck.objects.select_related("round__rule_set").get(pk=check_id)
    if check.state == JobStatus.DONE:
        return check
    ComplianceCheck.objects.filter(pk=check_id).update(state=JobStatus.RUNNING, message="")
    try:
        limits = binding_limits(check.round_id, scope=check.scope)
        if not limits:
            raise ComplianceError(
                _("纠偏批次 %(id)s 在范围 %(s)s 内没有纠偏记录，无可核查。") % {"id": check.round_id, "s": check.scope}
            )
        params = RuleParams.from_rule_set(check.round.rule_set)
        outcome = classify.check(
            listing_frame(check.round.catalogue_version_id),
            listing_frame(check.catalogue_version_id),
            binding_frame(limits),
            params,
        )
        results = _result_rows(check, outcome)
    except Exception as exc:
        ComplianceCheck.objects.filter(pk=check_id).update(
            state=JobStatus.FAILED, message=getattr(exc, "message", str(exc))
        )
        raise
    with transaction.atomic():
        # a concurrent run of the same check may have finished first: keep its rows, not both
        if ComplianceCheck.objects.select_for_update().get(pk=check_id).state == JobStatus.DONE:
            check.refresh_from_db()
            return check
        ComplianceResult.objects.filter(check_run=check).delete()
        ComplianceResult.objects.bulk_create(results, batch_size=2000)
        ComplianceCheck.objects.filter(pk=check_id).update(
            state=JobStatus.DONE,
            counts=outcome.counts,
            savings=outcome.savings,
            row_count=len(results),
            finished_at=timezone.now(),
        )
        record(
            actor=check.requested_by,
            action="compliance.check",
            obj=check,
            after={"rows": len(results), "counts": outcome.counts, "savings": str(outcome.savings)},
        )
    check.refresh_from_db()
    return check


def set_adjustment_deadline(
    round_id: int, *, working_days: int, user: Any, starts_on: dt.date | None = None
) -> AdjustmentDeadline:
    """调价期限: `working_days` working days after the final list's publication day (or `starts_on`),
    ending at 23:59:59.999999 Asia/Shanghai on the last one. Admin only; resetting is audited."""
    if not getattr(user, "is_admin_role", False):
        raise NotAllowed(_("只有管理员可以设置调价期限。"))
    if not 1 <= working_days <= MAX_WORKING_DAYS:
        raise ComplianceError(_("调价期限须为 1–%(max)d 个工作日。") % {"max": MAX_WORKING_DAYS})
    with transaction.atomic():
        rnd = CorrectionRound.objects.select_for_update().filter(pk=round_id).first()
        if rnd is None:
            raise ComplianceError(_("纠偏批次 %(id)s 不存在。") % {"id": round_id})
        final = FinalList.objects.filter(round=rnd).order_by("-version").first()
        if final is None:
            raise ComplianceError(_("本批次尚未发布最终纠偏清单，不能设置调价期限。"))
        start = starts_on or timezone.localtime(final.published_at, SHANGHAI).date()
        try:
            due = add_working_days(start, working_days)
        except CalendarRangeError as exc:
            raise ComplianceError(str(exc)) from None
        current = AdjustmentDeadline.objects.filter(round=rnd).first()
        before = {"working_days": current.working_days, "due_date": current.due_date.isoformat()} if current else None
        values = {
            "final_list": final,
            "working_days": working_days,
            "starts_on": start,
            "due_date": due,
            "deadline": normalise_deadline(due),
            "set_by": user,
        }
        term, _created = AdjustmentDeadline.objects.update_or_create(round=rnd, defaults=values)
        after = {"working_days": working_days, "starts_on": start.isoformat(), "due_date": due.isoformat()}
        RoundEvent.objects.create(round=rnd, action="adjustment_deadline", actor=user, detail=after)
        record(actor=user, action="compliance.adjustment_deadline", obj=rnd, before=before, after=after)
    return term


def latest_final_check(round_id: int) -> ComplianceCheck | None:
    """The newest finished check of the round's final list."""
    qs = ComplianceCheck.objects.filter(round_id=round_id, state=JobStatus.DONE, scope="final")
    return qs.order_by("-id").first()


def confirm_escalation(round_id: int, check_id: int, *, user: Any, note: str = "") -> EscalationList:
    """暂停挂网建议名单: freeze the non-compliant rows of a done check, after the adjustment deadline."""
    if not getattr(user, "is_admin_role", False):
        raise NotAllowed(_("只有管理员可以确认暂停挂网建议名单。"))
    with transaction.atomic():
        rnd = CorrectionRound.objects.select_for_update().filter(pk=round_id).first()
        if rnd is None:
            raise ComplianceError(_("纠偏批次 %(id)s 不存在。") % {"id": round_id})
        term = AdjustmentDeadline.objects.filter(round=rnd).first()
        if term is None:
            raise ComplianceError(_("本批次尚未设置调价期限。"))
        if timezone.now() <= term.deadline:
            raise ComplianceError(
                _("调价期限（%(d)s）尚未届满，届满后才能确认暂停挂网建议名单。") % {"d": term.due_date.isoformat()}
            )
        check = ComplianceCheck.objects.filter(pk=check_id, round=rnd, state=JobStatus.DONE).first()
        if check is None:
            raise ComplianceError(_("调价核查 %(id)s 不存在或尚未完成。") % {"id": check_id})
        if check.scope != "final":
            raise ComplianceError(_("暂停挂网建议名单只能依据核查范围为最终纠偏清单的核查。"))
        results = list(
            ComplianceResult.objects.filter(check_run=check, status__in=NON_COMPLIANT).values_list("pk", flat=True)
        )
        version = (EscalationList.objects.filter(round=rnd).aggregate(v=Max("version"))["v"] or 0) + 1
        escalation = EscalationList.objects.create(
            round=rnd, check_run=check, version=version, confirmed_by=user, entry_count=len(results), note=note.strip()
        )
        EscalationEntry.objects.bulk_create(
            [EscalationEntry(escalation=escalation, result_id=pk) for pk in results], batch_size=2000
        )
        detail = {"escalation": escalation.pk, "version": version, "check": check.pk, "entries": len(results)}
        RoundEvent.objects.create(round=rnd, action="escalation_confirmed", actor=user, detail=detail)
        record(actor=user, action="compliance.escalation_confirm", obj=escalation, after=detail, reason=note.strip())
    return escalation
