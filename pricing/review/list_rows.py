"""The flag list's rows (纠偏记录列表), read and formatted once in plain Python.

The template used to read 14 columns of 50 model instances (and their three joined models) through
the template engine's attribute lookups and `floatformat`/`intcomma` filters: ≈ 60 % of the page's
CPU. Here one `values()` query reads the page's rows, and every cell is formatted to exactly the text
those filters produced (pricing.review.display), so the template only prints strings (still
auto-escaped).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from django.db.models import QuerySet
from django.urls import reverse

from pricing.models import Flag, FlagStatus, RuleCode, Severity
from pricing.review.display import decimal_separator, fixed, grouped

ROW_FIELDS = (
    "id",
    "status",
    "lock_version",
    "generic_name",
    "rule_code",
    "severity",
    "target_price",
    "limit_price",
    "adjusted_limit_price",
    "ratio",
    "overcharge",
    "benchmark_province",
    "benchmark_listing_id",
    "benchmark_listing__listing_code",
    "manufacturer_id",
    "manufacturer__name",
    "listing__listing_code",
    "listing__strength",
    "listing__pack_quantity",
    "listing__quality_tier",
)

_PLACEHOLDER = 918273645


def _labels() -> dict[str, dict[str, str]]:
    """Choice labels, translated once per page (`get_FOO_display()` would rebuild them per call)."""
    return {
        "rule": {c.value: str(c.label) for c in RuleCode},
        "severity": {s.value: str(s.label) for s in Severity},
        "status": {s.value: str(s.label) for s in FlagStatus},
    }


def page_rows(flags: QuerySet[Flag], ids: Iterable[int], back: str) -> list[dict[str, Any]]:
    """The rows of the flags `ids` (a page, in that order) of the list's queryset `flags`, as
    display strings; `back` is the list's query string, carried to the detail links."""
    ids = list(ids)
    if not ids:
        return []
    position = {pk: i for i, pk in enumerate(ids)}
    records = sorted(flags.filter(pk__in=ids).order_by().values(*ROW_FIELDS), key=lambda r: position[r["id"]])
    labels = _labels()
    sep = decimal_separator()
    # the detail link as `{% url 'pricing:flag_detail' pk %}?back={{ back|urlencode }}`, reversed once
    head, tail = reverse("pricing:flag_detail", args=[_PLACEHOLDER]).split(str(_PLACEHOLDER))
    tail += f"?back={quote(back)}"
    rows = []
    for r in records:
        adjusted = r["adjusted_limit_price"]
        pk = r["id"]
        rows.append(
            {
                "pk": pk,
                "status": r["status"],
                "lock_version": r["lock_version"],
                "listing_code": r["listing__listing_code"],
                "generic_name": r["generic_name"],
                "detail_url": f"{head}{pk}{tail}",
                "spec": f"{r['listing__strength']}×{r['listing__pack_quantity']}",
                "manufacturer_id": r["manufacturer_id"],
                "manufacturer_name": r["manufacturer__name"],
                "quality_tier": r["listing__quality_tier"],
                "rule_code": r["rule_code"],
                "rule_label": labels["rule"].get(r["rule_code"], r["rule_code"]),
                "severity": r["severity"],
                "severity_label": labels["severity"].get(r["severity"], r["severity"]),
                "target_price": fixed(r["target_price"], 2, sep),
                "limit_price": fixed(adjusted if adjusted is not None else r["limit_price"], 2, sep),
                "adjusted": adjusted is not None,
                "ratio": fixed(r["ratio"], 4, sep),
                "overcharge": grouped(fixed(r["overcharge"], 2, sep)),
                "benchmark": (
                    r["benchmark_listing__listing_code"]
                    if r["benchmark_listing_id"] is not None
                    else r["benchmark_province"]
                ),
                "status_label": labels["status"].get(r["status"], r["status"]),
            }
        )
    return rows
