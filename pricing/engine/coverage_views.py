"""Blind spots (盲区) of a round and "why is this listing not flagged?" (为何未纠偏). Staff only, read-only."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from accounts.permissions import staff_required
from pricing.engine.round_coverage import (
    coverage_summary,
    explain_listings,
    search_listings,
    write_blind_spots_csv,
    write_blind_spots_xlsx,
)
from pricing.models import CorrectionRound


def _round(round_id: int) -> CorrectionRound:
    rnd = get_object_or_404(CorrectionRound.objects.select_related("rule_set"), pk=round_id)
    if rnd.detection_status != "done":
        raise Http404(_("本批次尚未完成计算"))
    return rnd


@staff_required
def blind_spots_section(request: HttpRequest, round_id: int) -> HttpResponse:
    """The overview's blind-spot card (loaded by htmx after the page)."""
    rnd = _round(round_id)
    return render(request, "pricing/engine/partials/blind_spots.html", {"round": rnd, "summary": coverage_summary(rnd)})


@staff_required
def blind_spots_download(request: HttpRequest, round_id: int, fmt: str) -> HttpResponse:
    rnd = _round(round_id)
    name = f"round{rnd.pk}_blind_spots.{fmt}"
    if fmt == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        write_blind_spots_csv(rnd, out)
        response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    if fmt != "xlsx":
        raise Http404
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
    handle.close()
    path = Path(handle.name)
    write_blind_spots_xlsx(rnd, path)
    response = FileResponse(path.open("rb"), as_attachment=True, filename=name)
    path.unlink()  # the open handle keeps the data readable until the response is sent
    return response


@staff_required
def why_not_flagged(request: HttpRequest, round_id: int) -> HttpResponse:
    """Search a listing of the round's catalogue; show its group, benchmark, limit and the reason."""
    rnd = _round(round_id)
    query = request.GET.get("q", "")[:100]
    verdicts = explain_listings(rnd, search_listings(rnd, query)) if query.strip() else []
    return render(request, "pricing/engine/why_not_flagged.html", {"round": rnd, "query": query, "verdicts": verdicts})
