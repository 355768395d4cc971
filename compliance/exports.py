"""Compliance CSV (the check_compliance contract) and the escalation list (暂停挂网建议名单) as
CSV / XLSX. Text cells go through the correction-list exporter's formula neutraliser
(pricing.review.exports.neutralise); prices are numbers, 2 decimals for limits, as listed otherwise."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from audit.services import record
from compliance.models import ComplianceResult, ComplianceStatus, EscalationList
from pricing.engine.conversion import round_half_up
from pricing.review.exports import neutralise

CHECK_HEADERS = [
    "挂网编号",
    "通用名",
    "生产企业",
    "原挂网价格",
    "执行限价",
    "新挂网编号",
    "新挂网价格",
    "合规状态",
    "合规状态名称",
]
ESCALATION_HEADERS = ["序号", *CHECK_HEADERS, "纠偏类型"]
# t text, p price (2 dp), i integer
CHECK_KINDS = "tttpptptt"
ESCALATION_KINDS = "i" + CHECK_KINDS + "t"
FORMATS = ("csv", "xlsx")
_FIELDS = [
    "listing_code",
    "generic_name",
    "manufacturer_name",
    "listed_price",
    "binding_limit",
    "compared_limit",
    "new_listing_code",
    "new_price",
    "status",
    "rule_codes",
]


def _price(value: Decimal | None) -> Decimal | None:
    return None if value is None else round_half_up(value, 2)


def result_rows(results: QuerySet[ComplianceResult], *, with_rules: bool = False) -> Iterator[list[Any]]:
    """CHECK_HEADERS rows (+ the rule codes). 执行限价 is the limit the new price was compared with:
    the binding limit, or that limit converted to the new listing's spec when spec or pack changed."""
    names = {s.value: str(s.label) for s in ComplianceStatus}
    for code, generic, maker, price, _limit, compared, new_code, new_price, status, rules in results.values_list(
        *_FIELDS
    ).iterator(chunk_size=5000):
        row = [
            code,
            generic,
            maker,
            _price(price),
            _price(compared),
            new_code,
            _price(new_price),
            status,
            names[status],
        ]
        yield [*row, ",".join(rules)] if with_rules else row


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return neutralise(value) if isinstance(value, str) else str(value)


def write_csv(headers: list[str], rows: Iterable[list[Any]], out: IO[str]) -> int:
    """UTF-8 with BOM, formula-neutralised text. `out` is opened with newline=""."""
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(headers)
    count = 0
    for row in rows:
        writer.writerow([_cell(v) for v in row])
        count += 1
    return count


def write_xlsx(headers: list[str], kinds: str, rows: Iterable[list[Any]], path: Path, sheet_name: str) -> int:
    """XLSX with xlsxwriter (constant memory, strings never turned into formulas or numbers)."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False}
    )
    sheet = workbook.add_worksheet(sheet_name)
    money = workbook.add_format({"num_format": "0.00"})
    sheet.write_row(0, 0, headers, workbook.add_format({"bold": True}))
    count = 0
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if kinds[c] == "t":
                sheet.write_string(r, c, neutralise(str(value)))
            elif kinds[c] == "i":
                sheet.write_number(r, c, value)
            else:
                sheet.write_number(r, c, float(value), money)
        count += 1
    workbook.close()
    return count


def write_check_csv(results: QuerySet[ComplianceResult], path: Path) -> int:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        return write_csv(CHECK_HEADERS, result_rows(results), fh)


def escalation_rows(escalation: EscalationList) -> Iterator[list[Any]]:
    results = ComplianceResult.objects.filter(pk__in=escalation.entries.values("result_id")).order_by(
        "manufacturer_name", "listing_code", "id"
    )
    for i, row in enumerate(result_rows(results, with_rules=True), start=1):
        yield [i, *row]


def export_escalation(escalation: EscalationList, *, fmt: str, path: Path, user: Any) -> int:
    """Write the confirmed escalation list and record who exported it."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    if fmt == "csv":
        with open(path, "w", encoding="utf-8", newline="") as fh:
            count = write_csv(ESCALATION_HEADERS, escalation_rows(escalation), fh)
    else:
        count = write_xlsx(
            ESCALATION_HEADERS, ESCALATION_KINDS, escalation_rows(escalation), path, _("暂停挂网建议名单")
        )
    with transaction.atomic():
        record(
            actor=user,
            action="compliance.escalation_export",
            obj=escalation,
            after={"format": fmt, "rows": count, "version": escalation.version},
        )
    return count
