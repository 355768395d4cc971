"""Review workspace pages (审核工作台): rounds, overview, flag list/detail, decisions, publication.

Thin views: parse input, call one selector or service, render. Staff only; publishing admin only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import admin_required, staff_required
from appeals.workflow import normalise_deadline
from pricing.models import Flag, FlagDecision, FlagStatus, RoundStatus, RuleCode, Severity
from pricing.review import charts, list_rows, round_stats, row_html, selectors
from pricing.review.binding import binding_limit_among
from pricing.review.decisions import (
    SELECT_ALL_LIMIT,
    DecisionConflict,
    DecisionError,
    bulk_decide,
    bulk_preview,
    decide,
)
from pricing.review.filters import SORT_LABELS, FlagFilter
from pricing.review.publication import PublishError, notice_preview, publish_notice

PAGE_SIZES = (20, 50, 100)
CSV_STREAM_LIMIT = 100_000


class PublishForm(forms.Form):
    """公示: deadline as date + optional time (Asia/Shanghai); no time means the end of that day.
    Or as a number of working days (工作日, holidays and 调休 from chinesecalendar) from today."""

    deadline_date = forms.DateField(
        label=gettext_lazy("申诉截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    deadline_working_days = forms.IntegerField(
        label=gettext_lazy("或：自今日起工作日数（如 10 个工作日）"), required=False, min_value=1, max_value=60
    )
    deadline_time = forms.TimeField(
        label=gettext_lazy("截止时间（北京时间，留空为当日 23:59:59）"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    notice_text = forms.CharField(
        label=gettext_lazy("公示说明"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence_required = forms.BooleanField(label=gettext_lazy("申诉须附证明材料"), required=False, initial=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        days = data.get("deadline_working_days")
        if not data.get("deadline_date") and not days and not self.errors:
            raise forms.ValidationError(_("请填写申诉截止日期，或填写工作日数。"))
        if days and not data.get("deadline_date"):
            from compliance.workdays import CalendarRangeError, add_working_days

            try:
                data["deadline_date"] = add_working_days(timezone.localdate(), days)
            except CalendarRangeError as exc:
                raise forms.ValidationError(str(exc)) from None
        return data

    def deadline(self) -> dt.date | dt.datetime:
        d, t = self.cleaned_data["deadline_date"], self.cleaned_data.get("deadline_time")
        return dt.datetime.combine(d, t) if t else d


def _explanation(flag: Flag) -> list[dict]:
    try:
        from pricing.review.explain import explain_flag
    except ImportError:  # the engine's module not there yet
        return []
    return explain_flag(flag)


@staff_required
def round_list(request: HttpRequest) -> HttpResponse:
    rounds = selectors.round_summaries(request.user)
    return render(request, "pricing/round_list.html", {"rounds": rounds})


def _round_or_404(request: HttpRequest, round_id: int, *, related: bool = True):
    """The round if the user may review it; `related=False` skips joining its catalogue version
    and rule set (for pages that show neither)."""
    rounds = selectors.rounds_for(request.user)
    return get_object_or_404(rounds if related else rounds.select_related(None), pk=round_id)


def _round_changes(rnd) -> dict[str, Any] | None:
    """Round-to-round comparison counts, when there is a previous round."""
    from pricing.review.comparison import previous_round

    previous = previous_round(rnd)
    if previous is None:
        return None
    return {"previous": previous, "result": round_stats.comparison_counts(rnd, previous)}


COMPARISON_PAGE = 50


def _comparison(request: HttpRequest, rnd) -> tuple[Any, Any]:
    from pricing.review.comparison import compare_rounds, previous_round

    raw = request.GET.get("old", "")
    old = get_object_or_404(selectors.rounds_for(request.user), pk=int(raw)) if raw.isdigit() else previous_round(rnd)
    if old is not None and old.pk == rnd.pk:
        raise Http404
    return old, (compare_rounds(rnd, old) if old is not None else None)


@staff_required
def round_comparison(request: HttpRequest, round_id: int) -> HttpResponse:
    """批次对比: against the previous round by default (or ?old=ID), each section paged."""
    from pricing.review.comparison import SECTION_LABELS, SECTIONS

    rnd = _round_or_404(request, round_id)
    old, result = _comparison(request, rnd)
    sections = []
    if result is not None:
        for key in SECTIONS:
            page = Paginator(getattr(result, key), COMPARISON_PAGE).get_page(request.GET.get(f"{key}_page"))
            query = request.GET.copy()
            query.pop(f"{key}_page", None)
            sections.append({"key": key, "label": SECTION_LABELS[key], "page": page, "query": query.urlencode()})
    others = selectors.rounds_for(request.user).filter(province=rnd.province).exclude(pk=rnd.pk)
    return render(
        request,
        "pricing/comparison.html",
        {"round": rnd, "old": old, "result": result, "sections": sections, "others": others},
    )


@staff_required
def round_comparison_csv(request: HttpRequest, round_id: int) -> HttpResponse:
    from pricing.review.comparison import write_csv

    rnd = _round_or_404(request, round_id)
    old, result = _comparison(request, rnd)
    if result is None:
        messages.error(request, _("没有可比较的上一批次。"))
        return redirect("pricing:round_comparison", round_id=rnd.pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="compare-{rnd.pk}-{old.pk}.csv"'
    write_csv(result, response)
    return response


@staff_required
def round_overview(request: HttpRequest, round_id: int) -> HttpResponse:
    rnd = _round_or_404(request, round_id)
    data = round_stats.overview_data(rnd)  # cached per version of the round's flags: never stale
    counts = data.counts
    context = {
        "round": rnd,
        "counts": counts,
        "rule_rows": [(c, counts.by_rule.get(c.value, 0)) for c in RuleCode],
        "severity_rows": [(s, counts.by_severity.get(s.value, 0)) for s in Severity],
        "status_rows": [(s, counts.by_status.get(s.value, 0)) for s in FlagStatus],
        "figures": round_stats.overview_figures(rnd, data),
        "changes": _round_changes(rnd),
        "publish_form": PublishForm() if request.user.is_admin_role and rnd.status == RoundStatus.DRAFT else None,
        # the exact publication preview is only needed beside the admin's publish form
        "preview": notice_preview(rnd.pk) if request.user.is_admin_role and rnd.status == RoundStatus.DRAFT else None,
    }
    return render(request, "pricing/round_overview.html", context)


def _filtered(request: HttpRequest, rnd) -> FlagFilter:
    return FlagFilter(
        request.GET,
        queryset=selectors.flag_list(request.user, rnd.pk),
        catalogue_version_id=rnd.catalogue_version_id,
    )


# list filter → the engine's background-export filter keys (pricing.views_engine.EXPORT_FILTER_KEYS)
_EXPORT_KEYS = {
    "rule": "rule_code",
    "severity": "severity",
    "status": "status",
    "manufacturer": "manufacturer",
    "q": "generic_name",
}


def _engine_export_filters(request: HttpRequest) -> str:
    query = QueryDict(mutable=True)
    for ours, theirs in _EXPORT_KEYS.items():
        if request.GET.get(ours):
            query[theirs] = request.GET[ours]
    return query.urlencode()


class _TwoStepPaginator(Paginator):
    """Pages of a large round in two steps: the page's ids in the filter's order (no joins, so a
    deep OFFSET only walks the sort index), then the shown columns of those rows alone, formatted
    for display (pricing.review.list_rows). `count`, when given, is the total already known (from
    the stored aggregates) instead of a COUNT over the filtered flags."""

    def __init__(self, object_list: Any, per_page: int, *, back: str, count: int | None = None) -> None:
        super().__init__(object_list, per_page)
        self.back = back
        if count is not None:
            self.count = count  # the cached_property's value

    def page(self, number: Any) -> Any:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        return self._get_page(list_rows.page_rows(self.object_list, ids, self.back), number, self)


@staff_required
def flag_list(request: HttpRequest, round_id: int) -> HttpResponse:
    rnd = _round_or_404(request, round_id, related=False)
    flt = _filtered(request, rnd)
    try:
        per_page = int(request.GET.get("per_page", 50))
    except ValueError:
        per_page = 50
    per_page = per_page if per_page in PAGE_SIZES else 50
    active = flt.active()
    count = round_stats.stored_flag_count(rnd.pk, active) if active is not None else None
    full_query = request.GET.urlencode()
    page = _TwoStepPaginator(flt.qs, per_page, back=full_query, count=count).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "round": rnd,
        "filter": flt,
        "widgets": flt.widgets(),
        "page": page,
        "rows_html": row_html.flag_rows(page.object_list, open_round=rnd.status == RoundStatus.DRAFT),
        "query": query.urlencode(),
        "full_query": full_query,
        "form_groups": selectors.form_groups(rnd),
        "sort_labels": SORT_LABELS,
        "page_sizes": PAGE_SIZES,
        "per_page": per_page,
        "open": rnd.status == RoundStatus.DRAFT,
        "csv_limit": CSV_STREAM_LIMIT,
        "export_filters": _engine_export_filters(request),
    }
    return render(request, "pricing/flag_list.html", context)


@staff_required
def flag_export_csv(request: HttpRequest, round_id: int) -> HttpResponse:
    """CSV of the current filter, written by the engine's exporter (≤ 100,000 rows)."""
    rnd = _round_or_404(request, round_id)
    try:
        from pricing.review.exports import flags_for_export, write_csv
    except ImportError:
        raise Http404(_("导出功能尚未启用。")) from None
    qs = _filtered(request, rnd).qs
    if qs.count() > CSV_STREAM_LIMIT:
        messages.error(request, _("结果超过 %(n)d 条，请使用后台导出。") % {"n": CSV_STREAM_LIMIT})
        return redirect(f"{reverse('pricing:flag_list', args=[rnd.pk])}?{request.GET.urlencode()}")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    response["Content-Disposition"] = f'attachment; filename="flags-{rnd.pk}-{stamp}.csv"'
    rows = flags_for_export(rnd, "all").filter(pk__in=qs.values("pk")).order_by(*qs.query.order_by)
    write_csv(rows, response)
    return response


def _detail_context(request: HttpRequest, flag: Flag) -> dict[str, Any]:
    group = selectors.comparison_group(flag) if flag.listing_id else []
    peers = selectors.flags_on_listing(flag)
    limit_unit = (flag.effective_limit_price / flag.listing.pack_quantity).quantize(Decimal("0.0001"))
    target_label = f"{flag.listing.strength}×{flag.listing.pack_quantity}"
    return {
        "flag": flag,
        "round": flag.round,
        "explanation": _explanation(flag),
        "group": group,
        "group_rows": row_html.group_rows(group),
        "group_chart": charts.comparison_group_chart(group, limit_unit, target_label) if group else None,
        "limit_unit": limit_unit,
        "decisions": selectors.decisions_of(flag),
        "history": selectors.flag_history(flag),
        "binding": binding_limit_among(peers, scope="all"),
        "others": [f for f in peers if f.pk != flag.pk],
        "open": flag.round.status == RoundStatus.DRAFT,
        "actions": FlagDecision.Action,
        "back": request.GET.get("back", ""),
    }


@staff_required
def flag_detail(request: HttpRequest, flag_id: int) -> HttpResponse:
    try:
        flag = selectors.flag_detail(request.user, flag_id)
    except Flag.DoesNotExist:
        raise Http404 from None
    return render(request, "pricing/flag_detail.html", _detail_context(request, flag))


@staff_required
@require_POST
def flag_decide(request: HttpRequest, flag_id: int) -> HttpResponse:
    """POST action, expected_version, reason, new_limit. 409 with the current state on conflict."""
    if not selectors.flags_for(request.user).filter(pk=flag_id).exists():
        raise Http404
    try:
        version = int(request.POST.get("expected_version", ""))
    except ValueError:
        version = -1
    try:
        flag = decide(
            flag_id,
            request.POST.get("action", ""),
            user=request.user,
            expected_version=version,
            reason=request.POST.get("reason", ""),
            new_limit=request.POST.get("new_limit") or None,
            to_action=request.POST.get("to_action", ""),
        )
    except DecisionError as exc:
        flag = selectors.flag_detail(request.user, flag_id)
        context = _detail_context(request, flag)
        context["decision_error"] = exc.message
        context["conflict"] = getattr(exc, "current_state", None)
        status = 409 if isinstance(exc, DecisionConflict) else 400
        return render(request, "pricing/flag_detail.html", context, status=status)
    messages.success(request, _("已记录：%(s)s。") % {"s": flag.get_status_display()})
    url = reverse("pricing:flag_detail", args=[flag_id])
    back = request.POST.get("back", "")
    return redirect(f"{url}?back={back}" if back else url)


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return target if target and ok else fallback


def _bulk_selection(request: HttpRequest, rnd) -> tuple[list[int], dict[int, int], bool]:
    """The flags a bulk action names: the ticked ones of the page (with their displayed versions),
    or with select_all=1 every flag matching the list's filter (`filter_query`)."""
    if request.POST.get("select_all") == "1":
        query = QueryDict(request.POST.get("filter_query", ""))
        flt = FlagFilter(
            query, queryset=selectors.flag_list(request.user, rnd.pk), catalogue_version_id=rnd.catalogue_version_id
        )
        ids = list(flt.qs.order_by().values_list("pk", flat=True)[: SELECT_ALL_LIMIT + 1])
        return ids, {}, True
    ids = [int(raw) for raw in request.POST.getlist("flag_ids") if raw.isdigit()]
    in_round = sorted(set(Flag.objects.filter(round=rnd, pk__in=ids).values_list("pk", flat=True)))
    versions = {}
    for i in in_round:
        raw = request.POST.get(f"v_{i}", "")
        if raw.isdigit():
            versions[i] = int(raw)
    return in_round, versions, False


@staff_required
@require_POST
def flag_bulk_decide(request: HttpRequest, round_id: int) -> HttpResponse:
    """Two steps: the first POST shows what will happen (N selected, M 待审核 change, K decided are
    skipped); the second (confirmed=1, with the pending count seen) applies it."""
    rnd = _round_or_404(request, round_id)
    back = _safe_next(request, reverse("pricing:flag_list", args=[rnd.pk]))
    ids, versions, select_all = _bulk_selection(request, rnd)
    action = request.POST.get("action", "")
    if not ids:
        messages.error(request, _("请至少选择一条纠偏记录。"))
        return redirect(back)
    if len(ids) > SELECT_ALL_LIMIT:
        messages.error(request, _("一次最多批量处理 %(n)d 条，请缩小筛选范围。") % {"n": SELECT_ALL_LIMIT})
        return redirect(back)
    preview = bulk_preview(Flag.objects.filter(round=rnd, pk__in=ids))
    seen = request.POST.get("expected_pending", "")
    if request.POST.get("confirmed") != "1" or seen != str(preview.pending):
        context = {
            "round": rnd,
            "preview": preview,
            "action": action,
            "action_label": dict(FlagDecision.Action.choices).get(action, action),
            "reason": request.POST.get("reason", ""),
            "ids": ids if not select_all else [],
            "versions": versions,
            "select_all": select_all,
            "filter_query": request.POST.get("filter_query", ""),
            "next": back,
            "changed": request.POST.get("confirmed") == "1",
            "status_rows": [(label, preview.by_status.get(value, 0)) for value, label in FlagStatus.choices],
        }
        return render(request, "pricing/bulk_confirm.html", context)
    try:
        result = bulk_decide(
            ids,
            action,
            user=request.user,
            reason=request.POST.get("reason", ""),
            expected_versions=versions,
            limit=SELECT_ALL_LIMIT,
        )
    except DecisionError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    text = _("批量处理完成：%(done)d 条待审核记录已处理") % {"done": len(result.done)}
    if result.skipped:
        text += _("，%(n)d 条跳过（已审核的记录不会被批量改变，或已被他人处理）") % {"n": len(result.skipped)}
    messages.success(request, text + "。")
    return redirect(back)


@admin_required
@require_http_methods(["GET", "POST"])
def round_publish(request: HttpRequest, round_id: int) -> HttpResponse:
    """Two steps: the form's first POST shows what publishing will do (flags, listings, companies,
    deadline, 待审核 flags and whether they are deferred, a preview per company); publishing happens
    only on the second POST (confirmed=1, with the pending count that was shown)."""
    rnd = _round_or_404(request, round_id)
    form = PublishForm(request.POST or None)
    error = None
    preview = notice_preview(rnd.pk)
    context: dict[str, Any] = {"round": rnd, "form": form, "preview": preview}
    if request.method == "POST" and form.is_valid():
        defer = request.POST.get("defer_pending") == "1"
        confirmed = request.POST.get("confirmed") == "1"
        arguments = {
            "user": request.user,
            "deadline": form.deadline(),
            "notice_text": form.cleaned_data["notice_text"],
            "defer_pending": defer,
            "expected_pending": _int(request.POST.get("expected_pending")),
            "evidence_required": form.cleaned_data["evidence_required"],
        }
        context.update({"deadline": normalise_deadline(form.deadline()), "defer": defer})
        try:
            publish_notice(rnd.pk, dry_run=not confirmed, **arguments)
        except PublishError as exc:
            error = exc.message
        else:
            if confirmed:
                messages.success(request, _("批次已公示，已通知相关生产企业。"))
                return redirect("pricing:round_overview", round_id=rnd.pk)
            context["confirming"] = True  # checks passed: show what will happen, ask to confirm
    context["error"] = error
    status = 400 if error or (request.method == "POST" and not form.is_valid()) else 200
    return render(request, "pricing/publish.html", context, status=status)


def _int(raw: Any) -> int | None:
    return int(raw) if str(raw or "").isdigit() else None


@staff_required
def notice_preview_page(request: HttpRequest, round_id: int) -> HttpResponse:
    """企业端预览: exactly what a company will see once the notice is published (its confirmed
    flags, one card per listing with the binding limit and every reason)."""
    from appeals.notices import listing_rows
    from catalogue.models import Manufacturer

    rnd = _round_or_404(request, round_id)
    confirmed = Flag.objects.filter(round=rnd, status=FlagStatus.CONFIRMED)
    companies = list(
        Manufacturer.objects.filter(pk__in=confirmed.values("manufacturer_id")).order_by("name").values("pk", "name")
    )
    raw = request.GET.get("company", "")
    company_id = int(raw) if raw.isdigit() else (companies[0]["pk"] if companies else None)
    if company_id is not None and not any(c["pk"] == company_id for c in companies):
        raise Http404
    flags = (
        confirmed.filter(manufacturer_id=company_id)
        .select_related("listing", "benchmark_listing", "manufacturer", "round")
        .order_by("-ratio", "id")
    )
    notice = {"round": rnd, "listings": listing_rows(flags, rnd), "open": False, "early_closed": False}
    return render(
        request,
        "pricing/notice_preview.html",
        {"round": rnd, "companies": companies, "company_id": company_id, "notice": notice},
    )
