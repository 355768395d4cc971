"""Provincial dialects (FORMATS.md §5): the province's own export gives exactly the §1 flags."""

import csv
from io import StringIO

import pytest
from django.core.management import call_command

from catalogue import services
from catalogue.ingest.errors import IngestRejected
from catalogue.models import Listing
from tests.pricing.sample_util import expected_rows

HEADER = "药品流水号,药品通用名,实际剂型,规格包装,生产企业名称,一致性评价情况,是否中选,挂网价(元),状态"


def _write(tmp_path, text: str, encoding: str = "gb18030", name: str = "dialect.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _exported(round_id: int, tmp_path) -> set[tuple]:
    path = tmp_path / "out.csv"
    call_command("export_round", str(round_id), "--format", "csv", "--output", str(path))
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    keys = ("挂网编号", "纠偏类型", "比价药品挂网编号", "最小制剂单价")
    keys += ("换算后比价单价", "价差倍数", "风险等级", "纠偏限价")
    got = {tuple(r[k] for k in keys) for r in rows}
    assert len(got) == len(rows)
    return got


@pytest.mark.django_db
def test_dialect_sample_gives_exactly_the_expected_flags(samples_dir, tmp_path):
    out = StringIO()
    path = samples_dir / "catalogue_sample_dialect.csv"
    call_command("import_catalogue", str(path), "--province", "湖南", stdout=out)
    version_id = int(out.getvalue().strip().splitlines()[-1])
    services.import_reference_prices(samples_dir / "reference_prices_sample.csv")
    out = StringIO()
    call_command("detect", str(version_id), stdout=out)
    round_id = int(out.getvalue().strip().splitlines()[-1])
    assert _exported(round_id, tmp_path) == expected_rows(samples_dir)


@pytest.mark.django_db
def test_dialect_sample_stores_the_same_listings_as_the_canonical_file(samples_dir):
    dialect = services.import_catalogue(samples_dir / "catalogue_sample_dialect.csv", province="湖南")
    canonical = services.import_catalogue(samples_dir / "catalogue_sample.csv", province="江西")
    fields = ("listing_code", "strength_norm", "pack_quantity", "form_group", "quality_tier", "tier_class")
    fields += ("vbp_selected", "listed_price", "unit_price", "is_active", "listing_status", "min_unit", "pack_unit")
    a = sorted(Listing.objects.filter(version=dialect).values_list(*fields))
    b = sorted(Listing.objects.filter(version=canonical).values_list(*fields))
    assert a == b
    hn30 = Listing.objects.get(version=dialect, listing_code="HN0030")
    assert (hn30.strength, hn30.pack_quantity, hn30.row_number) == ("15g", 20, 13)  # title row counted
    assert dialect.warning_count == 2  # the two 复方 listings only: every dosage form is a known group


@pytest.mark.django_db
def test_spec_pack_that_cannot_be_split_names_row_and_column(tmp_path):
    text = "\n".join(
        [
            "湖南省挂网药品目录（2024年7月）",
            HEADER,
            "A1,甲片,片剂,10mg*14片/盒,甲厂,过评,否,¥1,234.50,正常",
            "A2,甲片,片剂,十毫克一盒,甲厂,过评,否,12.00,正常",
        ]
    )
    path = _write(tmp_path, text.replace("¥1,234.50", '"¥1,234.50"'))
    with pytest.raises(IngestRejected) as exc:
        services.import_catalogue(path)
    errors = exc.value.errors
    assert [(e.row, e.column, e.value) for e in errors] == [(4, "规格包装", "十毫克一盒")]
    assert Listing.objects.count() == 0


@pytest.mark.django_db
def test_price_decorations_thousands_and_separate_pack_column(tmp_path):
    text = "\n".join(
        [
            "挂网编号,通用名,剂型,规格包装,转换比,生产企业,质量层次,挂网价格",
            'A1,甲片,片剂,10 MG x 7片×2板/盒,,甲厂,已过评,"¥1,234.50元"',
            "A2,甲片,片剂,20mg*7片/盒,14,甲厂,已过评,￥30",
        ]
    )
    version = services.import_catalogue(_write(tmp_path, text, "utf-8"))
    a1, a2 = Listing.objects.filter(version=version).order_by("listing_code")
    assert (a1.strength_norm, a1.pack_quantity, a1.min_unit, a1.pack_unit) == ("10mg", 14, "片", "盒")
    assert str(a1.listed_price) == "1234.5000" and a1.quality_tier == "过评"
    assert a2.pack_quantity == 14  # 转换比 wins over the product of counts
    warned = {(w["column"], w["value"], tuple(w["rows"])) for w in version.warnings}
    assert ("转换比", "14", (3,)) in warned


@pytest.mark.django_db
def test_unknown_vbp_value_is_still_a_row_error(tmp_path):
    text = "\n".join([HEADER, "A1,甲片,片剂,10mg*14片/盒,甲厂,过评,也许,12.00,正常"])
    with pytest.raises(IngestRejected) as exc:
        services.import_catalogue(_write(tmp_path, text))
    assert [(e.row, e.column, e.value) for e in exc.value.errors] == [(2, "是否集采中选", "也许")]


@pytest.mark.django_db
def test_dialect_sample_as_xlsx_with_title_row_and_numeric_cells(samples_dir, tmp_path):
    import xlsxwriter

    with open(samples_dir / "catalogue_sample_dialect.csv", encoding="gb18030", newline="") as fh:
        rows = list(csv.reader(fh))
    path = tmp_path / "dialect.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write(0, 0, rows[0][0])  # the title in A1 only, as platforms export it
    for r, row in enumerate(rows[1:], start=1):
        for c, cell in enumerate(row):
            if r > 1 and row[c] and rows[1][c] == "挂网价(元)" and not cell.startswith("¥"):
                sheet.write_number(r, c, float(cell))  # prices as numeric cells
            else:
                sheet.write_string(r, c, cell)
    book.close()
    version = services.import_catalogue(path, province="湖南")
    canonical = services.import_catalogue(samples_dir / "catalogue_sample.csv", province="江西")
    fields = ("listing_code", "strength_norm", "pack_quantity", "form_group", "tier_class", "listed_price", "is_active")
    assert sorted(Listing.objects.filter(version=version).values_list(*fields)) == sorted(
        Listing.objects.filter(version=canonical).values_list(*fields)
    )
    assert Listing.objects.get(version=version, listing_code="HN0030").row_number == 13
