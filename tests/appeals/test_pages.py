"""Manufacturer and regulator pages as a user sees them."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from appeals import services
from appeals.models import Appeal, AppealStatus
from tests.appeals import files

pytestmark = pytest.mark.django_db


def test_home_shows_own_flags_limit_arithmetic_and_countdown_only(client, maker_a, flag_a, flag_b):
    client.force_login(maker_a)
    html = client.get(reverse("appeals:home")).content.decode()
    assert flag_a.listing.listing_code in html
    assert flag_b.listing.listing_code not in html
    assert flag_b.manufacturer.name not in html
    assert f"{flag_a.limit_price:.2f}" in html
    assert "u_t = P_t / n_t" in html  # the engine's explanation
    assert 'class="countdown" data-deadline="' in html and "js/countdown.js" in html
    assert "<script>" not in html  # CSP: no inline scripts


def test_pending_and_draft_round_flags_are_invisible(client, maker_a, company_a, published_round):
    from tests.appeals.conftest import make_flag
    from tests.factories import RoundFactory

    pending = make_flag(published_round, company_a, status="pending")
    dismissed = make_flag(published_round, company_a, status="dismissed")
    draft_round_flag = make_flag(RoundFactory(status="draft"), company_a, status="confirmed")
    client.force_login(maker_a)
    html = client.get(reverse("appeals:home")).content.decode()
    for flag in (pending, dismissed, draft_round_flag):
        assert flag.listing.listing_code not in html
        assert client.get(reverse("appeals:flag_detail", args=[flag.pk])).status_code == 404


def test_manufacturer_files_uploads_and_submits_through_pages(client, maker_a, flag_a, flag_a2):
    client.force_login(maker_a)
    url = reverse("appeals:appeal_new") + f"?round={flag_a.round_id}"
    assert flag_a2.listing.listing_code in client.get(url).content.decode()
    response = client.post(
        reverse("appeals:appeal_new"),
        {"round": flag_a.round_id, "flags": [flag_a.pk, flag_a2.pk], "grounds": "cost", "statement": "原料涨价"},
    )
    appeal = Appeal.objects.get()
    assert response["Location"] == reverse("appeals:appeal_detail", args=[appeal.pk])
    assert appeal.flags.count() == 2
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.post(
        reverse("appeals:evidence_upload", args=[appeal.pk]), {"file": SimpleUploadedFile("a.pdf", files.pdf_bytes())}
    )
    assert appeal.evidence.count() == 1
    bad = client.post(
        reverse("appeals:evidence_upload", args=[appeal.pk]),
        {"file": SimpleUploadedFile("b.pdf", files.HTML, content_type="application/pdf")},
        follow=True,
    )
    assert "HTML" in bad.content.decode() and appeal.evidence.count() == 1
    client.post(reverse("appeals:appeal_submit", args=[appeal.pk]), {"version": appeal.lock_version})
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.SUBMITTED
    html = client.get(reverse("appeals:appeal_detail", args=[appeal.pk])).content.decode()
    assert 'id="appeal-submit"' not in html and 'id="appeal-withdraw"' in html


def test_after_deadline_forms_are_gone_and_posts_refused(client, maker_a, flag_a, published_round):
    appeal = services.create_draft(
        user=maker_a, round_id=flag_a.round_id, flag_ids=[flag_a.pk], grounds="cost", statement="s"
    )
    published_round.appeal_deadline = timezone.now() - dt.timedelta(seconds=1)
    published_round.save()
    client.force_login(maker_a)
    html = client.get(reverse("appeals:appeal_detail", args=[appeal.pk])).content.decode()
    assert not re.search(r'id="appeal-(submit|edit|withdraw)"', html) and 'id="evidence-upload"' not in html
    home = client.get(reverse("appeals:home")).content.decode()
    assert "提出申诉</a>" not in home and "申诉期已截止" in home
    response = client.post(reverse("appeals:appeal_submit", args=[appeal.pk]), {"version": 1}, follow=True)
    assert "申诉期已于" in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.DRAFT


def test_regulator_queue_filters_and_partial_decision(client, regulator, maker_a, maker_b, flag_a, flag_b):
    a = services.create_draft(
        user=maker_a, round_id=flag_a.round_id, flag_ids=[flag_a.pk], grounds="cost", statement="s"
    )
    a = services.submit(a.pk, user=maker_a, expected_version=a.lock_version)
    b = services.create_draft(
        user=maker_b, round_id=flag_b.round_id, flag_ids=[flag_b.pk], grounds="quality", statement="q"
    )
    client.force_login(regulator)
    queue = client.get(reverse("appeals:queue")).content.decode()
    assert f'href="{reverse("appeals:review", args=[a.pk])}"' in queue
    assert f'href="{reverse("appeals:review", args=[b.pk])}"' not in queue  # drafts are not in the queue
    filtered = client.get(reverse("appeals:queue"), {"grounds": "quality", "status": ""}).content.decode()
    assert f'href="{reverse("appeals:review", args=[a.pk])}"' not in filtered
    review = client.get(reverse("appeals:review", args=[a.pk])).content.decode()
    assert 'id="decision-form"' in review and "部分采纳" in review
    client.post(
        reverse("appeals:decide", args=[a.pk]),
        {"outcome": "partial", "new_limit_price": "7.20", "reason": "成本有据", "version": a.lock_version},
    )
    flag_a.refresh_from_db()
    assert str(flag_a.adjusted_limit_price) == "7.20"
    stale = client.post(
        reverse("appeals:decide", args=[a.pk]),
        {"outcome": "accepted", "reason": "x", "version": a.lock_version},
        follow=True,
    )
    assert "已被他人修改" in stale.content.decode()
    # the company sees the decision and the reason
    client.force_login(maker_a)
    detail = client.get(reverse("appeals:appeal_detail", args=[a.pk])).content.decode()
    assert "部分采纳" in detail and "成本有据" in detail and "7.20" in detail
