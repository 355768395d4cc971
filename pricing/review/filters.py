"""Flag list filters (筛选) and sort orders, all read from the query string so a view can be shared."""

from __future__ import annotations

import hashlib
from typing import Any

import django_filters
from django import forms
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from catalogue.models import Listing
from pricing.models import Flag, FlagStatus, RuleCode, Severity

SORTS = {
    "-ratio": ("-ratio", "id"),
    "ratio": ("ratio", "id"),
    "-overcharge": ("-overcharge", "id"),
    "overcharge": ("overcharge", "id"),
    "name": ("generic_name", "id"),
    "-name": ("-generic_name", "-id"),
}
DEFAULT_SORT = "-ratio"
SORT_LABELS = {
    "-ratio": _("价差倍数 ↓"),
    "ratio": _("价差倍数 ↑"),
    "-overcharge": _("超限金额 ↓"),
    "overcharge": _("超限金额 ↑"),
    "name": _("通用名 A→Z"),
    "-name": _("通用名 Z→A"),
}


class FlagFilter(django_filters.FilterSet):
    """rule, severity, status, manufacturer (id or name), generic name / 挂网编号, form group, ratio
    range, sort. Every filter hits an index led by `round` (the queryset is already per round)."""

    rule = django_filters.ChoiceFilter(field_name="rule_code", choices=RuleCode.choices, label=_("纠偏类型"))
    severity = django_filters.ChoiceFilter(choices=Severity.choices, label=_("风险等级"))
    status = django_filters.ChoiceFilter(choices=FlagStatus.choices, label=_("状态"))
    manufacturer = django_filters.NumberFilter(field_name="manufacturer_id", widget=forms.HiddenInput)
    maker = django_filters.CharFilter(
        field_name="manufacturer__name", lookup_expr="icontains", label=_("生产企业"), max_length=100
    )
    q = django_filters.CharFilter(method="search", label=_("通用名/挂网编号"), max_length=100)
    form_group = django_filters.CharFilter(label=_("剂型组"), max_length=100)
    ratio_min = django_filters.NumberFilter(field_name="ratio", lookup_expr="gte", label=_("倍数≥"))
    ratio_max = django_filters.NumberFilter(field_name="ratio", lookup_expr="lte", label=_("倍数≤"))
    sort = django_filters.ChoiceFilter(
        method="order", choices=list(SORT_LABELS.items()), label=_("排序"), empty_label=None
    )

    class Meta:
        model = Flag
        fields: list[str] = []

    def __init__(self, data: Any = None, *args: Any, catalogue_version_id: int | None = None, **kwargs: Any) -> None:
        data = data.copy() if data is not None else QueryDict(mutable=True)
        if not data.get("sort"):
            data["sort"] = DEFAULT_SORT
        self.catalogue_version_id = catalogue_version_id
        super().__init__(data, *args, **kwargs)

    def search(self, queryset: QuerySet[Flag], name: str, value: str) -> QuerySet[Flag]:
        """Generic name (contains) or exact 挂网编号. The code lookup is a subquery on the
        listing table so counting stays on the flag table."""
        value = value.strip()
        if not value:
            return queryset
        codes = Listing.objects.filter(version_id=self.catalogue_version_id, listing_code=value).values("id")
        # A caseless term (Chinese, digits) matches the same rows with or without case folding;
        # plain LIKE skips UPPER() on every flag of the round (≈ 3× faster on 100,000 flags).
        lookup = "generic_name__icontains" if value.upper() != value.lower() else "generic_name__contains"
        return queryset.filter(Q(**{lookup: value}) | Q(listing_id__in=codes))

    def active(self) -> dict[str, Any] | None:
        """The filters that narrow the list (cleaned, non-empty; the sort order is not one), or
        None when the form is invalid (the list then shows what the valid fields select)."""
        if not self.form.is_valid():
            return None
        return {
            name: value
            for name, value in self.form.cleaned_data.items()
            if name != "sort" and value not in django_filters.constants.EMPTY_VALUES
        }

    def widgets(self) -> dict[str, str]:
        """The form's widgets as HTML (name → safe string), cached per language and submitted
        values: Django renders every widget and option through its template engine (≈ 1.5 ms per
        list page), and the HTML depends on nothing else (the choices are fixed, errors and
        `aria-invalid` follow from the values)."""
        fields = list(self.form.fields)
        key = repr((get_language(), [(name, self.data.getlist(name)) for name in fields]))
        digest = hashlib.sha256(key.encode()).hexdigest()
        return cache.get_or_set(
            f"review:filter_widgets:{digest}", lambda: {name: str(self.form[name]) for name in fields}, 3600
        )

    def order(self, queryset: QuerySet[Flag], name: str, value: str) -> QuerySet[Flag]:
        return queryset.order_by(*SORTS.get(value, SORTS["-ratio"]))
