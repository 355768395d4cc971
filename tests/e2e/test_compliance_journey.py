"""Browser journey (headless Chromium): after the sample round's final list and its adjustment
deadline, the admin checks a later 湖南 catalogue from the round page, reads the savings headline
and the statuses, confirms the suspension recommendation list and downloads it as CSV and XLSX;
the manufacturer sees only its own listings' statuses."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
import time_machine

from compliance import services
from tests.compliance.conftest import later_rows, publish_final, write_catalogue
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, UserFactory


def login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")


@pytest.fixture
def finished_round(samples_dir, regulator, admin_user, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from catalogue.services import import_catalogue, import_reference_prices
    from pricing.models import CorrectionRound, Flag
    from pricing.review.decisions import bulk_decide

    version = import_catalogue(samples_dir / "catalogue_sample.csv", province="湖南", label="2024年7月")
    import_reference_prices(samples_dir / "reference_prices_sample.csv", label="样例")
    out = StringIO()
    call_command("detect", str(version.pk), stdout=out)
    rnd = CorrectionRound.objects.get(pk=int(out.getvalue().strip().splitlines()[-1]))
    rnd.title = "湖南2024年第一批纠偏（样例）"
    rnd.save(update_fields=["title"])
    bulk_decide(list(Flag.objects.filter(round=rnd).values_list("pk", flat=True)), "confirm", user=regulator)
    with time_machine.travel(dt.datetime(2026, 2, 13, 1, 0, tzinfo=dt.UTC), tick=False):
        publish_final(rnd, admin_user)
    services.set_adjustment_deadline(rnd.pk, working_days=10, user=admin_user)  # due 5 Mar 2026: passed
    later = import_catalogue(write_catalogue(tmp_path / "later.csv", later_rows(samples_dir)), province="湖南",
                             label="2025年1月目录")  # fmt: skip
    return rnd, later


@pytest.mark.django_db(transaction=True)
def test_admin_checks_compliance_and_exports_the_escalation_list(page, live_server, admin_user, finished_round):
    rnd, later = finished_round
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/pricing/rounds/{rnd.pk}/")
    page.click("#compliance-link")
    page.wait_for_selector("#check-form")
    assert page.locator("#adjustment-deadline").inner_text() == "2026-03-05"
    page.select_option("select[name=catalogue_version]", str(later.pk))
    page.click("#start-check")
    page.wait_for_load_state("networkidle")
    assert page.locator("#savings").inner_text() == "640.85"
    assert page.locator('[data-status="COMPLIED"]').first.inner_text() == "6"
    assert page.locator('[data-status="NEW_SPEC_ABOVE"]').first.inner_text() == "1"
    page.wait_for_selector("#chart-rounds[data-drawn]")
    row = page.locator('tr[data-code="HN0001"]')
    assert "HN9001" in row.inner_text() and "已调价" in row.inner_text()
    assert page.locator("#candidates tr").count() == 5
    screenshot(page, "compliance.png")

    page.fill("textarea[name=note]", "逾期未调价，建议暂停挂网")
    page.click("#confirm-escalation")
    page.wait_for_load_state("networkidle")
    assert "已确认" in page.content()
    with page.expect_download() as info:
        page.click("#escalations a.export-csv")
    text = open(info.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["挂网编号"] for r in rows) == ["HN0021", "HN0041", "HN0042", "HN0081", "HN0095"]
    assert {r["合规状态"] for r in rows} == {"PARTIAL", "NOT_ADJUSTED", "NEW_SPEC_ABOVE"}
    with page.expect_download() as info:
        page.click("#escalations a.export-xlsx")
    assert info.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(open(info.value.path(), "rb").read())).active
    assert sheet.max_row == 6 and sheet.cell(1, 2).value == "挂网编号"


@pytest.mark.django_db(transaction=True)
def test_manufacturer_sees_its_own_compliance_status(page, live_server, admin_user, finished_round):
    rnd, later = finished_round
    services.run_check(services.create_check(rnd.pk, later.pk, user=admin_user).pk)
    company = rnd.flags.get(listing__listing_code="HN0021").manufacturer
    UserFactory(username="maker_ji", role="manufacturer", company=company)
    login(page, live_server, "maker_ji")
    page.click("text=我的调价情况")
    page.wait_for_selector(f"#round-{rnd.pk}")
    assert "2026-03-05" in page.content()
    rows = page.locator(f"#round-{rnd.pk} tbody tr")
    assert rows.count() == 1 and "HN0021" in rows.first.inner_text() and "部分调价" in rows.first.inner_text()
    screenshot(page, "compliance_manufacturer.png")
