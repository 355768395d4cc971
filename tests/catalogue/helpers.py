"""Building catalogue files (variants of the shared sample) for the ingest tests."""

import csv
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import xlsxwriter

NUMERIC = {"转换比", "挂网价格"}


def sample_rows(samples_dir: Path) -> tuple[list[str], list[list[str]]]:
    text = (samples_dir / "catalogue_sample.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[str]], sheet: str = "目录") -> Path:
    """An XLSX as Excel users make them: prices and pack sizes as numbers, the rest as text."""
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet(sheet)
    ws.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if header[c] in NUMERIC and value:
                ws.write_number(r, c, float(Decimal(value)))
            elif value:
                ws.write_string(r, c, value)
    book.close()
    return path


def zip_bomb(path: Path, megabytes: int = 64) -> Path:
    """A tiny .xlsx-named zip whose one sheet inflates to `megabytes` of zeros (ratio ≈ 1000:1)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b"0" * (1 << 20)
            for _ in range(megabytes):
                member.write(chunk)
    return path


def forged_size_zip(path: Path) -> Path:
    """A zip whose headers declare a 1 KB entry that really inflates to 4 MB (sizes forged)."""
    payload = b"<row>" + b"A" * (4 << 20) + b"</row>"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", payload)
    data = bytearray(path.read_bytes())
    real = len(payload).to_bytes(4, "little")
    forged = (1024).to_bytes(4, "little")
    # uncompressed size sits at offset 22 of the local header and offset 24 of the central header
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    assert data[local + 22 : local + 26] == real and data[central + 24 : central + 28] == real
    data[local + 22 : local + 26] = forged
    data[central + 24 : central + 28] = forged
    path.write_bytes(bytes(data))
    return path
