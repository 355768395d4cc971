"""Mapping instead of rejection (FORMATS.md §5.5) in the browser: an upload with an unknown header and
an unknown 质量层次 value is mapped in the page, and the saved profile is reused on the next upload."""

import pytest

from catalogue.models import CatalogueVersion, ImportProfile
from tests.e2e.conftest import login, screenshot

FIRST = """品种编码,通用名,剂型,规格,转换比,生产企业,质量层次,挂网价格
X1,甲片,片剂,10mg,10,甲厂,优质,5.00
X2,甲片,片剂,10mg,10,乙厂,未过评,9.00
"""
SECOND = FIRST.replace("X1,", "Y1,").replace("X2,", "Y2,").replace("9.00", "8.00")


def _upload(page, live_server, path) -> None:
    page.goto(f"{live_server.url}/catalogue/")
    form = page.locator("#catalogue-upload")
    form.locator("input[name=file]").set_input_files(str(path))
    form.locator("input[name=province]").fill("某省")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/catalogue/*/")


@pytest.mark.django_db(transaction=True)
def test_unknown_header_and_value_mapped_in_the_page_and_reused(page, live_server, regulator, tmp_path):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(FIRST, encoding="utf-8")
    second.write_text(SECOND, encoding="utf-8")
    login(page, live_server, "regulator")

    _upload(page, live_server, first)
    page.locator("#map-unknown").click()  # the rejected upload offers the mapping
    page.wait_for_url("**/mapping/")
    page.locator('select[data-header="品种编码"]').select_option("listing_code")
    page.locator('select[data-value="优质"]').select_option("过评")
    screenshot(page, "catalogue_mapping.png")
    page.locator("#mapping button[type=submit]").click()
    page.wait_for_url("**/catalogue/*/")
    page.locator(".import-result").wait_for(timeout=30_000)
    assert "导入完成：共 2 行" in page.locator(".import-result").inner_text()

    _upload(page, live_server, second)  # the province's profile is applied without asking
    page.locator(".import-result").wait_for(timeout=30_000)
    assert "导入完成：共 2 行" in page.locator(".import-result").inner_text()
    latest = CatalogueVersion.objects.order_by("-pk").first()
    assert latest.status == "active" and latest.import_profile == ImportProfile.objects.get(name="某省")
