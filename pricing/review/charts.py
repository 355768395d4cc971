"""Plotly figures for the review pages (图表), built from already-aggregated data.

Each function returns `fig.to_json()`; templates put it in a `<script type="application/json">`
data block and static/js/charts.js draws it with the vendored plotly.min.js (CSP: no inline JS).
"""

from __future__ import annotations

import functools
import json
import math
from decimal import Decimal

import plotly.graph_objects as go
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalogue.models import TierClass
from pricing.models import RuleCode, Severity

SEVERITY_COLOURS = {"黄": "#e0b000", "红★": "#ef9a9a", "红★★": "#e53935", "红★★★": "#8e0000"}
TIER_COLOURS = {"参比": "#1565c0", "过评": "#2e7d32", "新药": "#6a1b9a", "未过评": "#ef6c00"}
FONT = {"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif", "size": 12}


def _layout(fig: go.Figure, title: str, height: int = 320) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        height=height,
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        font=FONT,
        plot_bgcolor="#fff",
        paper_bgcolor="#fff",
        legend={"orientation": "h", "y": -0.2},
        template="plotly_white",
    )
    fig.update_xaxes(gridcolor="#eef2f7")
    fig.update_yaxes(gridcolor="#eef2f7")
    return fig


def _script_safe(text: str) -> str:
    """JSON text made safe to embed in a <script type="application/json"> block (no `</script>` break-out)."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _dump(fig: go.Figure) -> str:
    return _script_safe(fig.to_json())


RULE_SHORT = {
    "TIER_UNEVALUATED": gettext_lazy("未过评高于新药/过评/参比"),
    "TIER_EVALUATED": gettext_lazy("过评高于参比"),
    "SAME_MAKER_SPEC": gettext_lazy("同厂不同规格"),
    "FOUR_SAME_NATIONAL": gettext_lazy("四同省际比价"),
}


def rule_severity_chart(rule_severity: dict[tuple[str, str], int]) -> str:
    """Stacked bars: flags per rule, one colour per severity."""
    rules = [c for c in RuleCode]
    fig = go.Figure()
    for sev in Severity:
        fig.add_bar(
            name=str(sev.label),
            x=[str(RULE_SHORT.get(r.value, r.value)) for r in rules],
            y=[rule_severity.get((r.value, sev.value), 0) for r in rules],
            marker_color=SEVERITY_COLOURS[sev.value],
        )
    fig.update_layout(barmode="stack")
    return _dump(_layout(fig, _("按纠偏类型与风险等级")))


def ratio_histogram_chart(edges: list[Decimal], counts: list[int]) -> str:
    """Step histogram of 价差倍数 on a log x axis (bins are log-spaced, last bin open-ended)."""
    x = [float(e) for e in edges] + [float(edges[-1]) * 10 ** (1 / 8)]
    y = counts + [counts[-1]]
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=y,
            mode="lines",
            line={"shape": "hv", "color": "#0b5cab"},
            fill="tozeroy",
            name=_("纠偏数"),
            hovertemplate=_("r ≥ %{x:.2f}: %{y} 条") + "<extra></extra>",
        )
    )
    fig.update_xaxes(type="log", title_text=_("价差倍数 r = P_t / L_t（对数坐标）"))
    fig.update_yaxes(title_text=_("纠偏数"))
    fig.add_vline(x=2, line_dash="dot", line_color="#e53935")
    fig.add_vline(x=5, line_dash="dot", line_color="#e53935")
    fig.add_vline(x=10, line_dash="dot", line_color="#8e0000")
    fig.update_layout(showlegend=False)
    return _dump(_layout(fig, _("价差倍数分布")))


def top_manufacturers_chart(rows: list[dict], value: str, title: str, axis: str) -> str:
    """Horizontal bars of the top manufacturers (largest on top)."""
    rows = list(reversed(rows))
    fig = go.Figure(
        go.Bar(
            x=[float(r[value] or 0) for r in rows],
            y=[r["manufacturer__name"] for r in rows],
            orientation="h",
            marker_color="#0b5cab",
            hovertemplate="%{y}: %{x:,.2f}<extra></extra>"
            if value == "amount"
            else _("%{y}: %{x} 条") + "<extra></extra>",
        )
    )
    fig.update_xaxes(title_text=axis)
    fig.update_layout(showlegend=False)
    fig.update_layout(margin={"l": 220})
    return _dump(_layout(fig, title, height=max(260, 28 * len(rows) + 90)))


@functools.cache
def _template_json(name: str) -> dict:
    """A plotly layout template as plain JSON, built once per process (plotly's own objects take
    tens of milliseconds to build and validate it on every figure)."""
    return json.loads(go.Figure(layout={"template": name}).to_json())["layout"]["template"]


def _dump_plain(figure: dict) -> str:
    """`_dump` for a figure written as plain JSON."""
    return _script_safe(json.dumps(figure))


def comparison_group_chart(rows: list[dict], limit_unit: Decimal | None, target_label: str) -> str:
    """Each listing of the group at its unit price converted to the target's spec, coloured by
    quality tier; target, benchmark and the limit (as a unit price) marked.

    Written as plain JSON (the same figure `go.Figure` + `_layout` would give): the flag detail
    page draws it on every view, and plotly's validating objects cost more than the rest of the
    page under load (bench/load_review.py)."""
    data: list[dict] = []
    comparable = [r for r in rows if r["converted"] is not None]
    for tier, colour in TIER_COLOURS.items():
        tier_rows = [r for r in comparable if r["listing"].tier_class == tier]
        if not tier_rows:
            continue
        data.append(
            {
                "hovertemplate": _("%{x} %{text}<br>换算单价 %{y:.4f}") + "<extra></extra>",
                "marker": {"color": colour, "size": 11},
                "mode": "markers",
                "name": str(TierClass(tier).label),
                "text": [
                    f"{r['listing'].manufacturer_name} {r['listing'].strength}×{r['listing'].pack_quantity}"
                    for r in tier_rows
                ],
                "x": [r["listing"].listing_code for r in tier_rows],
                "y": [float(r["converted"]) for r in tier_rows],
                "type": "scatter",
            }
        )
    for key, label, symbol, colour in (
        ("is_target", _("目标药品"), "star", "#c62828"),
        ("is_benchmark", _("比价药品"), "diamond-open", "#000"),
    ):
        marked = [r for r in comparable if r[key]]
        if marked:
            data.append(
                {
                    "hoverinfo": "skip",
                    "marker": {"color": colour, "line": {"color": colour, "width": 2}, "size": 20, "symbol": symbol},
                    "mode": "markers+text",
                    "name": label,
                    "text": [label],
                    "textposition": "top center",
                    "x": [r["listing"].listing_code for r in marked],
                    "y": [float(r["converted"]) for r in marked],
                    "type": "scatter",
                }
            )
    layout: dict = {"template": _template_json("plotly_white")}
    if limit_unit is not None:
        y = float(limit_unit)
        layout["shapes"] = [
            {
                "line": {"color": "#c62828", "dash": "dash"},
                "type": "line",
                "x0": 0,
                "x1": 1,
                "xref": "x domain",
                "y0": y,
                "y1": y,
                "yref": "y",
            }
        ]
        layout["annotations"] = [
            {
                "showarrow": False,
                "text": _("限价折合单价 %(price)s") % {"price": limit_unit},
                "x": 0,
                "xanchor": "left",
                "xref": "x domain",
                "y": y,
                "yanchor": "bottom",
                "yref": "y",
            }
        ]
    yaxis: dict = {}
    values = [float(r["converted"]) for r in comparable] + ([float(limit_unit)] if limit_unit else [])
    if values:
        yaxis["range"] = [math.log10(min(values) * 0.6), math.log10(max(values) * 1.8)]
    yaxis["type"] = "log"
    yaxis["title"] = {"text": _("换算到 %(spec)s 的单价（元，对数）") % {"spec": target_label}}
    yaxis["gridcolor"] = "#eef2f7"
    layout["yaxis"] = yaxis
    layout["xaxis"] = {"title": {"text": _("挂网编号")}, "type": "category", "gridcolor": "#eef2f7"}
    layout.update(
        {
            "title": {"text": _("比价组单价对比"), "font": {"size": 14}},
            "height": 380,
            "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
            "font": FONT,
            "plot_bgcolor": "#fff",
            "paper_bgcolor": "#fff",
            "legend": {"orientation": "h", "y": -0.2},
        }
    )
    return _dump_plain({"data": data, "layout": layout})
