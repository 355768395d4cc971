"""The flag arithmetic shown to manufacturers and regulators (engine's `pricing.explain`)."""

from typing import Any

from django.utils.translation import gettext as _


def explanation(flag: Any) -> list[dict[str, str]]:
    """[{label, value}] steps; uses only the flag's stored numbers (no other company's data
    beyond the benchmark listing named in the notice)."""
    try:
        from pricing.review.explain import explain_flag
    except ImportError:  # engine module not deployed: show the stored figures only
        return [
            {"label": _("挂网价格"), "value": str(flag.target_price)},
            {"label": _("换算后比价单价"), "value": str(flag.benchmark_converted)},
            {"label": _("纠偏限价"), "value": str(flag.limit_price)},
            {"label": _("价差倍数"), "value": str(flag.ratio)},
        ]
    return explain_flag(flag)
