"""Malformed catalogue files: each gives a clear Chinese error naming row and column, and nothing is stored."""

import io
import time
import zipfile

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from catalogue import services
from catalogue.ingest.errors import IngestRejected
from catalogue.models import CatalogueVersion, ImportStatus, Listing, Manufacturer, ReferencePriceSet
from tests.catalogue.helpers import forged_size_zip, sample_rows, write_csv, write_xlsx, zip_bomb

pytestmark = pytest.mark.django_db


def assert_nothing_imported() -> None:
    assert Listing.objects.count() == 0
    assert Manufacturer.objects.count() == 0
    assert not CatalogueVersion.objects.filter(status=ImportStatus.ACTIVE).exists()


def rejected(path) -> IngestRejected:
    with pytest.raises(IngestRejected) as info:
        services.import_catalogue(path, province="湖南")
    assert_nothing_imported()
    version = CatalogueVersion.objects.get()
    assert version.status == ImportStatus.REJECTED and version.error_count == len(info.value.errors)
    assert AuditEvent.objects.filter(action="catalogue.import_rejected", object_id=str(version.pk)).exists()
    return info.value


def where(exc: IngestRejected) -> set[tuple[int, str]]:
    return {(e.row, e.column) for e in exc.errors}


def set_cell(rows, code, header, column, value):
    for row in rows:
        if row[0] == code:
            row[header.index(column)] = value


def test_missing_column(samples_dir, tmp_path):
    header, rows = sample_rows(samples_dir)
    i = header.index("挂网价格")
    path = write_csv(tmp_path / "f.csv", header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows])
    exc = rejected(path)
    assert where(exc) == {(1, "挂网价格")}
    assert "缺少必填列" in exc.errors[0].message and "挂网价格" in exc.message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "不是有效的数字"),
        ("0", "必须大于0"),
        ("-3.5", "必须大于0"),
        ("1.23456", "最多保留4位小数"),
        ("", "必填项为空"),
    ],
)
def test_bad_price(samples_dir, tmp_path, value, message):
    header, rows = sample_rows(samples_dir)
    set_cell(rows, "HN0002", header, "挂网价格", value)  # HN0002 is row 3 of the file
    exc = rejected(write_csv(tmp_path / "f.csv", header, rows))
    assert [(e.row, e.column, e.value, e.message) for e in exc.errors] == [(3, "挂网价格", value, message)]


def test_bad_pack_quantity_and_flags(samples_dir, tmp_path):
    header, rows = sample_rows(samples_dir)
    set_cell(rows, "HN0003", header, "转换比", "2.5")
    set_cell(rows, "HN0010", header, "转换比", "0")
    set_cell(rows, "HN0011", header, "是否集采中选", "也许")
    set_cell(rows, "HN0012", header, "挂网状态", "停产")
    exc = rejected(write_csv(tmp_path / "f.csv", header, rows))
    assert where(exc) == {(4, "转换比"), (5, "转换比"), (6, "是否集采中选"), (7, "挂网状态")}
    assert "不小于1的整数" in exc.errors[0].message


def test_duplicate_code(samples_dir, tmp_path):
    header, rows = sample_rows(samples_dir)
    rows[2][0] = "HN0001"  # file row 4 repeats row 2
    exc = rejected(write_csv(tmp_path / "f.csv", header, rows))
    assert [(e.row, e.column, e.value) for e in exc.errors] == [(4, "挂网编号", "HN0001")]
    assert "第2行" in exc.errors[0].message


def test_unknown_tier_but_aliases_accepted(samples_dir, tmp_path):
    header, rows = sample_rows(samples_dir)
    set_cell(rows, "HN0002", header, "质量层次", "通过一致性评价")  # alias of 过评: fine
    set_cell(rows, "HN0010", header, "质量层次", "仿制药")
    exc = rejected(write_csv(tmp_path / "f.csv", header, rows))
    assert [(e.row, e.column, e.value) for e in exc.errors] == [(5, "质量层次", "仿制药")]
    assert "未知的质量层次" in exc.errors[0].message


def test_all_errors_are_collected_not_just_the_first(samples_dir, tmp_path):
    header, rows = sample_rows(samples_dir)
    for row in rows:
        row[header.index("挂网价格")] = "免费"
    rows[5][header.index("通用名")] = ""
    exc = rejected(write_csv(tmp_path / "f.csv", header, rows))
    assert len(exc.errors) == len(rows) + 1 and (7, "通用名") in where(exc)


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert "0 字节" in rejected(path).message


def test_header_only_file(samples_dir, tmp_path):
    header, _rows = sample_rows(samples_dir)
    assert "没有数据行" in rejected(write_csv(tmp_path / "h.csv", header, [])).message


@pytest.mark.parametrize(
    ("builder", "phrase"),
    [
        (lambda p: zip_bomb(p), "压缩炸弹"),
        (lambda p: forged_size_zip(p), "伪造"),
    ],
)
def test_hostile_xlsx_is_refused_fast(tmp_path, builder, phrase):
    path = builder(tmp_path / "evil.xlsx")
    assert path.stat().st_size < 1 << 20
    started = time.monotonic()
    exc = rejected(path)
    assert time.monotonic() - started < 5
    assert phrase in exc.message


def test_xlsx_with_too_many_entries(tmp_path):
    path = tmp_path / "many.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(1500):
            archive.writestr(f"xl/x{i}.xml", "<a/>")
    assert "1500 个条目" in rejected(path).message


def test_xlsx_with_dtd_is_refused(tmp_path):
    path = tmp_path / "laughs.xlsx"
    doc = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>'
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", doc)
    assert "DTD" in rejected(path).message


def test_xlsx_row_errors_use_file_row_numbers(samples_dir, tmp_path):
    header, rows = sample_rows(samples_dir)
    set_cell(rows, "HN0020", header, "挂网价格", "")
    exc = rejected(write_xlsx(tmp_path / "f.xlsx", header, rows))
    assert where(exc) == {(8, "挂网价格")}


def test_command_exit_1_with_first_50_errors_and_a_count(samples_dir, tmp_path):
    header, rows = sample_rows(samples_dir)
    many = [list(rows[0]) for _ in range(60)]
    for i, row in enumerate(many):
        row[0] = f"X{i:03d}"
        row[header.index("挂网价格")] = "-1"
    path = write_csv(tmp_path / "bad.csv", header, many)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_catalogue", str(path), stdout=out, stderr=err)
    assert exit_info.value.code == 1
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 51
    assert lines[0] == "第2行「挂网价格」：必须大于0（值：-1）"
    assert "共 60 处错误" in lines[-1]
    assert out.getvalue() == ""
    assert_nothing_imported()


def test_reference_prices_rejected_with_row_and_column(samples_dir, tmp_path):
    text = (samples_dir / "reference_prices_sample.csv").read_text(encoding="utf-8-sig")
    text = text.replace("山东,,阿卡波糖片,片剂,50mg,60,", "山东,,阿卡波糖片,片剂,,60,")
    path = tmp_path / "ref.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(IngestRejected) as info:
        services.import_reference_prices(path)
    assert [(e.row, e.column) for e in info.value.errors] == [(4, "规格")]
    assert ReferencePriceSet.objects.get().status == ImportStatus.REJECTED
    assert not ReferencePriceSet.objects.filter(status=ImportStatus.ACTIVE).exists()
