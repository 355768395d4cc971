"""A regulator reviews the sample round in headless Chromium: overview → filtered list → the
盐酸法舒地尔注射液 flag (benchmark HN0002, limit 30.96) → confirm → bulk-confirm a page → the
overview counts change. Screenshots: var/screenshots/, or docs/screenshots/ with `make screenshots`."""

import re

import pytest

from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD


def login(page, live_server, username: str) -> None:
    """The shared helper clicks the first submit button on the page, which is now the header's
    language switch; click the login form's own button instead."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")


@pytest.fixture
def sample_round(samples_dir, regulator):
    from catalogue.services import import_catalogue
    from pricing.engine.rounds import create_round, run_detection

    version = import_catalogue(samples_dir / "catalogue_sample.csv", province="湖南", label="2024年样例目录")
    rnd = create_round(catalogue_version=version, title="湖南2024年第一批纠偏（样例）", user=regulator, enqueue=False)
    run_detection(rnd.pk)
    rnd.refresh_from_db()
    return rnd


def _count(page, key: str) -> int:
    return int(page.locator(f'[data-count="{key}"]').inner_text().replace(",", ""))


@pytest.mark.django_db(transaction=True)
def test_regulator_reviews_the_sample_round(page, live_server, regulator, sample_round):
    login(page, live_server, "regulator")
    page.goto(f"{live_server.url}/pricing/rounds/")
    page.click(f"text={sample_round.title}")
    page.wait_for_selector("#chart-ratio[data-drawn]")
    page.wait_for_selector("#chart-top-amount[data-drawn]")
    total, pending, confirmed = _count(page, "total"), _count(page, "pending"), _count(page, "confirmed")
    assert total >= 10 and pending == total and confirmed == 0
    screenshot(page, "overview.png")

    page.click("text=审核纠偏记录")
    page.select_option("select[name=rule]", "TIER_UNEVALUATED")
    page.select_option("select[name=severity]", "红★★★")
    page.click("#filter-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "rule=TIER_UNEVALUATED" in page.url and "severity=" in page.url
    rows = page.locator("table.flags tbody tr")
    assert rows.count() >= 1
    for i in range(rows.count()):
        assert "红★★★" in rows.nth(i).inner_text() and "TIER_UNEVALUATED" in rows.nth(i).inner_text()
    screenshot(page, "flag_list.png")

    page.click("text=盐酸法舒地尔注射液")
    page.wait_for_selector("#chart-group[data-drawn]")
    assert page.locator("#benchmark-code").inner_text() == "HN0002"
    assert page.locator("#limit-price").inner_text() == "30.96"
    assert "19.9186" in page.content()
    screenshot(page, "flag_detail.png")
    page.click("#confirm-flag")
    page.wait_for_load_state("networkidle")
    assert page.locator("#flag-status").inner_text() == "确认纠偏"

    # back to the (still filtered) list, then the whole pending list: select the page, confirm it
    page.goto(f"{live_server.url}/pricing/rounds/{sample_round.pk}/flags/?status=pending&per_page=20")
    on_page = page.locator("input.pick").count()
    assert on_page == total - 1
    page.check("#select-all")
    assert page.locator("#selected-count").inner_text() == str(on_page)
    page.click("#bulk-confirm")
    page.wait_for_selector("#bulk-confirm-panel")  # a confirmation naming the counts comes first
    assert page.locator("#bulk-pending").inner_text() == str(on_page)
    assert page.locator("#bulk-skipped").inner_text() == "0"
    page.click("#bulk-confirm-submit")
    page.wait_for_load_state("networkidle")
    assert re.search(rf"批量处理完成：{on_page} 条待审核记录已处理", page.content())

    page.goto(f"{live_server.url}/pricing/rounds/{sample_round.pk}/")
    assert _count(page, "confirmed") == total
    assert _count(page, "pending") == 0
