"""Explaining a flag (纠偏说明): the arithmetic written out step by step, in Chinese.

`explain_flag(flag)` reads only stored values (prices, converted price, limit, ratio, severity and
the `factors` JSON), so it shows exactly the numbers of the export: 4 decimals for unit prices and
2 for pack prices. It works on a `Flag` or any object with the same attributes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pricing.engine.conversion import round_half_up
from pricing.models import Severity

KIND_LABELS = {
    "content": gettext_lazy("含量差比价"),
    "volume": gettext_lazy("装量差比价"),
    "identical": gettext_lazy("规格相同"),
    "reference": gettext_lazy("四同省际比价"),
}


def _unit(value: Any) -> str:
    return f"{round_half_up(Decimal(str(value)), 4)}"


def _pack(value: Any) -> str:
    return f"{round_half_up(Decimal(str(value)), 2)}"


def _quantity(value: str, unit: str) -> str:
    return f"{value}{unit}" if value not in (None, "") else ""


def explain_flag(flag: Any) -> list[dict[str, str]]:
    """Return [{"label": ..., "value": ...}, ...] redoing the flag's arithmetic by hand."""
    f: dict = dict(getattr(flag, "factors", None) or {})
    kind = f.get("kind", "")
    n_t = f.get("n_target")
    n_b = f.get("n_bench")
    p_t = _pack(flag.target_price)
    p_b = _pack(flag.benchmark_price)
    limit = _pack(flag.limit_price)
    steps: list[dict[str, str]] = []

    def add(label: str, value: str) -> None:
        steps.append({"label": label, "value": value})

    for note in f.get("corrections", []):  # 人工修正 of the target (pricing.engine.corrections)
        add(_("人工修正（目标药品）"), note)
    for note in f.get("benchmark_corrections", []):
        add(_("人工修正（比价药品）"), note)
    add(_("目标药品最小制剂单价 u_t = P_t / n_t"), f"{p_t} / {n_t} = {_unit(flag.target_unit_price)}")

    if kind == "reference":
        province = f.get("province") or getattr(flag, "benchmark_province", "")
        add(_("比价依据"), _("四同药品（同品同厂同剂型同规格）其他省份最低挂网价：%(p)s") % {"p": province})
        add(_("省际最低挂网价 P_min"), f"{p_b}")
        add(_("纠偏限价 L_t = P_min"), f"{limit}")
        add(
            _("换算后比价单价 L_t / n_t"),
            f"{limit} / {n_t} = {_unit(flag.benchmark_converted)}",
        )
    else:
        add(
            _("比价药品最小制剂单价 u_b = P_b / n_b"),
            f"{p_b} / {n_b} = {_unit(flag.benchmark_unit_price)}",
        )
        if kind in ("content", "volume"):
            unit = f.get("unit", "")
            add(
                _("换算方式"),
                _("%(kind)s，系数 K = %(k)s") % {"kind": KIND_LABELS[kind], "k": f.get("k", "")},
            )
            q_t = _quantity(f.get("q_target", ""), unit)
            q_b = _quantity(f.get("q_bench", ""), unit)
            add(_("规格比 x = q_t / q_b"), f"{q_t} / {q_b} = {f.get('x', '')}")
            add(_("指数 log₂(x)"), f"log₂({f.get('x', '')}) = {f.get('exponent', '')}")
        else:
            add(_("换算方式"), _("规格相同，无需含量/装量换算"))
        k_pack = f.get("k_pack", "2")
        if str(k_pack) in ("2", "2.0", "2.00"):
            add(_("包装数量"), _("K_p = 2：按最小制剂单价直接比较（包装系数 1）"))
        else:
            add(
                _("包装数量差比价"),
                f"(K_p/2)^log₂(n_t/n_b) = ({k_pack}/2)^log₂({n_t}/{n_b}) = ({k_pack}/2)^{f.get('pack_exponent', '')}",
            )
        add(_("换算系数 F"), f"{f.get('factor', '')}")
        add(
            _("换算后比价单价 u_b→t = u_b × F"),
            f"{_unit(flag.benchmark_unit_price)} × {f.get('factor', '')} = {_unit(flag.benchmark_converted)}",
        )
        formula = f.get("limit_formula") or f"{p_b} × F × {n_t} / {n_b}"
        add(_("纠偏限价 L_t = P_b × F × n_t / n_b（四舍五入到分）"), f"{formula} = {limit}")

    add(_("价差倍数 r = P_t / L_t"), f"{p_t} / {limit} = {round_half_up(Decimal(str(flag.ratio)), 4)}")
    add(_("超限金额 P_t − L_t"), f"{p_t} − {limit} = {_pack(Decimal(p_t) - Decimal(limit))}")
    add(_("风险等级"), _severity_text(flag.severity))
    return steps


_SEVERITY_HINTS = {
    "黄": "r < 2",
    "红★": "2 ≤ r < 5",
    "红★★": "5 ≤ r < 10",
    "红★★★": gettext_lazy("r ≥ 10，建议暂停挂网"),
}


def _severity_text(severity: str) -> str:
    """'红★★（5 ≤ r < 10）': the severity's display label (the stored value in Chinese) and its band."""
    label = str(Severity(severity).label) if severity in Severity.values else severity
    hint = _SEVERITY_HINTS.get(severity)
    return _("%(severity)s（%(hint)s）") % {"severity": label, "hint": hint} if hint else label
