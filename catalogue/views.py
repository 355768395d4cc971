"""Catalogue pages (regulator/admin only): version list with uploads, detail, progress partial, error XLSX."""

import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import staff_required

from . import selectors, services
from .error_report import errors_xlsx
from .forms import CatalogueUploadForm, ReferenceUploadForm
from .ingest.errors import IngestRejected
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
            "reference_sets": selectors.reference_sets()[:10],
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
    upload = form.cleaned_data["file"]
    suffix = Path(upload.name).suffix.lower()
    if suffix not in services.ALLOWED_SUFFIXES:
        messages.error(request, _("仅支持 CSV 或 XLSX 文件"))
        return redirect("catalogue:version_list")
    folder = Path(settings.PRIVATE_ROOT) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, suffix=suffix, delete=False) as out:
        for chunk in upload.chunks():
            out.write(chunk)
    try:
        price_set = services.import_reference_prices(
            Path(out.name), label=form.cleaned_data["label"], user=request.user, source_name=upload.name
        )
    except IngestRejected as exc:
        lines = services.rejection_lines(exc.errors, limit=10)
        messages.error(request, " ".join([exc.message, *lines]) if len(exc.errors) > 1 else exc.message)
        return redirect("catalogue:version_list")
    messages.success(request, _("省际挂网价已导入：%(n)d 行") % {"n": price_set.row_count})
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
