"""The hostile inputs of issue 11 item 4, one by one: each is a 400 with a Chinese message."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from appeals import services as appeal_services
from pricing.models import FlagStatus, RoundStatus
from pricing.review.publication import PublishError, publish_notice
from tests.factories import FlagFactory, ListingFactory


@pytest.fixture
def lenient_client(client):
    client.raise_request_exception = False
    return client


@pytest.mark.django_db
def test_nul_in_listing_search_and_api_filters_is_a_400(lenient_client, regulator):
    listing = ListingFactory()
    lenient_client.force_login(regulator)
    page = lenient_client.get(reverse("catalogue:version_detail", args=[listing.version_id]), {"q": "a\x00b"})
    assert page.status_code == 400 and "NUL" in page.content.decode()
    api = lenient_client.get(reverse("catalogue_api:listing_list"), {"q": "a\x00b", "version": listing.version_id})
    assert api.status_code == 400 and "NUL" in api.json()["detail"]
    assert lenient_client.get(reverse("catalogue_api:listing_list"), {"q\x00": "x"}).status_code == 400


@pytest.mark.django_db
def test_nul_inside_a_json_body_is_a_400(lenient_client, admin_user):
    flag = FlagFactory(status=FlagStatus.CONFIRMED)
    lenient_client.force_login(admin_user)
    url = reverse("pricing_api:review-round-publish", args=[flag.round_id])
    response = lenient_client.post(
        url, json.dumps({"deadline": "2030-01-01", "notice_text": "a\x00b"}), content_type="application/json"
    )
    assert response.status_code == 400 and "NUL" in response.json()["detail"]


@pytest.mark.django_db
def test_json_nested_100000_deep_is_a_400(lenient_client, regulator):
    lenient_client.force_login(regulator)
    response = lenient_client.post(
        reverse("pricing_api:review-flag-bulk-decide"), "[" * 100_000, content_type="application/json"
    )
    assert response.status_code == 400
    assert "嵌套" in response.json()["detail"]


@pytest.mark.django_db
def test_non_numeric_appeal_version_is_a_400_with_a_message(lenient_client, maker_a, company_a):
    flag = FlagFactory(listing__manufacturer=company_a, status=FlagStatus.CONFIRMED)
    rnd = flag.round
    rnd.status, rnd.published_at = RoundStatus.PUBLISHED, timezone.now()
    rnd.appeal_deadline = timezone.now() + dt.timedelta(days=5)
    rnd.save()
    appeal = appeal_services.create_draft(
        round_id=rnd.pk, flag_ids=[flag.pk], user=maker_a, grounds="cost", statement="成本上涨"
    )
    lenient_client.force_login(maker_a)
    for name in ("appeals:appeal_submit", "appeals:appeal_edit"):
        response = lenient_client.post(
            reverse(name, args=[appeal.pk]), {"version": "abc", "grounds": "cost", "statement": "x"}
        )
        assert response.status_code < 500, name
        assert response.status_code in (200, 302, 400), name
    appeal.refresh_from_db()
    assert appeal.status == "draft" and appeal.statement == "成本上涨"
    with pytest.raises(appeal_services.AppealError, match="版本号无效"):
        appeal_services.submit(appeal.pk, user=maker_a, expected_version="abc")


@pytest.mark.django_db
@pytest.mark.parametrize("deadline", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00", "9999-12-31"])
def test_extreme_deadlines_are_a_400(lenient_client, admin_user, deadline):
    flag = FlagFactory(status=FlagStatus.CONFIRMED)
    lenient_client.force_login(admin_user)
    url = reverse("pricing_api:review-round-publish", args=[flag.round_id])
    response = lenient_client.post(url, {"deadline": deadline}, content_type="application/json")
    assert response.status_code == 400, response.content
    flag.round.refresh_from_db()
    assert flag.round.status == RoundStatus.DRAFT


@pytest.mark.django_db
def test_deadline_more_than_a_year_ahead_is_refused(admin_user):
    flag = FlagFactory(status=FlagStatus.CONFIRMED)
    with pytest.raises(PublishError, match="一年"):
        publish_notice(flag.round_id, user=admin_user, deadline=timezone.localdate() + dt.timedelta(days=400))
    rnd = publish_notice(flag.round_id, user=admin_user, deadline=timezone.localdate() + dt.timedelta(days=300))
    assert rnd.status == RoundStatus.PUBLISHED


@pytest.mark.django_db
def test_huge_ids_in_bulk_decide_form_are_not_a_server_error(regulator):
    flag = FlagFactory()
    client = Client(raise_request_exception=False)
    client.force_login(regulator)
    response = client.post(
        reverse("pricing:flag_bulk_decide", args=[flag.round_id]),
        {"flag_ids": ["9" * 30, str(flag.pk)], "action": "confirm", f"v_{flag.pk}": "9" * 30},
    )
    assert response.status_code < 500
    before = flag.status
    flag.refresh_from_db()
    assert flag.status == before  # a version that cannot match decides nothing
