"""Exports of the final correction list (最终纠偏清单): CSV/XLSX in FORMATS.md §3 through the
engine's exporters (status "final"), and the data of the printable page. Each writes an audit event."""

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.utils.translation import gettext as _

from audit.services import record
from pricing.models import CorrectionRound, FinalEntry, FinalList, RoundStatus, RuleCode, Severity

from .errors import NotAllowed, RoundStateError
from .models import Appeal, AppealStatus

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ExportFile:
    path: Path
    filename: str
    content_type: str
    rows: int


def _final_list(round_: CorrectionRound, user: Any) -> FinalList:
    if not getattr(user, "is_admin_role", False):
        raise NotAllowed(_("只有管理员可以导出最终纠偏清单。"))
    final = FinalList.objects.filter(round=round_).order_by("-version").first()
    if round_.status != RoundStatus.FINAL or final is None:
        raise RoundStateError(_("该批次尚未发布最终纠偏清单。"))
    return final


def export_final_list(round_: CorrectionRound, *, user: Any, fmt: str) -> ExportFile:
    """Write the latest final list as CSV or XLSX under PRIVATE_ROOT/exports/ and audit it."""
    from pricing.review import exports  # engine exporters (FORMATS.md §3, formula-safe)

    if fmt not in CONTENT_TYPES:
        raise RoundStateError(_("不支持的导出格式：%(f)s") % {"f": fmt})
    final = _final_list(round_, user)
    flags = exports.flags_for_export(round_, "final")
    folder = Path(settings.PRIVATE_ROOT) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"final_{round_.pk}_v{final.version}.{fmt}"  # frozen list: same content every time
    rows = exports.write_export(flags, fmt, path)
    filename = f"最终纠偏清单_{round_.pk}_v{final.version}.{fmt}"
    record(
        actor=user,
        action=f"final_list.export_{fmt}",
        obj=final,
        after={"round": round_.pk, "version": final.version, "format": fmt, "rows": rows},
    )
    return ExportFile(path, filename, CONTENT_TYPES[fmt], rows)


def company_export(round_: CorrectionRound, *, user: Any) -> ExportFile:
    """The manufacturer's own list of a round as XLSX (FORMATS.md §3 columns + 执行限价): only its
    company's confirmed/withdrawn flags, the binding limit as the notice/final list shows it."""
    from pricing.review import exports

    from .notices import binding_scope
    from .selectors import VISIBLE_FLAG_STATUSES

    company_id = getattr(user, "company_id", None)
    if not getattr(user, "is_manufacturer", False) or not company_id:
        raise NotAllowed(_("只有生产企业用户可以导出本企业清单。"))
    flags = (
        exports.flags_for_export(round_, "all", binding_scope=binding_scope(round_))
        .filter(manufacturer_id=company_id, status__in=VISIBLE_FLAG_STATUSES)
        .order_by("listing__listing_code", "id")
    )
    folder = Path(settings.PRIVATE_ROOT) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"company_{company_id}_round_{round_.pk}.xlsx"
    rows = exports.write_export(flags, "xlsx", path)
    record(actor=user, action="company_list.export_xlsx", obj=round_, after={"round": round_.pk, "rows": rows})
    return ExportFile(path, f"纠偏清单_{round_.pk}.xlsx", CONTENT_TYPES["xlsx"], rows)


def _reason_rows(entry: FinalEntry, rule_names: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {**r, "rule_label": rule_names.get(r["rule_code"], r["rule_code"]), "binds": i == 0}
        for i, r in enumerate(entry.reasons or [])
    ]


def print_context(round_: CorrectionRound, *, user: Any) -> dict[str, Any]:
    """Everything the printable page shows: round, final list version, counts and the table
    (one row per listing with its 执行限价 and every flag behind it)."""
    final = _final_list(round_, user)
    entries = list(
        FinalEntry.objects.filter(final_list=final)
        .select_related("listing", "flag__listing", "flag__benchmark_listing", "flag__manufacturer")
        .order_by("-ratio", "id")
    )
    rule_names = {k: str(v) for k, v in RuleCode.choices}
    severity_names = {k: str(v) for k, v in Severity.choices}
    by_rule: Counter[str] = Counter()
    by_severity: Counter[str] = Counter()
    rows = []
    for e in entries:
        reasons = _reason_rows(e, rule_names)
        by_rule.update({r["rule_code"] for r in reasons})
        by_severity[e.severity] += 1
        rows.append({"entry": e, "listing": e.listing or e.flag.listing, "reasons": reasons})
    decided = Appeal.objects.filter(round=round_).values("status").annotate(n=Count("id"))
    appeal_counts = {row["status"]: row["n"] for row in decided}
    record(actor=user, action="final_list.print", obj=final, after={"round": round_.pk, "version": final.version})
    return {
        "round": round_,
        "final": final,
        "rows": rows,
        "by_rule": [{"label": rule_names[c], "n": by_rule[c]} for c in rule_names if by_rule[c]],
        "by_severity": [{"label": severity_names[s], "n": by_severity[s]} for s in severity_names if by_severity[s]],
        "adjusted": sum(1 for e in entries if e.basis == "decision"),
        "appeal_counts": {
            label: appeal_counts.get(value, 0) for value, label in AppealStatus.choices if value != "draft"
        },
        "companies": len({e.flag.manufacturer_id for e in entries}),
    }
