"""The review pages' long row loops rendered by Jinja2 (行渲染): the flag list's rows and the flag
detail's comparison group.

In Django's template engine these loops were most of both pages' template time (50 list rows of 14
cells: ≈ 7.5 ms a page on the slower benchmark machine); the same markup as a Jinja2 template
(templates/jinja2/pricing/, compiled to Python, auto-escaped) renders in ≈ 1.7 ms. The rest of each page
stays a Django template. The words the rows show are translated here, so `makemessages` finds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext


def flag_rows(rows: Sequence[dict[str, Any]], *, open_round: bool) -> SafeString:
    """The <tr> elements of a flag list page (rows from pricing.review.list_rows.page_rows)."""
    context = {
        "rows": rows,
        "open": open_round,
        "only_maker_title": gettext("只看该企业"),
        "adjusted_title": gettext("已调整"),
    }
    return mark_safe(render_to_string("pricing/flag_rows.html", context, using="jinja2"))  # escaped by Jinja2


def group_rows(group: Sequence[dict[str, Any]]) -> SafeString:
    """The <tr> elements of the comparison group (rows from pricing.review.selectors.comparison_group)."""
    context = {
        "group": group,
        "not_comparable": gettext("规格不可比"),
        "target_word": gettext("目标"),
        "benchmark_word": gettext("比价"),
    }
    return mark_safe(render_to_string("pricing/group_rows.html", context, using="jinja2"))  # escaped by Jinja2
