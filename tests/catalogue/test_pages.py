"""Catalogue pages and API: upload, progress partial, detail with search, error XLSX, role checks."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalogue import services
from catalogue.models import CatalogueVersion, ImportStatus, ReferencePriceSet
from jobs.models import JobTicket
from tests.catalogue.helpers import sample_rows, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, regulator):
    client.force_login(regulator)
    return client


def upload(client, path, name="目录.csv", province="湖南"):
    with path.open("rb") as fh:
        return client.post(
            reverse("catalogue:version_upload"),
            {"file": SimpleUploadedFile(name, fh.read()), "province": province, "label": "2026年3月"},
        )


def test_regulator_uploads_sample_and_sees_it_imported(staff_client, samples_dir, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(staff_client, samples_dir / "catalogue_sample.csv")
    version = CatalogueVersion.objects.get()
    assert response.status_code == 302 and response.url == reverse("catalogue:version_detail", args=[version.pk])
    assert version.status == ImportStatus.ACTIVE

    partial = staff_client.get(reverse("catalogue:version_progress", args=[version.pk])).content.decode()
    assert "导入完成：共 32 行，其中挂网 31 行" in partial and "hx-trigger" not in partial

    page = staff_client.get(response.url).content.decode()
    assert "HN0001" in page and "102.7800" in page and "注射剂" in page
    assert "规格无法解析" in page  # warnings are listed

    found = staff_client.get(response.url, {"q": "阿托伐他汀"}).content.decode()
    assert "HN0020" in found and "HN0001" not in found and "共 4 条" in found
    by_maker = staff_client.get(response.url, {"q": "苏州二叶"}).content.decode()
    assert "HN0010" in by_maker and "共 1 条" in by_maker

    listing = staff_client.get(reverse("catalogue:version_list")).content.decode()
    assert "2026年3月" in listing and "已生效" in listing


def test_progress_partial_polls_while_running(staff_client):
    version = CatalogueVersion.objects.create(
        province="湖南", source_name="a.csv", source_hash="1" * 64, status=ImportStatus.IMPORTING, progress=42
    )
    partial = staff_client.get(reverse("catalogue:version_progress", args=[version.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in partial and "42%" in partial
    detail = staff_client.get(reverse("catalogue:version_detail", args=[version.pk])).content.decode()
    assert 'id="import-progress"' in detail and "挂网药品" not in detail.split("</h1>")[1].split("import-progress")[0]


def test_rejected_upload_shows_errors_and_safe_xlsx(
    staff_client, samples_dir, tmp_path, django_capture_on_commit_callbacks
):
    header, rows = sample_rows(samples_dir)
    rows[1][header.index("挂网价格")] = '=HYPERLINK("http://x")'
    rows[2][header.index("质量层次")] = "@仿制"
    path = write_csv(tmp_path / "bad.csv", header, rows)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(staff_client, path)
    version = CatalogueVersion.objects.get()
    assert version.status == ImportStatus.REJECTED
    page = staff_client.get(response.url).content.decode()
    assert "校验未通过" in page and "不是有效的数字" in page and "未知的质量层次" in page

    xlsx = staff_client.get(reverse("catalogue:version_errors_xlsx", args=[version.pk]))
    assert xlsx["Content-Disposition"].startswith("attachment")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    cells = list(sheet.iter_rows(min_row=2, values_only=False))
    assert [(c[0].value, c[1].value) for c in cells] == [(3, "挂网价格"), (4, "质量层次")]
    assert cells[0][2].value == '\'=HYPERLINK("http://x")' and cells[1][2].value == "'@仿制"
    assert all(c.data_type != "f" for row in cells for c in row)


def test_duplicate_upload_is_refused_with_a_message(staff_client, samples_dir):
    services.import_catalogue(samples_dir / "catalogue_sample.csv", province="湖南")
    response = upload(staff_client, samples_dir / "catalogue_sample.csv")
    assert response.status_code == 302 and response.url == reverse("catalogue:version_list")
    page = staff_client.get(response.url).content.decode()
    assert "未重复导入" in page and CatalogueVersion.objects.count() == 1


def test_reference_price_upload(staff_client, samples_dir, django_capture_on_commit_callbacks):
    with (
        (samples_dir / "reference_prices_sample.csv").open("rb") as fh,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = staff_client.post(
            reverse("catalogue:reference_upload"), {"file": SimpleUploadedFile("ref.csv", fh.read()), "label": "四同"}
        )
    assert response.status_code == 302
    assert ReferencePriceSet.objects.get(label="四同").row_count == 4  # run by the task after commit
    page = staff_client.get(response.url).content.decode()
    assert "已受理" in page and "已生效" in page


def test_reference_prices_are_parsed_by_the_worker_not_the_request(staff_client, samples_dir):
    """Issue 11: the upload request stores the file and queues the job; nothing is parsed in it."""
    with (samples_dir / "reference_prices_sample.csv").open("rb") as fh:
        response = staff_client.post(
            reverse("catalogue:reference_upload"), {"file": SimpleUploadedFile("ref.csv", fh.read()), "label": "后台"}
        )
    price_set = ReferencePriceSet.objects.get(label="后台")
    assert (price_set.status, price_set.row_count) == ("pending", 0)
    assert JobTicket.objects.get(kind="reference.import", object_id=price_set.pk).done_at is None
    page = staff_client.get(response.url).content.decode()
    assert "已受理" in page and "排队中" in page
    from catalogue.tasks import import_reference_set

    assert import_reference_set.delay(price_set.pk).get() == "active"
    price_set.refresh_from_db()
    assert (price_set.status, price_set.row_count) == ("active", 4)
    assert JobTicket.objects.get(kind="reference.import", object_id=price_set.pk).done_at is not None


@pytest.mark.parametrize("name", ["version_list", "version_detail", "version_progress", "version_errors_xlsx"])
def test_pages_are_staff_only(client, maker_a, name):
    version = CatalogueVersion.objects.create(province="湖南", source_name="a.csv", source_hash="2" * 64)
    url = reverse(f"catalogue:{name}", args=[] if name == "version_list" else [version.pk])
    assert client.get(url).status_code == 302  # anonymous → login
    client.force_login(maker_a)
    assert client.get(url).status_code == 403


def test_api_versions_listings_and_upload(staff_client, samples_dir, django_capture_on_commit_callbacks):
    with (samples_dir / "catalogue_sample.csv").open("rb") as fh, django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            "/api/catalogue/versions/upload/", {"file": SimpleUploadedFile("s.csv", fh.read()), "province": "湖南"}
        )
    assert response.status_code == 202
    version_id = response.json()["id"]
    versions = staff_client.get("/api/catalogue/versions/").json()
    assert versions["results"][0]["status"] == "active" and versions["results"][0]["row_count"] == 32
    detail = staff_client.get(f"/api/catalogue/versions/{version_id}/").json()
    assert any(w["value"] == "复方" for w in detail["warnings"])
    listings = staff_client.get("/api/catalogue/listings/", {"version": version_id, "form_group": "注射剂"}).json()
    assert {x["listing_code"] for x in listings["results"]} == {
        "HN0001",
        "HN0002",
        "HN0003",
        "HN0060",
        "HN0061",
        "HN0062",
    }
    hn1 = staff_client.get("/api/catalogue/listings/", {"q": "HN0001"}).json()["results"][0]
    assert hn1["unit_price"] == "102.7800000000"
    inactive = staff_client.get("/api/catalogue/listings/", {"is_active": "false"}).json()
    assert [x["listing_code"] for x in inactive["results"]] == ["HN0023"]
    again = staff_client.post(
        "/api/catalogue/versions/upload/",
        {"file": SimpleUploadedFile("s.csv", (samples_dir / "catalogue_sample.csv").read_bytes())},
    )
    assert again.status_code == 409


def test_api_is_staff_only(client, maker_a):
    client.force_login(maker_a)
    for url in ("/api/catalogue/versions/", "/api/catalogue/listings/"):
        assert client.get(url).status_code == 403
    assert client.post("/api/catalogue/versions/upload/", {}).status_code == 403


def test_staged_listings_of_unfinished_versions_never_show_in_the_api(staff_client):
    from tests.factories import ListingFactory

    version = CatalogueVersion.objects.create(
        province="湖南", source_name="a.csv", source_hash="3" * 64, status=ImportStatus.IMPORTING
    )
    ListingFactory.create_batch(3, version=version)
    assert staff_client.get("/api/catalogue/listings/").json()["count"] == 0


def test_schema_lists_catalogue_endpoints(staff_client):
    schema = staff_client.get("/api/schema/").content.decode()
    for path in ("/api/catalogue/versions/", "/api/catalogue/listings/", "/api/catalogue/versions/upload/"):
        assert path in schema
