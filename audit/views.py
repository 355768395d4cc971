"""审计日志 pages for regulators and admins: the filterable timeline and its CSV export. Thin."""

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.permissions import staff_required

from . import timeline as tl
from .services import record


class TimelineForm(forms.Form):
    round = forms.ModelChoiceField(label=_("批次"), required=False, queryset=None, empty_label=_("全部批次"))
    company = forms.ModelChoiceField(label=_("企业"), required=False, queryset=None, empty_label=_("全部企业"))
    listing = forms.CharField(label=_("挂网编号"), required=False, max_length=64)
    user = forms.CharField(label=_("操作人"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("操作"), required=False)

    def __init__(self, *args, **kwargs):
        from catalogue.models import Manufacturer
        from pricing.models import CorrectionRound

        super().__init__(*args, **kwargs)
        self.fields["round"].queryset = CorrectionRound.objects.order_by("-created_at")
        self.fields["company"].queryset = Manufacturer.objects.filter(flags__isnull=False).distinct().order_by("name")
        self.fields["action"].choices = [("", _("全部操作"))] + [(k, v) for k, v in tl.ACTION_LABELS.items()]

    def to_filter(self) -> tl.TimelineFilter:
        data = self.cleaned_data if self.is_valid() else {}
        return tl.TimelineFilter(
            round_id=getattr(data.get("round"), "pk", None),
            company_id=getattr(data.get("company"), "pk", None),
            listing_code=data.get("listing", ""),
            user=data.get("user", ""),
            action=data.get("action", ""),
        )


@staff_required
def timeline(request: HttpRequest) -> HttpResponse:
    form = TimelineForm(request.GET or None)
    events = tl.timeline(form.to_filter())
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/timeline.html",
        {"form": form, "page": page, "rows": list(tl.rows_for(page.object_list)), "query": query.urlencode()},
    )


@staff_required
def timeline_csv(request: HttpRequest) -> HttpResponse:
    form = TimelineForm(request.GET or None)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    n = tl.write_csv(tl.timeline(form.to_filter()), response)
    record(actor=request.user, action="audit.export", object_type="audit", object_id="timeline", after={"rows": n})
    return response
