"""Pricing-engine pages: create a round, detection progress, round comparison, what-if, exports.

Thin views: parse input, call one service/selector, render. Staff only; what-if for admins.
"""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.permissions import admin_required, staff_required
from catalogue.models import CatalogueVersion, ImportStatus, ReferencePriceSet
from pricing.engine.rounds import DetectionRefused, create_round, latest_reference_set
from pricing.engine.ruleset import RULE_CODES, RuleParamsError, latest_rule_set
from pricing.engine.whatif import preview_against_base
from pricing.models import CorrectionRound, ExportJob, JobStatus, RuleSet
from pricing.review.exports import FORMATS, STATUS_FILTERS, ExportError, start_export

RULE_LABELS = {
    "TIER_UNEVALUATED": gettext_lazy("未过评高于新药/过评/参比"),
    "TIER_EVALUATED": gettext_lazy("过评高于参比"),
    "SAME_MAKER_SPEC": gettext_lazy("同厂同通用名同剂型同质量层次不同规格"),
    "FOUR_SAME_NATIONAL": gettext_lazy("四同药品高于省际最低价"),
}
EXPORT_FILTER_KEYS = ("rule_code", "severity", "status", "manufacturer", "generic_name")


class RoundForm(forms.Form):
    catalogue_version = forms.ModelChoiceField(
        label=gettext_lazy("目录版本"), queryset=CatalogueVersion.objects.filter(status=ImportStatus.ACTIVE)
    )
    title = forms.CharField(label=gettext_lazy("批次名称"), max_length=200)
    rule_set = forms.ModelChoiceField(label=gettext_lazy("规则集版本"), queryset=RuleSet.objects.all(), required=False)
    reference_set = forms.ModelChoiceField(
        label=gettext_lazy("省际挂网价（四同）"),
        queryset=ReferencePriceSet.objects.filter(status=ImportStatus.ACTIVE),
        required=False,
    )


class WhatIfForm(forms.Form):
    catalogue_version = forms.ModelChoiceField(
        label=gettext_lazy("目录版本"), queryset=CatalogueVersion.objects.filter(status=ImportStatus.ACTIVE)
    )
    tolerance_abs = forms.DecimalField(label=gettext_lazy("绝对容差（元）"), min_value=0, decimal_places=4)
    tolerance_rel = forms.DecimalField(label=gettext_lazy("相对容差（如 0.05 = 5%）"), min_value=0, decimal_places=6)
    k_content = forms.DecimalField(label=gettext_lazy("含量差比系数 K"), min_value=0.0001, decimal_places=6)
    k_volume = forms.DecimalField(label=gettext_lazy("装量差比系数 K_v"), min_value=0.0001, decimal_places=6)
    k_pack = forms.DecimalField(label=gettext_lazy("包装数量系数 K_p"), min_value=0.0001, decimal_places=6)
    rules_enabled = forms.MultipleChoiceField(
        label=gettext_lazy("启用的规则"),
        choices=[(c, RULE_LABELS[c]) for c in RULE_CODES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


@staff_required
def round_create(request: HttpRequest) -> HttpResponse:
    initial = {"rule_set": latest_rule_set(), "reference_set": latest_reference_set()}
    if request.GET.get("catalogue"):
        initial["catalogue_version"] = request.GET["catalogue"]
    form = RoundForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rnd = create_round(
                catalogue_version=data["catalogue_version"],
                title=data["title"],
                user=request.user,
                rule_set=data["rule_set"],
                reference_set=data["reference_set"],
            )
        except (DetectionRefused, RuleParamsError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已创建纠偏批次，正在计算。"))
            return redirect("pricing:round_overview", round_id=rnd.pk)
    return render(request, "pricing/engine/round_create.html", {"form": form})


@staff_required
def round_progress(request: HttpRequest, round_id: int) -> HttpResponse:
    rnd = get_object_or_404(CorrectionRound, pk=round_id)
    return render(request, "pricing/engine/partials/detection_progress.html", {"round": rnd})


@admin_required
def whatif(request: HttpRequest) -> HttpResponse:
    base = latest_rule_set()
    params = base.params if base else {}
    initial = {key: params.get(key) for key in ("tolerance_abs", "tolerance_rel", "k_content", "k_volume", "k_pack")}
    initial["rules_enabled"] = params.get("rules_enabled", list(RULE_CODES))
    form = WhatIfForm(request.GET or None, initial=initial)
    rows = None
    if request.GET and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("catalogue_version")
        changes = {k: str(v) for k, v in data.items() if k != "rules_enabled"}
        changes["rules_enabled"] = data["rules_enabled"]
        try:
            counts = preview_against_base(version, changes, base=base, reference_set=latest_reference_set())
        except RuleParamsError as exc:
            form.add_error(None, str(exc))
        else:
            rows = [
                {
                    "code": code,
                    "label": RULE_LABELS[code],
                    "base": counts["base"][code],
                    "changed": counts["changed"][code],
                    "delta": counts["changed"][code] - counts["base"][code],
                }
                for code in RULE_CODES
            ]
    return render(request, "pricing/engine/whatif.html", {"form": form, "rows": rows, "base": base})


@staff_required
@require_POST
def export_start(request: HttpRequest, round_id: int) -> HttpResponse:
    rnd = get_object_or_404(CorrectionRound, pk=round_id)
    fmt = request.POST.get("format", "csv")
    status = request.POST.get("status", "all")
    query = QueryDict(request.POST.get("filters", ""))
    filters = {k: query.get(k) for k in EXPORT_FILTER_KEYS if query.get(k)}
    if fmt not in FORMATS or status not in STATUS_FILTERS:
        return HttpResponse(_("导出参数无效"), status=400)
    try:
        job = start_export(rnd, fmt=fmt, status=status, user=request.user, filters=filters)
    except ExportError as exc:
        return HttpResponse(str(exc), status=400)
    if request.headers.get("HX-Request"):
        return render(request, "pricing/engine/partials/export_status.html", {"job": job})
    messages.success(request, _("导出任务已提交。"))
    return redirect(reverse("pricing:round_overview", args=[rnd.pk]) + "#export")


@staff_required
def export_status(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(ExportJob, pk=job_id)
    return render(request, "pricing/engine/partials/export_status.html", {"job": job})


@staff_required
def export_download(request: HttpRequest, job_id: int) -> FileResponse:
    job = get_object_or_404(ExportJob, pk=job_id)
    if job.state != JobStatus.DONE or not job.file_path:
        raise Http404(_("导出文件尚未生成"))
    path = Path(job.file_path).resolve()
    root = Path(settings.PRIVATE_ROOT).resolve()
    if root not in path.parents or not path.exists():
        raise Http404(_("导出文件不存在"))
    name = f"纠偏清单-批次{job.round_id}-{job.status_filter}.{job.format}"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name)
