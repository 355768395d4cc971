"""Browser journey (headless Chromium): a manufacturer appeals with a PDF and cannot reach the
other company's flags, appeals or evidence; a regulator partially accepts with a new limit; the
admin closes the window, publishes the final list and the downloaded XLSX holds the new limit."""

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from appeals import services
from appeals.models import Appeal
from pricing.engine.defaults import DEFAULT_PARAMS
from pricing.models import RuleSet
from tests.appeals import files
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, FlagFactory, ListingFactory, RoundFactory


def flag_for(round_, company, code):
    listing = ListingFactory(
        version=round_.catalogue_version,
        manufacturer=company,
        listing_code=code,
        quality_tier="未过评",
        listed_price=Decimal("24.00"),
    )
    factors = {"kind": "identical", "n_target": 24, "n_bench": 24, "factor": "1", "k_pack": "2"}
    return FlagFactory(round=round_, listing=listing, status="confirmed", factors=factors)


@pytest.fixture
def journey(db, maker_a, maker_b, regulator, admin_user, company_a, company_b):
    RuleSet.objects.get_or_create(version=1, defaults={"name": "默认规则集", "params": DEFAULT_PARAMS})
    round_ = RoundFactory(
        title="2026年第一批药价纠偏",
        status="published",
        published_at=timezone.now(),
        appeal_deadline=timezone.now() + dt.timedelta(days=5),
        notice_text="请相关企业在截止日前提出申诉。",
    )
    a1, a2 = flag_for(round_, company_a, "HN-A-0001"), flag_for(round_, company_a, "HN-A-0002")
    b1 = flag_for(round_, company_b, "HN-B-0001")
    appeal_b = services.create_draft(user=maker_b, round_id=round_.pk, flag_ids=[b1.pk], grounds="cost", statement="乙")
    evidence_b = services.add_evidence(
        appeal_b.pk, user=maker_b, uploaded_file=SimpleUploadedFile("乙证据.pdf", files.pdf_bytes())
    )
    return {"round": round_, "a1": a1, "a2": a2, "b1": b1, "appeal_b": appeal_b, "evidence_b": evidence_b}


def login(page, live_server, username):
    """Like tests.e2e.conftest.login, but clicks the login form's own button (the header's
    language switch is a submit button too)."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")


def switch_user(page, live_server, username):
    page.context.clear_cookies()
    login(page, live_server, username)


@pytest.mark.django_db(transaction=True)
def test_appeal_journey(page, live_server, journey, tmp_path):
    url = live_server.url
    a1, b1 = journey["a1"], journey["b1"]

    # --- manufacturer A: only own flags, with limit, arithmetic and countdown
    login(page, live_server, "maker_a")
    page.goto(f"{url}{reverse('appeals:home')}")
    body = page.content()
    assert "HN-A-0001" in body and "HN-A-0002" in body
    assert "HN-B-0001" not in body and "乙制药" not in body
    page.wait_for_function("document.querySelector('.countdown').textContent.startsWith('剩余')")
    screenshot(page, "manufacturer_home.png")

    # --- file an appeal with a PDF and submit it
    page.click("article[data-listing='HN-A-0001'] >> text=对该药品提出申诉")
    assert page.is_checked(f"input[name=flags][value='{a1.pk}']")
    page.select_option("select[name=grounds]", "cost")
    page.fill("textarea[name=statement]", "原料药成本上涨，附成本核算表。")
    page.click("#appeal-new button[type=submit]")
    page.wait_for_selector("#evidence-upload")
    pdf = tmp_path / "成本核算.pdf"
    pdf.write_bytes(files.pdf_bytes())
    page.set_input_files("#evidence-upload input[name=file]", str(pdf))
    page.click("#evidence-upload button[type=submit]")
    page.wait_for_selector("text=成本核算.pdf")
    page.click("#appeal-submit button[type=submit]")
    page.wait_for_selector(".appeal-status >> text=已提交")
    appeal_a = Appeal.objects.get(company_id=a1.manufacturer_id)
    assert appeal_a.status == "submitted" and appeal_a.evidence.count() == 1

    # --- the other company's flag, appeal and evidence: 404 by direct URL
    for target in (
        reverse("appeals:flag_detail", args=[b1.pk]),
        reverse("appeals:appeal_detail", args=[journey["appeal_b"].pk]),
        reverse("appeals:appeal_new") + f"?flag={b1.pk}",
    ):
        assert page.goto(f"{url}{target}").status == 404, target
    evidence_url = f"{url}{reverse('appeals:evidence_download', args=[journey['evidence_b'].pk])}"
    assert page.request.get(evidence_url).status == 404
    api = page.request.get(f"{url}{reverse('appeals_api:flag-list')}").json()
    assert {row["listing_code"] for row in api["results"]} == {"HN-A-0001", "HN-A-0002"}

    # --- regulator: partial acceptance with a new limit
    switch_user(page, live_server, "regulator")
    page.goto(f"{url}{reverse('appeals:queue')}")
    page.click(f"a[href='{reverse('appeals:review', args=[appeal_a.pk])}']")
    assert "原料药成本上涨" in page.content() and "成本核算.pdf" in page.content()
    page.check("input[name=outcome][value=partial]")
    page.fill("input[name=new_limit_price]", "6.50")
    page.fill("textarea[name=reason]", "成本核算属实，限价调整为 6.50 元。")
    screenshot(page, "appeal_review.png")
    page.click("#decision-form button[type=submit]")
    page.wait_for_selector(".appeal-status >> text=部分采纳")
    a1.refresh_from_db()
    assert a1.adjusted_limit_price == Decimal("6.50")

    # --- admin: close the window and publish on the round page, download the XLSX
    switch_user(page, live_server, "admin")
    round_page = f"{url}{reverse('pricing:round_overview', args=[journey['round'].pk])}"
    page.goto(round_page)
    page.click("#close-window")
    page.wait_for_selector("#close-confirm-panel")  # counts, drafts lapsing, early close: then confirm
    assert page.locator("#close-drafts").inner_text() == "1" and page.locator("#close-early").count() == 1
    page.click("#close-confirm")
    page.wait_for_selector("#publish-final")
    page.click("#publish-final")
    page.wait_for_selector("#final-confirm-panel")
    assert page.locator("#final-listings").inner_text() == "3"
    page.click("#final-confirm")
    page.wait_for_selector("#final-xlsx")
    with page.expect_download() as info:
        page.click("#final-xlsx")
    path = tmp_path / "final.xlsx"
    info.value.save_as(str(path))
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    limits = {r[header.index("挂网编号")]: r[header.index("纠偏限价")] for r in rows[1:]}
    assert limits["HN-A-0001"] == pytest.approx(6.50)
    assert limits["HN-A-0002"] == pytest.approx(float(journey["a2"].limit_price))
    assert "HN-B-0001" in limits  # B's draft lapsed at closing; its flag stays on the list
