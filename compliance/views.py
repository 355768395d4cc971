"""Compliance pages (调价落实): thin views over compliance.selectors and compliance.services."""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import admin_required, manufacturer_required, staff_required
from compliance import charts, exports, selectors, services
from compliance.errors import ComplianceError
from compliance.forms import CheckForm, DeadlineForm, EscalationForm
from compliance.models import ComplianceStatus
from pricing.review.exports import export_dir
from pricing.review.selectors import rounds_for


def _round(request: HttpRequest, round_id: int):
    return get_object_or_404(rounds_for(request.user), pk=round_id)


@staff_required
def round_compliance(request: HttpRequest, round_id: int) -> HttpResponse:
    """调价落实 of one round: headline savings, rates, the chart across rounds, results, escalation."""
    rnd = _round(request, round_id)
    check = selectors.latest_check(rnd.pk)
    deadline = selectors.deadline_of(rnd.pk)
    status = request.GET.get("status", "")
    context = {
        "round": rnd,
        "check": check,
        "checks": selectors.checks_of(rnd.pk)[:10],
        "deadline": deadline,
        "deadline_passed": bool(deadline and timezone.now() > deadline.deadline),
        "check_form": CheckForm(versions=selectors.later_versions(rnd)),
        "deadline_form": DeadlineForm() if request.user.is_admin_role else None,
        "escalations": selectors.escalations_of(rnd.pk),
        "statuses": list(ComplianceStatus),
        "status": status,
        "chart_rounds": charts.rounds_chart(selectors.across_rounds()),
    }
    if check is not None:
        page = Paginator(selectors.results(check, status), 100).get_page(request.GET.get("page"))
        context |= {
            "by_status": selectors.by_status(check),
            "by_company": selectors.by_company(check),
            "by_rule": selectors.by_rule(check),
            "page": page,
        }
    final_check = selectors.latest_check(rnd.pk, scope="final")
    if final_check is not None:
        context |= {
            "final_check": final_check,
            "candidates": selectors.escalation_candidates(final_check),
            "escalation_form": EscalationForm(initial={"check_id": final_check.pk}),
        }
    return render(request, "compliance/round.html", context)


@require_POST
@staff_required
def start_check(request: HttpRequest, round_id: int) -> HttpResponse:
    rnd = _round(request, round_id)
    form = CheckForm(request.POST, versions=selectors.later_versions(rnd))
    if not form.is_valid():
        messages.error(request, _("请选择本省之后导入的目录版本。"))
        return redirect("compliance:round", round_id=rnd.pk)
    try:
        check = services.start_check(
            rnd.pk,
            form.cleaned_data["catalogue_version"].pk,
            scope=form.cleaned_data["scope"] or None,
            user=request.user,
        )
    except ComplianceError as exc:
        messages.error(request, exc.message)
    else:
        check.refresh_from_db()
        if check.state == "failed":
            messages.error(request, check.message)
        else:
            messages.success(request, _("调价核查已开始（第 %(id)d 次核查）。") % {"id": check.pk})
    return redirect("compliance:round", round_id=rnd.pk)


@require_POST
@admin_required
def set_deadline(request: HttpRequest, round_id: int) -> HttpResponse:
    rnd = _round(request, round_id)
    form = DeadlineForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写 1 个以上的工作日数。"))
        return redirect("compliance:round", round_id=rnd.pk)
    try:
        term = services.set_adjustment_deadline(
            rnd.pk,
            working_days=form.cleaned_data["working_days"],
            starts_on=form.cleaned_data["starts_on"],
            user=request.user,
        )
    except ComplianceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("调价期限已设为 %(d)s。") % {"d": term.due_date.isoformat()})
    return redirect("compliance:round", round_id=rnd.pk)


@require_POST
@admin_required
def confirm_escalation(request: HttpRequest, round_id: int) -> HttpResponse:
    rnd = _round(request, round_id)
    form = EscalationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请从页面确认名单。"))
        return redirect("compliance:round", round_id=rnd.pk)
    try:
        escalation = services.confirm_escalation(
            rnd.pk, form.cleaned_data["check_id"], user=request.user, note=form.cleaned_data["note"]
        )
    except ComplianceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("暂停挂网建议名单（第 %(v)d 版，%(n)d 条）已确认。")
            % {"v": escalation.version, "n": escalation.entry_count},
        )
    return redirect("compliance:round", round_id=rnd.pk)


@admin_required
def escalation_export(request: HttpRequest, escalation_id: int, fmt: str) -> HttpResponse:
    escalation = get_object_or_404(selectors.visible_escalations(request.user), pk=escalation_id)
    if fmt not in exports.FORMATS:
        raise Http404
    path = Path(export_dir()) / f"escalation{escalation.pk}_{timezone.now():%Y%m%d%H%M%S%f}.{fmt}"
    exports.export_escalation(escalation, fmt=fmt, path=path, user=request.user)
    name = f"escalation-round{escalation.round_id}-v{escalation.version}.{fmt}"
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_required
def check_csv(request: HttpRequest, check_id: int) -> HttpResponse:
    """The check's rows in the check_compliance CSV format."""
    check = get_object_or_404(selectors.visible_checks(request.user), pk=check_id, state="done")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="compliance-round{check.round_id}-check{check.pk}.csv"'
    exports.write_csv(exports.CHECK_HEADERS, exports.result_rows(check.results.order_by("id")), response)
    return response


@manufacturer_required
def mine(request: HttpRequest) -> HttpResponse:
    """我的调价情况: the company's own listings, their deadline and latest compliance status."""
    return render(request, "compliance/mine.html", {"rounds": selectors.company_compliance(request.user)})
