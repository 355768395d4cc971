"""Regulator and admin pages: appeal queue, review and decision, round lifecycle actions, the
final list's exports and printable page. Thin: selectors read, services/publication write."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import admin_required, staff_required
from pricing.models import CorrectionRound

from . import final_exports, publication, selectors, services
from .errors import AppealError
from .forms import DecisionForm, QueueFilterForm
from .models import AppealStatus
from .notices import appeal_rows
from .workflow import DECIDED


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    """申诉处理队列 with filters round / status / grounds / company."""
    form = QueueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    appeals = selectors.appeal_queue(
        request.user,
        round_id=getattr(filters.get("round"), "pk", None),
        status=filters.get("status", ""),
        grounds=filters.get("grounds", ""),
        company_id=getattr(filters.get("company"), "pk", None),
    )
    page = Paginator(appeals, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "appeals/queue.html", {"form": form, "page": page, "query": query.urlencode()})


@staff_required
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """One appeal per listing: each listing's 执行限价 and every flag (type, own limit, benchmark,
    the company's proposed price, a new-limit field for 部分采纳); decide or 改判."""
    appeal = get_object_or_404(selectors.visible_appeals(request.user), pk=pk)
    round_open = appeal.round.status in ("published", "closed")
    can_decide = appeal.status == AppealStatus.SUBMITTED and round_open
    can_revise = appeal.status in DECIDED and round_open
    form = DecisionForm(initial={"version": appeal.lock_version}) if (can_decide or can_revise) else None
    return render(
        request,
        "appeals/review.html",
        {
            "appeal": appeal,
            "listings": appeal_rows(appeal),
            "form": form,
            "revise": can_revise,
            "events": appeal.events.select_related("actor"),
        },
    )


@require_POST
@staff_required
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    """处理决定 or, with revise=1, 改判; per-flag new limits come as limit_<flag id>."""
    get_object_or_404(selectors.visible_appeals(request.user), pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择处理结果、填写理由并检查新限价。"))
        return redirect("appeals:review", pk=pk)
    data = form.cleaned_data
    new_limits = {
        key[len("limit_") :]: value.strip()
        for key, value in request.POST.items()
        if key.startswith("limit_") and value.strip()
    }
    service = services.revise_decision if request.POST.get("revise") == "1" else services.decide
    try:
        service(
            pk,
            user=request.user,
            outcome=data["outcome"],
            reason=data["reason"],
            new_limit_price=data["new_limit_price"],
            new_limits=new_limits,
            expected_version=data["version"],
        )
    except AppealError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("处理结果已保存，并已通知企业。"))
    return redirect("appeals:review", pk=pk)


@staff_required
def round_status(request: HttpRequest, round_id: int) -> HttpResponse:
    """A round's appeal overview with the lifecycle panel (also included on the round page)."""
    round_ = get_object_or_404(CorrectionRound, pk=round_id)
    return render(request, "appeals/round_status.html", {"round": round_})


@require_POST
@admin_required
def round_close(request: HttpRequest, round_id: int) -> HttpResponse:
    """Two steps: what closing does (early? drafts lapsing, appeals waiting), then confirmed=1 closes."""
    get_object_or_404(CorrectionRound, pk=round_id)
    if request.POST.get("confirmed") != "1":
        context = {"kind": "close", "info": publication.close_preview(round_id), "next": _safe_next(request, round_id)}
        return render(request, "appeals/confirm_lifecycle.html", context)
    try:
        publication.close_appeal_window(round_id, user=request.user)
    except AppealError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("申诉期已关闭。"))
    return redirect(_safe_next(request, round_id))


@require_POST
@admin_required
def round_publish_final(request: HttpRequest, round_id: int) -> HttpResponse:
    """Two steps: what the final list will hold (listings, companies, decided limits), then publish."""
    get_object_or_404(CorrectionRound, pk=round_id)
    if request.POST.get("confirmed") != "1":
        context = {"kind": "final", "info": publication.final_preview(round_id), "next": _safe_next(request, round_id)}
        return render(request, "appeals/confirm_lifecycle.html", context)
    try:
        final = publication.publish_final_list(round_id, user=request.user)
    except AppealError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("最终纠偏清单（第 %(v)d 版，%(n)d 个挂网药品）已发布。") % {"v": final.version, "n": final.entry_count},
        )
    return redirect(_safe_next(request, round_id))


def _safe_next(request: HttpRequest, round_id: int) -> str:
    from django.urls import reverse
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("appeals:round_status", args=[round_id])


@admin_required
def final_export(request: HttpRequest, round_id: int, fmt: str) -> HttpResponse:
    round_ = get_object_or_404(CorrectionRound, pk=round_id)
    try:
        export = final_exports.export_final_list(round_, user=request.user, fmt=fmt)
    except AppealError as exc:
        messages.error(request, exc.message)
        return redirect("appeals:round_status", round_id=round_id)
    response = FileResponse(
        open(export.path, "rb"), as_attachment=True, filename=export.filename, content_type=export.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@admin_required
def final_print(request: HttpRequest, round_id: int) -> HttpResponse:
    round_ = get_object_or_404(CorrectionRound, pk=round_id)
    try:
        context = final_exports.print_context(round_, user=request.user)
    except AppealError:
        raise Http404 from None
    return render(request, "appeals/final_print.html", context)
