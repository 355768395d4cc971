"""The import error report as XLSX (formula-injection safe: every cell is text, risky ones get a ')."""

import io

import xlsxwriter
from django.utils.translation import gettext as _

RISKY_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(RISKY_PREFIXES) else text


def errors_xlsx(errors: list[dict]) -> bytes:
    """Rows of (行号, 列, 值, 错误说明); row numbers as numbers, everything else as plain text."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet(_("错误"))
    header = [_("行号"), _("列"), _("值"), _("错误说明")]
    sheet.write_row(0, 0, header)
    for r, error in enumerate(errors, start=1):
        sheet.write_number(r, 0, int(error.get("row") or 0))
        for c, key in enumerate(("column", "value", "message"), start=1):
            sheet.write_string(r, c, neutralise(error.get(key)))
    sheet.set_column(0, 0, 8)
    sheet.set_column(1, 2, 18)
    sheet.set_column(3, 3, 50)
    book.close()
    return buffer.getvalue()
