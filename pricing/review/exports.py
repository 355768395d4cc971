"""The correction-list export (纠偏清单, FORMATS.md §3): CSV (UTF-8 with BOM) and XLSX.

Rows come from `.values_list(...).iterator()` — no model instances. Prices are numbers (2 decimals
for pack prices, 4 for unit prices); any text cell starting with = + - @ tab or CR is prefixed with
`'` so no spreadsheet formula runs. Large exports run as an ExportJob task with progress.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from jobs.enqueue import enqueue
from pricing.engine.conversion import ratio as price_ratio
from pricing.engine.conversion import round_half_up
from pricing.models import CorrectionRound, ExportJob, FinalEntry, Flag, FlagStatus, JobStatus, RoundEvent, RuleCode
from pricing.review.binding import binding_limit_expression

logger = logging.getLogger(__name__)

HEADERS = [
    "序号",
    "纠偏类型",
    "纠偏类型名称",
    "挂网编号",
    "通用名",
    "剂型",
    "规格",
    "转换比",
    "生产企业",
    "质量层次",
    "挂网价格",
    "最小制剂单价",
    "比价药品挂网编号",
    "比价药品生产企业",
    "比价药品规格",
    "比价药品最小制剂单价",
    "换算后比价单价",
    "价差倍数",
    "风险等级",
    "纠偏限价",
    "状态",
    "执行限价",
    "执行价差倍数",
]
# kind of each output column: t text, i integer, p pack price (2 dp), u unit price (4 dp), r ratio (4 dp)
# The first 21 columns are FORMATS.md §3 (纠偏限价 = this flag's own limit, ratio against it); the last
# two are the listing's 执行限价 (binding limit, pricing.review.binding) and the ratio against it,
# blank when the listing has no flag in the export's scope.
KINDS = "ittttttittputttuurtptpr"
assert len(KINDS) == len(HEADERS)
STATUS_FILTERS = ("all", "confirmed", "final")
FORMATS = ("csv", "xlsx")
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 5000

_FIELDS = [
    "rule_code",
    "listing__listing_code",
    "listing__generic_name",
    "listing__dosage_form",
    "listing__strength",
    "listing__pack_quantity",
    "listing__manufacturer_name",
    "listing__quality_tier",
    "target_price",
    "target_unit_price",
    "benchmark_listing__listing_code",
    "benchmark_province",
    "benchmark_listing__manufacturer_name",
    "benchmark_reference__manufacturer_name",
    "benchmark_listing__strength",
    "benchmark_reference__strength",
    "benchmark_unit_price",
    "benchmark_converted",
    "ratio",
    "severity",
    "export_limit",
    "export_status",
    "export_binding",
]
RULE_NAMES = dict(RuleCode.choices)
STATUS_NAMES = dict(FlagStatus.choices)


class ExportError(ValueError):
    """Bad export request (message in Chinese)."""


def neutralise(text: str) -> str:
    """Prefix `'` on text a spreadsheet would otherwise run as a formula."""
    return "'" + text if text and text.startswith(DANGEROUS) else text


def flags_for_export(
    round_: CorrectionRound, status: str = "all", filters: dict | None = None, binding_scope: str | None = None
) -> QuerySet:
    """The round's flags with `export_status`, `export_limit` (the flag's own limit) and
    `export_binding` (its listing's 执行限价 in the export's scope, or in `binding_scope` when
    given); "final" reads the latest FinalList."""
    if status not in STATUS_FILTERS:
        raise ExportError(_("未知的状态筛选：%(s)s") % {"s": status})
    qs = Flag.objects.filter(round=round_)
    if status == "final":
        final = round_.final_lists.order_by("-version").first()
        if final is None:
            return qs.none().annotate(
                export_status=F("status"), export_limit=F("limit_price"), export_binding=F("limit_price")
            )
        per_listing = FinalEntry.objects.filter(final_list=final, listing_id=OuterRef("listing_id"))
        per_flag = FinalEntry.objects.filter(final_list=final, listing__isnull=True, flag=OuterRef("pk"))
        qs = qs.filter((Exists(per_listing) & Q(status=FlagStatus.CONFIRMED)) | Exists(per_flag)).annotate(
            export_status=F("status"),
            export_limit=Coalesce(Subquery(per_flag.values("limit_price")[:1]), "adjusted_limit_price", "limit_price"),
            export_binding=Coalesce(
                Subquery(per_listing.values("limit_price")[:1]), Subquery(per_flag.values("limit_price")[:1])
            ),
        )
    else:
        if status == "confirmed":
            qs = qs.filter(status=FlagStatus.CONFIRMED)
        qs = qs.annotate(
            export_status=F("status"),
            export_limit=Coalesce("adjusted_limit_price", "limit_price"),
            export_binding=binding_limit_expression(binding_scope or ("confirmed" if status == "confirmed" else "all")),
        )
    return apply_filters(qs, filters or {}).order_by("id")


def apply_filters(qs: QuerySet, filters: dict) -> QuerySet:
    """The list page's simple filters (rule, severity, status, manufacturer id, generic name)."""
    if filters.get("rule_code"):
        qs = qs.filter(rule_code=filters["rule_code"])
    if filters.get("severity"):
        qs = qs.filter(severity=filters["severity"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if str(filters.get("manufacturer", "")).isdigit():
        qs = qs.filter(manufacturer_id=int(filters["manufacturer"]))
    if filters.get("generic_name"):
        qs = qs.filter(generic_name__icontains=filters["generic_name"])
    return qs


def export_rows(flags: QuerySet) -> Iterator[list[Any]]:
    """One list per flag in HEADERS order: text as str, numbers as Decimal (already rounded)."""
    rule_names = {k: str(v) for k, v in RULE_NAMES.items()}
    status_names = {k: str(v) for k, v in STATUS_NAMES.items()}
    for i, row in enumerate(flags.values_list(*_FIELDS).iterator(chunk_size=CHUNK), start=1):
        (
            rule,
            code,
            generic,
            form,
            strength,
            n,
            maker,
            tier,
            price,
            unit_price,
            bench_code,
            province,
            bench_maker,
            ref_maker,
            bench_spec,
            ref_spec,
            bench_unit,
            converted,
            ratio,
            severity,
            limit,
            status,
            binding,
        ) = row
        yield [
            i,
            rule,
            rule_names.get(rule, rule),
            code,
            generic,
            form,
            strength,
            n,
            maker,
            tier,
            round_half_up(price, 2),
            round_half_up(unit_price, 4),
            bench_code or province or "",
            bench_maker or ref_maker or "",
            bench_spec or ref_spec or "",
            round_half_up(bench_unit, 4),
            round_half_up(converted, 4),
            round_half_up(ratio, 4),
            severity,
            round_half_up(limit, 2),
            status_names.get(status, status),
            "" if binding is None else round_half_up(binding, 2),
            "" if binding is None else price_ratio(price, binding),
        ]


def _csv_cell(value: Any) -> str:
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def write_csv(flags: QuerySet, out: IO[str], progress: Any = None) -> int:
    """CSV with a UTF-8 BOM (so Excel opens it). `out` is a text stream opened with newline=""."""
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    count = 0
    for row in export_rows(flags):
        writer.writerow([_csv_cell(v) for v in row])
        count += 1
        if progress and count % 10_000 == 0:
            progress(count)
    return count


def write_xlsx(flags: QuerySet, path: Path | str, progress: Any = None) -> int:
    """XLSX with xlsxwriter in constant-memory mode; formulas are never written."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False}
    )
    sheet = workbook.add_worksheet("纠偏清单")
    pack = workbook.add_format({"num_format": "0.00"})
    unit = workbook.add_format({"num_format": "0.0000"})
    head = workbook.add_format({"bold": True})
    sheet.write_row(0, 0, HEADERS, head)
    write_string, write_number = sheet.write_string, sheet.write_number
    formats = {"p": pack, "u": unit, "r": unit}
    count = 0
    for r, row in enumerate(export_rows(flags), start=1):
        for c, value in enumerate(row):
            kind = KINDS[c]
            if kind == "t":
                write_string(r, c, neutralise(value or ""))
            elif value == "":
                continue
            elif kind == "i":
                write_number(r, c, value)
            else:
                write_number(r, c, float(value), formats[kind])
        count += 1
        if progress and count % 10_000 == 0:
            progress(count)
    workbook.close()
    return count


def write_export(flags: QuerySet, fmt: str, path: Path, progress: Any = None) -> int:
    if fmt == "csv":
        with open(path, "w", encoding="utf-8", newline="") as fh:
            return write_csv(flags, fh, progress)
    if fmt == "xlsx":
        return write_xlsx(flags, path, progress)
    raise ExportError(_("未知的导出格式：%(f)s") % {"f": fmt})


def export_round(round_: CorrectionRound, *, fmt: str, path: Path, status: str = "all", user: Any = None) -> int:
    """Synchronous export (management command): writes `path` and an audit event."""
    if fmt not in FORMATS:
        raise ExportError(_("未知的导出格式：%(f)s") % {"f": fmt})
    count = write_export(flags_for_export(round_, status), fmt, Path(path))
    with transaction.atomic():
        record(actor=user, action="round.export", obj=round_, after={"format": fmt, "status": status, "rows": count})
        RoundEvent.objects.create(round=round_, action="exported", detail={"format": fmt, "rows": count})
    return count


def export_dir() -> Path:
    path = Path(settings.PRIVATE_ROOT) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_export(
    round_: CorrectionRound, *, fmt: str, status: str, user: Any, filters: dict | None = None
) -> ExportJob:
    """Queue an export job (run by pricing.tasks.run_export after commit)."""
    if fmt not in FORMATS:
        raise ExportError(_("未知的导出格式：%(f)s") % {"f": fmt})
    if status not in STATUS_FILTERS:
        raise ExportError(_("未知的状态筛选：%(s)s") % {"s": status})
    with transaction.atomic():
        job = ExportJob.objects.create(
            round=round_, format=fmt, status_filter=status, filters=filters or {}, requested_by=user
        )
        record(actor=user, action="round.export_requested", obj=round_, after={"job": job.pk, "format": fmt})
        enqueue("export", job.pk)  # ticket now, message after commit (jobs)
    return job


def run_export_job(job_id: int) -> ExportJob:
    """Write the job's file; idempotent (a finished job is left alone, a failed one is redone)."""
    job = ExportJob.objects.select_related("round").get(pk=job_id)
    if job.state == JobStatus.DONE:
        return job
    ExportJob.objects.filter(pk=job_id).update(state=JobStatus.RUNNING, progress=1, message="")
    flags = flags_for_export(job.round, job.status_filter, job.filters)
    total = max(flags.count(), 1)
    path = export_dir() / f"round{job.round_id}_job{job.pk}.{job.format}"

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job_id).update(progress=min(99, done * 100 // total))

    try:
        count = write_export(flags, job.format, path, progress)
    except Exception as exc:
        logger.exception("export job %s failed", job_id)
        ExportJob.objects.filter(pk=job_id).update(state=JobStatus.FAILED, message=str(exc))
        raise
    with transaction.atomic():
        ExportJob.objects.filter(pk=job_id).update(
            state=JobStatus.DONE, progress=100, file_path=str(path), row_count=count, finished_at=timezone.now()
        )
        record(
            actor=job.requested_by,
            action="round.export",
            obj=job.round,
            after={"job": job.pk, "format": job.format, "status": job.status_filter, "rows": count},
        )
        RoundEvent.objects.create(
            round=job.round, action="exported", actor=job.requested_by, detail={"job": job.pk, "rows": count}
        )
    job.refresh_from_db()
    return job
