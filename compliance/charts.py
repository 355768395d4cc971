"""Plotly figures of the compliance page, drawn by static/js/charts.js like the review charts."""

from __future__ import annotations

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from compliance.models import ComplianceStatus
from compliance.selectors import Breakdown
from pricing.review.charts import _dump, _layout

STATUS_COLOURS = {
    "COMPLIED": "#2e7d32",
    "PARTIAL": "#e0b000",
    "NOT_ADJUSTED": "#e53935",
    "WITHDRAWN": "#78909c",
    "NEW_SPEC_ABOVE": "#8e0000",
}


def rounds_chart(series: list[Breakdown]) -> str:
    """Stacked bars: listings per compliance status for each round's latest check."""
    fig = go.Figure()
    for status in ComplianceStatus:
        fig.add_bar(
            name=str(status.label),
            x=[b.label for b in series],
            y=[b.counts.get(status.value, 0) for b in series],
            marker_color=STATUS_COLOURS[status.value],
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text=_("挂网药品数"))
    return _dump(_layout(fig, _("各批次调价落实情况")))
