"""Catalogue pages (regulator/admin only): version list with uploads, detail, progress partial, error XLSX."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import staff_required

from . import reference_jobs, selectors, services
from .error_report import errors_xlsx
from .forms import CatalogueUploadForm, ReferenceUploadForm
from .ingest.errors import IngestRejected, RowError
from .models import ImportStatus

RUNNING = (ImportStatus.PENDING, ImportStatus.IMPORTING)


@staff_required
@require_GET
def version_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.versions_for_staff(), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "catalogue/version_list.html",
        {
            "page": page,
            "form": CatalogueUploadForm(),
            "reference_form": ReferenceUploadForm(),
            "reference_sets": selectors.recent_reference_uploads()[:10],
        },
    )


@staff_required
@require_POST
def version_upload(request: HttpRequest) -> HttpResponse:
    form = CatalogueUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择文件并填写省份"))
        return redirect("catalogue:version_list")
    try:
        version = services.start_catalogue_import(
            form.cleaned_data["file"],
            province=form.cleaned_data["province"],
            label=form.cleaned_data["label"],
            user=request.user,
        )
    except IngestRejected as exc:
        messages.error(request, exc.message)
        return redirect("catalogue:version_list")
    return redirect("catalogue:version_detail", pk=version.pk)


@staff_required
@require_POST
def reference_upload(request: HttpRequest) -> HttpResponse:
    form = ReferenceUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择文件"))
        return redirect("catalogue:version_list")
    try:  # issue 11: parsed by the worker, never in this request
        price_set = reference_jobs.start_reference_import(
            form.cleaned_data["file"], label=form.cleaned_data["label"], user=request.user
        )
    except IngestRejected as exc:
        messages.error(request, exc.message)
        return redirect("catalogue:version_list")
    price_set.refresh_from_db()  # in-process (no broker) the import has already run
    if price_set.status == ImportStatus.ACTIVE:
        messages.success(request, _("省际挂网价已导入：%(n)d 行") % {"n": price_set.row_count})
    elif price_set.status == ImportStatus.REJECTED:
        lines = services.rejection_lines([RowError(**e) for e in price_set.errors], limit=10)
        messages.error(
            request, " ".join([price_set.message, *lines]) if len(price_set.errors) > 1 else price_set.message
        )
    else:
        messages.info(request, _("省际挂网价已受理，稍后开始导入（状态见下表）"))
    return redirect("catalogue:version_list")


@staff_required
@require_GET
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(selectors.versions_for_staff(), pk=pk)
    q = request.GET.get("q", "").strip()
    page = None
    if version.status == ImportStatus.ACTIVE:
        page = Paginator(selectors.active_listings(version.pk, q=q), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "catalogue/version_detail.html",
        {
            "version": version,
            "page": page,
            "q": q,
            "running": version.status in RUNNING,
            "errors": version.errors[:200],
        },
    )


@staff_required
@require_GET
def version_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx partial: a progress bar that polls itself every second until the import ends."""
    version = get_object_or_404(selectors.versions_for_staff(), pk=pk)
    return render(request, "catalogue/_progress.html", {"version": version, "running": version.status in RUNNING})


@staff_required
@require_GET
def version_errors_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(selectors.versions_for_staff(), pk=pk)
    response = HttpResponse(
        errors_xlsx(version.errors),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="catalogue-{version.pk}-errors.xlsx"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
