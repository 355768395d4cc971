"""Catalogue ingest end to end: the shared sample through the command, the service/task and variants."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from audit.models import AuditEvent
from catalogue import selectors, services
from catalogue.ingest.errors import DuplicateImport, IngestRejected
from catalogue.models import CatalogueVersion, ImportStatus, Listing, Manufacturer
from tests.catalogue.helpers import sample_rows, write_csv, write_xlsx
from tests.factories import ListingFactory

pytestmark = pytest.mark.django_db


def assert_sample_imported(version: CatalogueVersion) -> None:
    """What RULES.md §1–2 imply for the shared sample."""
    assert version.status == ImportStatus.ACTIVE
    assert version.row_count == 32 and version.active_count == 31
    by_code = {x.listing_code: x for x in Listing.objects.filter(version=version)}
    assert len(by_code) == 32
    assert by_code["HN0001"].unit_price == Decimal("102.78")
    assert by_code["HN0002"].unit_price == Decimal("5.16")
    assert by_code["HN0081"].unit_price == Decimal("0.6666666667")  # 40.00 / 60, half-up at 10 places
    assert by_code["HN0093"].unit_price == Decimal("1.0892857143")  # 15.25 / 14
    hn2 = by_code["HN0002"]
    assert (hn2.strength, hn2.strength_norm) == ("2ml：30mg", "2ml:30mg")
    assert (hn2.content_value, hn2.content_unit, hn2.volume_ml) == (Decimal(30), "mg", Decimal(2))
    assert {by_code[c].form_group for c in ("HN0001", "HN0002", "HN0003")} == {"注射剂"}
    assert {by_code[c].form_group for c in ("HN0010", "HN0011")} == {"注射用无菌粉末"}
    assert by_code["HN0020"].form_group == "片剂" and by_code["HN0020"].tier_class == "参比"
    assert by_code["HN0021"].tier_class == "过评"  # 视同过评
    assert by_code["HN0041"].content_value == Decimal(1600000) and by_code["HN0041"].content_unit == "IU"
    assert by_code["HN0050"].volume_ml == Decimal(10) and by_code["HN0050"].content_value is None
    assert by_code["HN0061"].spec_parsed is False
    assert by_code["HN0023"].is_active is False and by_code["HN0023"].listing_status == "暂停"
    assert by_code["HN0012"].vbp_selected is True
    assert by_code["HN0001"].mah == "Asahi Kasei Pharma Corporation"
    assert by_code["HN0080"].row_number == 32
    warned = {(w["column"], w["value"]) for w in version.warnings}
    # 糖浆剂 and 缓释片 are shipped form groups (FORMATS.md §5): only the unparsed 复方 is warned about
    assert warned == {("规格", "复方")}
    assert by_code["HN0050"].form_group == "糖浆剂" and by_code["HN0070"].form_group == "缓释片"


def assert_nothing_imported() -> None:
    assert Listing.objects.count() == 0
    assert Manufacturer.objects.count() == 0
    assert not CatalogueVersion.objects.filter(status=ImportStatus.ACTIVE).exists()


def test_command_imports_sample_and_prints_id_last(samples_dir):
    out = io.StringIO()
    call_command("import_catalogue", str(samples_dir / "catalogue_sample.csv"), "--label", "样例", stdout=out)
    last = out.getvalue().strip().splitlines()[-1]
    version = CatalogueVersion.objects.get(pk=int(last))
    assert version.province == "湖南" and version.label == "样例"
    assert_sample_imported(version)
    assert AuditEvent.objects.filter(action="catalogue.import", object_id=str(version.pk)).count() == 1


def test_upload_runs_task_on_commit(samples_dir, regulator, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("目录.csv", (samples_dir / "catalogue_sample.csv").read_bytes())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        version = services.start_catalogue_import(upload, province="湖南", label="上传", user=regulator)
    assert len(callbacks) == 1
    version.refresh_from_db()
    assert version.attempts == 1 and version.progress == 100 and version.uploaded_by == regulator
    assert version.source_path.startswith("uploads/") and "目录" not in version.source_path
    assert_sample_imported(version)
    actions = set(AuditEvent.objects.filter(object_id=str(version.pk)).values_list("action", flat=True))
    assert {"catalogue.upload", "catalogue.import"} <= actions


def test_no_task_is_sent_when_the_upload_transaction_rolls_back(
    samples_dir, regulator, django_capture_on_commit_callbacks
):
    from django.db import transaction

    upload = SimpleUploadedFile("a.csv", (samples_dir / "catalogue_sample.csv").read_bytes())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.start_catalogue_import(upload, province="湖南", user=regulator)
            raise RuntimeError("boom")
    assert callbacks == [] and not CatalogueVersion.objects.exists()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_import_identically(samples_dir, tmp_path, encoding):
    header, rows = sample_rows(samples_dir)
    path = write_csv(tmp_path / "sample.csv", header, rows, encoding=encoding)
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
    assert_sample_imported(services.import_catalogue(path, province="湖南"))


def test_xlsx_imports_identically(samples_dir, tmp_path):
    header, rows = sample_rows(samples_dir)
    path = write_xlsx(tmp_path / "sample.xlsx", header, rows)
    assert_sample_imported(services.import_catalogue(path, province="湖南"))


def test_named_sheet_and_missing_sheet(samples_dir, tmp_path):
    header, rows = sample_rows(samples_dir)
    path = write_xlsx(tmp_path / "sample.xlsx", header, rows, sheet="二月")
    with pytest.raises(IngestRejected, match="没有名为「三月」的工作表"):
        services.import_catalogue(path, province="湖南", sheet="三月")
    assert_sample_imported(services.import_catalogue(path, province="湖南", sheet="二月"))


def test_english_aliases_and_extra_columns_are_kept(samples_dir, tmp_path):
    header, rows = sample_rows(samples_dir)
    aliases = dict(
        zip(
            ["挂网编号", "通用名", "剂型", "规格", "转换比", "生产企业", "质量层次", "挂网价格"],
            [
                "listing_code",
                " Generic_Name ",
                "dosage_form",
                "strength",
                "pack_quantity",
                "manufacturer",
                "quality_tier",
                "ｌｉｓｔｅｄ_price",
            ],
            strict=True,
        )
    )
    header = [aliases.get(h, h) for h in header] + ["备注"]
    rows = [r + [f"note {i}"] for i, r in enumerate(rows)]
    version = services.import_catalogue(write_csv(tmp_path / "en.csv", header, rows), province="湖南")
    assert_sample_imported(version)
    assert Listing.objects.get(version=version, listing_code="HN0002").extra == {"备注": "note 1"}


def test_reupload_of_same_file_is_refused(samples_dir, regulator):
    path = samples_dir / "catalogue_sample.csv"
    first = services.import_catalogue(path, province="湖南")
    with pytest.raises(DuplicateImport, match=f"已导入为湖南目录版本 #{first.pk}"):
        services.import_catalogue(path, province="湖南")
    with pytest.raises(DuplicateImport):
        services.start_catalogue_import(
            SimpleUploadedFile("again.csv", path.read_bytes()), province="湖南", user=regulator
        )
    assert CatalogueVersion.objects.count() == 1 and Listing.objects.count() == 32
    # the same file for another province is a different catalogue
    assert services.import_catalogue(path, province="江西").row_count == 32


def test_interrupted_import_is_completed_exactly_once_by_a_rerun(samples_dir):
    """A worker died mid-import: some rows staged, status IMPORTING. A rerun finishes it once."""
    version = CatalogueVersion.objects.create(
        province="湖南",
        source_name="catalogue_sample.csv",
        source_path=str(samples_dir / "catalogue_sample.csv"),
        source_hash=services.file_sha256(samples_dir / "catalogue_sample.csv"),
        status=ImportStatus.IMPORTING,
        attempts=1,
        progress=60,
    )
    ListingFactory.create_batch(5, version=version)
    assert not selectors.active_listings(version.pk).exists()  # staged rows are invisible

    services.process_catalogue_version(version.pk)
    version.refresh_from_db()
    assert version.attempts == 2 and version.progress == 100
    assert_sample_imported(version)
    services.process_catalogue_version(version.pk)  # a duplicate delivery changes nothing
    assert Listing.objects.filter(version=version).count() == 32
    assert selectors.active_listings(version.pk).count() == 32
    assert AuditEvent.objects.filter(action="catalogue.import", object_id=str(version.pk)).count() == 1


def test_poison_import_ends_failed_after_max_attempts(tmp_path):
    version = CatalogueVersion.objects.create(
        province="湖南",
        source_name="x.csv",
        source_path=str(tmp_path / "x.csv"),
        source_hash="0" * 64,
        status=ImportStatus.IMPORTING,
        attempts=services.MAX_ATTEMPTS,
    )
    services.process_catalogue_version(version.pk)
    version.refresh_from_db()
    assert version.status == ImportStatus.FAILED and "3" in version.message


def test_reference_prices_import(samples_dir):
    out = io.StringIO()
    call_command("import_reference_prices", str(samples_dir / "reference_prices_sample.csv"), stdout=out)
    price_set = selectors.latest_reference_set()
    assert out.getvalue().strip().splitlines()[-1] == str(price_set.pk)
    prices = {p.province: p for p in price_set.prices.all()}
    assert prices["广东"].nhsa_code == "XA10BAE001A001010100123" and prices["广东"].pack_quantity is None
    assert prices["浙江"].listed_price == Decimal("39.90") and prices["浙江"].pack_quantity == 60
    assert prices["山东"].form_group == "片剂" and prices["山东"].manufacturer_norm == "酉制药有限公司"
    assert AuditEvent.objects.filter(action="reference_prices.import", object_id=str(price_set.pk)).exists()
