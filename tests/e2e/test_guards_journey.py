"""Browser journeys (headless Chromium) for issue 9: publishing is refused while flags are pending
and every irreversible step asks for confirmation; the per-flag appeal form with evidence; the
manufacturer pages at 390 px wide (cards, no sideways scrolling).

Screenshots go to docs/screenshots/ only when SCREENSHOTS=1 is set (tests never rewrite tracked
files by default)."""

import datetime as dt
import os
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from appeals.models import Appeal, AppealFlag
from pricing.engine.defaults import DEFAULT_PARAMS
from pricing.models import CorrectionRound, Flag, RuleSet
from pricing.review.decisions import confirm_flag
from tests.appeals import files
from tests.factories import PASSWORD, FlagFactory, ListingFactory, RoundFactory


def login(page, live_server, username):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")


def shot(page, name: str) -> None:
    if os.environ.get("SCREENSHOTS") == "1":
        from tests.e2e.conftest import SCREENSHOTS

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{page.url}: content {width}px wide in a {viewport}px viewport"


def _flag(round_, company, code, price="24.00", **kwargs):
    listing = ListingFactory(
        version=round_.catalogue_version,
        manufacturer=company,
        listing_code=code,
        quality_tier="未过评",
        listed_price=Decimal(price),
        generic_name="盐酸法舒地尔注射液",
        strength="2ml:30mg",
    )
    return FlagFactory(round=round_, listing=listing, **kwargs)


@pytest.mark.django_db(transaction=True)
def test_publish_refused_with_pending_flags_then_confirmed_with_counts(
    page, live_server, regulator, admin_user, company_a, company_b
):
    RuleSet.objects.get_or_create(version=1, defaults={"name": "默认规则集", "params": DEFAULT_PARAMS})
    rnd = RoundFactory(title="2026年第三批纠偏")
    a = _flag(rnd, company_a, "HN-G-0001")
    _flag(rnd, company_b, "HN-G-0002")  # stays 待审核
    confirm_flag(a.pk, user=regulator, expected_version=0)

    login(page, live_server, "admin")
    page.goto(f"{live_server.url}{reverse('pricing:round_publish', args=[rnd.pk])}")
    deadline = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    page.fill("input[name=deadline_date]", deadline)
    page.click("#publish-next")
    page.wait_for_selector("#pending-guard")
    assert "仍有 1 条待审核记录" in page.content()
    assert CorrectionRound.objects.get(pk=rnd.pk).status == "draft"
    shot(page, "publish_refused_pending.png")

    # the admin explicitly defers the pending flag; the confirmation names the counts
    page.fill("input[name=deadline_date]", deadline)
    page.check("#defer-pending")
    page.click("#publish-next")
    page.wait_for_selector("#publish-confirm-panel")
    assert page.locator("#confirm-companies").inner_text() == "1"
    assert page.locator("#confirm-listings").inner_text() == "1"
    assert page.locator("#confirm-deferred").inner_text() == "1"
    assert deadline in page.locator("#confirm-deadline").inner_text()
    shot(page, "publish_confirm.png")
    # the manufacturer preview opens in a new tab and shows A's listing as a card
    with page.context.expect_page() as new_tab:
        page.click("#publish-confirm-panel >> text=企业端预览")
    preview = new_tab.value
    preview.wait_for_selector("article.listing-card[data-listing='HN-G-0001']")
    assert "HN-G-0002" not in preview.content()
    preview.close()
    assert CorrectionRound.objects.get(pk=rnd.pk).status == "draft"  # nothing happened before confirming
    page.click("#publish-confirm")
    page.wait_for_load_state("networkidle")
    assert CorrectionRound.objects.get(pk=rnd.pk).status == "published"
    assert Flag.objects.get(listing__listing_code="HN-G-0002").status == "deferred"


@pytest.mark.django_db(transaction=True)
def test_per_flag_appeal_form_with_evidence_at_390px(page, live_server, maker_a, company_a, tmp_path):
    RuleSet.objects.get_or_create(version=1, defaults={"name": "默认规则集", "params": DEFAULT_PARAMS})
    rnd = RoundFactory(
        title="2026年第一批药价纠偏",
        status="published",
        published_at=timezone.now(),
        appeal_deadline=timezone.now() + dt.timedelta(days=5),
        notice_text="请相关企业在截止日前提出申诉，并附证明材料。",
    )
    first = _flag(rnd, company_a, "HN-M-0001", status="confirmed")
    second = FlagFactory(
        round=rnd, listing=first.listing, rule_code="SAME_MAKER_SPEC", limit_price=Decimal("2.96"), status="confirmed"
    )
    for i in range(2, 5):
        _flag(rnd, company_a, f"HN-M-000{i}", price=f"{20 + i}.00", status="confirmed")

    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, "maker_a")
    page.goto(f"{live_server.url}{reverse('appeals:home')}")
    card = page.locator("article[data-listing='HN-M-0001']")
    assert card.locator("li.reason").count() == 2  # one card, both flags under it
    assert "2.96" in card.locator(".binding-limit").inner_text()  # the binding limit
    no_sideways_scroll(page)
    shot(page, "manufacturer_home_390.png")

    card.locator("text=对该药品提出申诉").click()
    page.wait_for_selector("#appeal-new")
    no_sideways_scroll(page)
    assert page.locator("#evidence-required-note").count() == 1
    page.fill(f"input[name=price_{first.pk}]", "20.00")
    page.fill(f"input[name=price_{second.pk}]", "18.50")
    page.select_option("select[name=grounds]", "cost")
    page.fill("textarea[name=statement]", "原料药成本上涨，附成本核算表。")
    shot(page, "appeal_form_390.png")
    page.click("#save-draft")
    page.wait_for_selector("#evidence-upload")
    appeal = Appeal.objects.get()
    assert {link.flag_id: link.proposed_price for link in AppealFlag.objects.filter(appeal=appeal)} == {
        first.pk: Decimal("20.00"),
        second.pk: Decimal("18.50"),
    }
    assert page.locator("#submit-appeal").is_disabled() and page.locator("#evidence-missing").count() == 1
    no_sideways_scroll(page)

    pdf = tmp_path / "错传.pdf"
    pdf.write_bytes(files.pdf_bytes())
    page.set_input_files("#evidence-upload input[name=file]", str(pdf))
    page.click("#evidence-upload button[type=submit]")
    page.wait_for_selector("text=错传.pdf")
    page.click(".evidence-delete button")  # a wrong file is deleted from the draft
    page.wait_for_selector("#evidence-missing")
    assert "错传.pdf" not in page.locator("#evidence").inner_text()
    good = tmp_path / "成本核算.pdf"
    good.write_bytes(files.pdf_bytes())
    page.set_input_files("#evidence-upload input[name=file]", str(good))
    page.click("#evidence-upload button[type=submit]")
    page.wait_for_selector("text=成本核算.pdf")
    page.click("#submit-appeal")
    page.wait_for_selector(".appeal-status >> text=已提交")
    no_sideways_scroll(page)
    shot(page, "appeal_detail_390.png")

    # opening either flag of the appealed listing leads to the appeal
    page.goto(f"{live_server.url}{reverse('appeals:flag_detail', args=[second.pk])}")
    assert page.url.endswith(reverse("appeals:appeal_detail", args=[appeal.pk]))
    other = Flag.objects.get(listing__listing_code="HN-M-0002")
    page.goto(f"{live_server.url}{reverse('appeals:flag_detail', args=[other.pk])}")
    page.wait_for_selector("article.listing-card")
    no_sideways_scroll(page)
