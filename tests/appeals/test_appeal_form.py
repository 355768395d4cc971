"""The appeal form per listing and per flag (issue 9): type, binding limit and benchmark of every
flag, a proposed price per flag, evidence required at submission when the notice demands it,
deleting a file from a draft, and a flag with an appeal leading to it."""

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from appeals import services
from appeals.errors import AppealError
from appeals.models import AppealFlag, Evidence
from audit.models import AuditEvent
from tests.appeals import files
from tests.factories import FlagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_flag_listing(published_round, company_a):
    """One listing (24.00) broken twice: a rule limit 4.80 and a same-maker limit 2.96."""
    first = FlagFactory(
        round=published_round,
        listing__manufacturer=company_a,
        listing__listed_price=Decimal("24.00"),
        status="confirmed",
    )
    second = FlagFactory(
        round=published_round,
        listing=first.listing,
        rule_code="SAME_MAKER_SPEC",
        limit_price=Decimal("2.96"),
        status="confirmed",
    )
    return first, second


def test_new_appeal_page_is_one_card_per_listing_with_every_flag_and_a_price_each(client, maker_a, two_flag_listing):
    first, second = two_flag_listing
    first.round.evidence_required = True  # the notice demands evidence
    first.round.save()
    client.force_login(maker_a)
    html = client.get(reverse("appeals:appeal_new"), {"flag": second.pk}).content.decode()
    assert re.search(r'name="flags" value="\d+" checked', html)  # opened from a flag: its listing is ticked
    assert html.count('class="listing-card"') == 1
    assert f'name="price_{first.pk}"' in html and f'name="price_{second.pk}"' in html
    assert "<b>2.96</b>" in html  # the binding limit: the lowest of 4.80 and 2.96
    assert first.benchmark_listing.listing_code in html and "同厂同通用名" in html
    assert 'id="evidence-required-note"' in html
    response = client.post(
        reverse("appeals:appeal_new"),
        {
            "round": first.round_id,
            "flags": [first.pk],  # one value per listing: both of its flags are appealed
            "grounds": "cost",
            "statement": "原料成本上涨",
            f"price_{first.pk}": "20.00",
            f"price_{second.pk}": "18.50",
        },
    )
    assert response.status_code == 302
    links = {link.flag_id: link.proposed_price for link in AppealFlag.objects.all()}
    assert links == {first.pk: Decimal("20.00"), second.pk: Decimal("18.50")}


def test_proposed_price_at_or_above_the_listed_price_is_refused(maker_a, two_flag_listing):
    first, _ = two_flag_listing
    with pytest.raises(AppealError, match="应低于挂网价格"):
        services.create_draft(
            user=maker_a,
            round_id=first.round_id,
            flag_ids=[first.pk],
            grounds="cost",
            statement="s",
            proposed_prices={str(first.pk): "24.00"},
        )


def test_evidence_required_at_submission_and_a_draft_file_can_be_deleted(client, maker_a, two_flag_listing):
    first, _ = two_flag_listing
    first.round.evidence_required = True
    first.round.save()
    appeal = services.create_draft(
        user=maker_a, round_id=first.round_id, flag_ids=[first.pk], grounds="cost", statement="s"
    )
    with pytest.raises(AppealError, match="证明材料"):
        services.submit(appeal.pk, user=maker_a, expected_version=appeal.lock_version)
    client.force_login(maker_a)
    html = client.get(reverse("appeals:appeal_detail", args=[appeal.pk])).content.decode()
    assert 'id="evidence-missing"' in html and 'id="submit-appeal" disabled' in html
    item = services.add_evidence(
        appeal.pk, user=maker_a, uploaded_file=SimpleUploadedFile("成本.pdf", files.pdf_bytes())
    )
    html = client.get(reverse("appeals:appeal_detail", args=[appeal.pk])).content.decode()
    delete_url = reverse("appeals:evidence_delete", args=[appeal.pk, item.pk])
    assert delete_url in html and 'id="evidence-missing"' not in html
    client.post(delete_url)
    assert not Evidence.objects.filter(pk=item.pk).exists()
    assert AuditEvent.objects.filter(action="appeal.evidence_remove").count() == 1
    services.add_evidence(appeal.pk, user=maker_a, uploaded_file=SimpleUploadedFile("b.pdf", files.pdf_bytes()))
    appeal.refresh_from_db()
    submitted = services.submit(appeal.pk, user=maker_a, expected_version=appeal.lock_version)
    assert submitted.status == "submitted"
    with pytest.raises(AppealError, match="不能再删除"):
        services.remove_evidence(appeal.pk, submitted.evidence.get().pk, user=maker_a)


def test_opening_a_flag_with_an_appeal_leads_to_that_appeal(client, maker_a, two_flag_listing):
    first, second = two_flag_listing
    appeal = services.create_draft(
        user=maker_a, round_id=first.round_id, flag_ids=[first.pk], grounds="cost", statement="s"
    )
    client.force_login(maker_a)
    for flag in (first, second):  # the listing's other flag came with the appeal too
        response = client.get(reverse("appeals:flag_detail", args=[flag.pk]))
        assert response.status_code == 302
        assert response["Location"] == reverse("appeals:appeal_detail", args=[appeal.pk])
