"""Hostile spreadsheets cost one refused upload, never a worker (issue 11 item 3).

The bombs are hand-made minimal XLSX files: two cells far apart make calamine allocate the whole
rectangle between them (A1 + XFD1048576 = 512 GiB). With the declared <dimension> they are refused
before parsing; with the dimension removed, the forked child hits its memory cap and dies — the
test process (standing in for the worker) carries on and the version ends REJECTED with a message.
"""

import os
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from django.utils import translation

from catalogue import services
from catalogue.ingest import sandbox
from catalogue.ingest.errors import IngestRejected, RowError
from catalogue.ingest.readers import read_table, read_xlsx
from catalogue.models import CatalogueVersion, ImportStatus
from tests.catalogue.helpers import sample_rows, write_csv, write_xlsx

pytestmark = pytest.mark.django_db

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
    'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="目录" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def far_apart_cells(path: Path, last: str, *, dimension: bool) -> Path:
    """A ~1.5 KB XLSX with inline-string cells at A1 and at `last` (e.g. XFD1048576)."""
    dim = f'<dimension ref="A1:{last}"/>' if dimension else ""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        f'2006/main">{dim}<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
        f'<row r="{last.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}"><c r="{last}" t="inlineStr"><is><t>y</t></is></c>'
        "</row></sheetData></worksheet>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def small_sandbox(settings):
    settings.INGEST_SANDBOX_MEMORY_MB = 512
    settings.INGEST_SANDBOX_SECONDS = 30
    return settings


def test_declared_giant_sheet_is_refused_before_parsing(tmp_path, small_sandbox):
    path = far_apart_cells(tmp_path / "bomb.xlsx", "XFD1048576", dimension=True)
    assert path.stat().st_size < 4096
    started = time.monotonic()
    with pytest.raises(IngestRejected, match="A1:XFD1048576"):
        read_table(path)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("last", ["XFD1048576", "P1000000"])
def test_undeclared_giant_sheet_costs_one_refused_upload(tmp_path, small_sandbox, last):
    path = far_apart_cells(tmp_path / "bomb.xlsx", last, dimension=False)
    started = time.monotonic()
    with pytest.raises(IngestRejected, match="内存限制"):
        services.import_catalogue(path, province="湖南")
    assert time.monotonic() - started < 30
    version = CatalogueVersion.objects.get()
    assert version.status == ImportStatus.REJECTED and "内存限制" in version.message
    assert os.getpid()  # still here: the child died, not us


def test_a_parser_that_hangs_is_killed_at_the_time_limit():
    limits = sandbox.SandboxLimits(memory_bytes=256 << 20, seconds=1)
    started = time.monotonic()
    with pytest.raises(IngestRejected, match="超时"):
        sandbox.run_isolated(lambda: time.sleep(30) or pd.DataFrame(), limits)
    assert time.monotonic() - started < 5


def test_sandboxed_read_returns_the_same_frame(samples_dir, tmp_path):
    header, rows = sample_rows(samples_dir)
    rows[0][1] = "含\t制表符和\n换行的名称"
    path = write_xlsx(tmp_path / "sample.xlsx", header, rows)
    direct = read_xlsx(path)
    isolated = sandbox.run_isolated(lambda: read_xlsx(path))
    pd.testing.assert_frame_equal(direct, isolated)


def test_nul_in_a_csv_cell_is_a_row_and_column_error(samples_dir, tmp_path):
    header, rows = sample_rows(samples_dir)
    rows[2][header.index("通用名")] = "阿莫西\x00林"
    rows[4][header.index("生产企业")] = "某\x1b[31m药业"
    path = write_csv(tmp_path / "nul.csv", header, rows)
    with pytest.raises(IngestRejected) as info:
        services.import_catalogue(path, province="湖南")
    where = {(e.row, e.column) for e in info.value.errors}
    assert where == {(4, "通用名"), (6, "生产企业")}
    assert "\\x00" in info.value.errors[0].value and "控制字符" in info.value.errors[0].message
    version = CatalogueVersion.objects.get()
    assert version.status == ImportStatus.REJECTED
    assert "\x00" not in str(version.errors)


def test_control_character_in_an_xlsx_cell_is_refused_in_the_child(samples_dir, tmp_path):
    header, rows = sample_rows(samples_dir)
    rows[1][header.index("规格")] = "10mg\x01"  # xlsxwriter stores it as OOXML escape _x0001_
    path = write_xlsx(tmp_path / "ctl.xlsx", header, rows)
    with pytest.raises(IngestRejected) as info:
        read_table(path)
    assert [(e.row, e.column) for e in info.value.errors] == [(3, "规格")]


def test_error_cells_are_truncated(samples_dir, tmp_path):
    header, rows = sample_rows(samples_dir)
    rows[0][header.index("挂网价格")] = "9" * 1_000_000 + "x"
    path = write_csv(tmp_path / "huge.csv", header, rows)
    with pytest.raises(IngestRejected):
        services.import_catalogue(path, province="湖南")
    version = CatalogueVersion.objects.get()
    assert version.status == ImportStatus.REJECTED
    assert len(str(version.errors)) < 5000
    assert len(RowError(2, "c", "v" * 10_000, "m").value) <= 201
