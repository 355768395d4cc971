"""Lifecycle guards (issue 9): every irreversible step shows what it will do and asks for
confirmation; 企业端预览 shows what a company will see; an early close is shown as 提前截止."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from appeals import publication
from pricing.models import RoundStatus
from pricing.review.decisions import adjust_limit, confirm_flag
from tests.factories import FlagFactory, RoundFactory

pytestmark = pytest.mark.django_db


def test_publish_page_refuses_with_pending_flags_and_offers_to_defer_them(
    client, admin_user, regulator, flag_a, flag_b
):
    confirm_flag(flag_a.pk, user=regulator, expected_version=0)
    client.force_login(admin_user)
    url = reverse("pricing:round_publish", args=[flag_a.round_id])
    deadline = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    response = client.post(url, {"deadline_date": deadline, "confirmed": "1"})
    html = response.content.decode()
    assert response.status_code == 400 and "仍有 1 条待审核记录" in html and 'id="defer-pending"' in html
    flag_a.round.refresh_from_db()
    assert flag_a.round.status == RoundStatus.DRAFT
    html = client.post(url, {"deadline_date": deadline, "defer_pending": "1", "expected_pending": "1"}).content.decode()
    assert 'id="confirm-deferred">1<' in html and 'id="publish-confirm"' in html
    client.post(url, {"deadline_date": deadline, "defer_pending": "1", "expected_pending": "1", "confirmed": "1"})
    flag_a.round.refresh_from_db()
    flag_b.refresh_from_db()
    assert flag_a.round.status == RoundStatus.PUBLISHED and flag_b.status == "deferred"


def test_company_preview_shows_one_card_per_listing_with_its_binding_limit(client, regulator, draft_round, company_a):
    first = FlagFactory(round=draft_round, listing__manufacturer=company_a, listing__listed_price=Decimal("24.00"))
    second = FlagFactory(
        round=draft_round, listing=first.listing, rule_code="SAME_MAKER_SPEC", limit_price=Decimal("2.96")
    )
    pending = FlagFactory(round=draft_round, listing__manufacturer=company_a)
    confirm_flag(first.pk, user=regulator, expected_version=0)
    adjust_limit(second.pk, user=regulator, expected_version=0, new_limit="6.00", reason="成本")
    client.force_login(regulator)
    html = client.get(reverse("pricing:notice_preview", args=[draft_round.pk])).content.decode()
    assert html.count('class="listing-card"') == 1  # one listing, two reasons; the pending flag is not shown
    assert f'data-listing="{first.listing.listing_code}"' in html and pending.listing.listing_code not in html
    assert "<b>6.00</b>" in html and html.count('class="reason"') == 2


def test_early_close_is_shown_to_manufacturers_with_its_time(client, admin_user, maker_a, company_a):
    published_round = RoundFactory(
        status="published", published_at=timezone.now(), appeal_deadline=timezone.now() + dt.timedelta(days=5)
    )
    FlagFactory(round=published_round, listing__manufacturer=company_a, status="confirmed")
    publication.close_appeal_window(published_round.pk, user=admin_user)
    published_round.refresh_from_db()
    closed = timezone.localtime(published_round.closed_at, dt.timezone(dt.timedelta(hours=8)))
    client.force_login(maker_a)
    html = client.get(reverse("appeals:home")).content.decode()
    assert f'id="early-close-{published_round.pk}"' in html
    assert f"提前截止：{closed:%Y-%m-%d %H:%M}" in html
