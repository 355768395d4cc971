"""A regulator uploads the sample catalogue in the browser and watches the import finish (no reload)."""

import pytest

from tests.e2e.conftest import login, screenshot


@pytest.mark.django_db(transaction=True)
def test_regulator_uploads_sample_catalogue(page, live_server, regulator, samples_dir):
    login(page, live_server, "regulator")
    page.goto(f"{live_server.url}/catalogue/")
    form = page.locator("#catalogue-upload")
    form.locator("input[name=file]").set_input_files(str(samples_dir / "catalogue_sample.csv"))
    form.locator("input[name=label]").fill("浏览器上传")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/catalogue/*/")
    result = page.locator(".import-result")
    result.wait_for(timeout=30_000)
    assert "导入完成：共 32 行，其中挂网 31 行" in result.inner_text()
    screenshot(page, "catalogue_upload_done.png")

    page.goto(page.url + "?q=盐酸法舒地尔")
    table = page.locator("#listings")
    assert table.locator("tbody tr").count() == 3
    assert "102.7800" in table.inner_text()
    screenshot(page, "catalogue_version_detail.png")
