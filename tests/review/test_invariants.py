"""Decision invariants (issue 9): decided flags change only by 改判; limits 0 < L < P everywhere;
every limit change reprices ratio, overcharge and severity; reasons required; bulk skips decided."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from audit.models import AuditEvent
from pricing.models import Flag, FlagDecision, FlagStatus
from pricing.review.decisions import (
    AlreadyDecided,
    DecisionError,
    adjust_limit,
    bulk_decide,
    confirm_flag,
    dismiss_flag,
    revise,
)
from pricing.review.exports import HEADERS, export_rows, flags_for_export
from tests.factories import FlagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def flag_45(draft_round):
    """挂网价格 45.00, rule limit 20.57 → ratio 2.1877 (the issue's example)."""
    return FlagFactory(
        round=draft_round,
        listing__listed_price=Decimal("45.00"),
        limit_price=Decimal("20.57"),
        ratio=Decimal("2.1877"),
        overcharge=Decimal("24.43"),
        severity="红★",
    )


def test_adjusting_45_to_15_reprices_ratio_overcharge_and_severity_everywhere(flag_45, regulator, client):
    flag = adjust_limit(flag_45.pk, user=regulator, expected_version=0, new_limit=Decimal("15.00"), reason="成本核算")
    assert (flag.ratio, flag.overcharge, flag.severity) == (Decimal("3.0000"), Decimal("30.00"), "红★")
    row = next(export_rows(flags_for_export(flag.round, "all")))
    assert row[HEADERS.index("价差倍数")] == Decimal("3.0000")
    assert row[HEADERS.index("纠偏限价")] == Decimal("15.00") and row[HEADERS.index("执行限价")] == Decimal("15.00")
    client.force_login(regulator)
    html = client.get(reverse("pricing:flag_detail", args=[flag.pk])).content.decode()
    assert 'id="flag-ratio">3.0000<' in html
    listing = client.get(reverse("pricing:flag_list", args=[flag.round_id])).content.decode()
    assert "3.0000" in listing and "2.1877" not in listing


def test_severity_follows_the_new_ratio(flag_45, regulator):
    flag = adjust_limit(flag_45.pk, user=regulator, expected_version=0, new_limit=Decimal("4.00"), reason="参比价")
    assert flag.ratio == Decimal("11.2500") and flag.severity == "红★★★"


@pytest.mark.parametrize("limit", ["0", "-1", "45.00", "45.001", "99", "NaN", "abc"])
def test_no_new_limit_at_or_above_the_price_or_not_positive(flag_45, regulator, limit):
    with pytest.raises(DecisionError):
        adjust_limit(flag_45.pk, user=regulator, expected_version=0, new_limit=limit, reason="r")
    flag_45.refresh_from_db()
    assert flag_45.adjusted_limit_price is None and not FlagDecision.objects.exists()


def test_database_refuses_a_limit_at_or_above_the_price_and_a_reasonless_dismissal(flag_45, regulator):
    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.filter(pk=flag_45.pk).update(adjusted_limit_price=Decimal("45.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        FlagDecision.objects.create(
            flag=flag_45, action="dismiss", actor=regulator, status_before="pending", status_after="dismissed"
        )


def test_a_decided_flag_changes_only_by_revise_with_a_reason(flag_45, regulator):
    dismiss_flag(flag_45.pk, user=regulator, expected_version=0, reason="规格不可比")
    with pytest.raises(AlreadyDecided, match="改判"):
        confirm_flag(flag_45.pk, user=regulator, expected_version=1)
    with pytest.raises(AlreadyDecided):
        adjust_limit(flag_45.pk, user=regulator, expected_version=1, new_limit="10", reason="x")
    with pytest.raises(DecisionError, match="必须填写理由"):
        revise(flag_45.pk, user=regulator, expected_version=1, to_action="confirm", reason=" ")
    flag = revise(flag_45.pk, user=regulator, expected_version=1, to_action="confirm", reason="复核后可比")
    assert flag.status == FlagStatus.CONFIRMED
    last = FlagDecision.objects.filter(flag=flag_45).last()
    assert (last.action, last.status_before, last.status_after, last.reason) == (
        "revise",
        "dismissed",
        "confirmed",
        "复核后可比",
    )
    event = AuditEvent.objects.get(action="flag.revise")
    assert event.after["revised_from"] == "dismissed" and event.reason == "复核后可比"
    flag = revise(flag.pk, user=regulator, expected_version=2, to_action="adjust", new_limit="30", reason="成本")
    assert flag.effective_limit_price == Decimal("30.00") and flag.ratio == Decimal("1.5000")


def test_bulk_confirm_never_overturns_a_written_dismissal(draft_round, regulator):
    """The issue's first finding: select all + 批量确认 turned a 不予纠偏 into 确认纠偏."""
    flags = FlagFactory.create_batch(4, round=draft_round)
    dismiss_flag(flags[0].pk, user=regulator, expected_version=0, reason="数据错误")
    result = bulk_decide([f.pk for f in flags], "confirm", user=regulator)
    assert result.done == [f.pk for f in flags[1:]]
    assert "已审核为「不予纠偏」" in result.skipped[flags[0].pk]
    flags[0].refresh_from_db()
    assert flags[0].status == FlagStatus.DISMISSED
    assert AuditEvent.objects.filter(action="flag.confirm").count() == 3


def test_api_bulk_decide_obeys_the_same_rule(regulator, draft_round):
    from rest_framework.test import APIClient

    flags = FlagFactory.create_batch(2, round=draft_round)
    dismiss_flag(flags[0].pk, user=regulator, expected_version=0, reason="数据错误")
    api_client = APIClient()
    api_client.force_authenticate(regulator)
    response = api_client.post(
        "/api/pricing/review/flags/bulk-decide/",
        {
            "action": "confirm",
            "flag_ids": [f.pk for f in flags],
            # the client knows the dismissal (version 1): a decided flag is skipped all the same
            "expected_versions": {str(flags[0].pk): 1, str(flags[1].pk): 0},
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["done"] == [flags[1].pk] and str(flags[0].pk) in response.json()["skipped"]
    flags[0].refresh_from_db()
    assert flags[0].status == FlagStatus.DISMISSED


def test_select_all_matching_the_filter_with_a_confirmation_naming_counts(client, regulator, draft_round):
    flags = FlagFactory.create_batch(7, round=draft_round)
    dismiss_flag(flags[0].pk, user=regulator, expected_version=0, reason="数据错误")
    confirm_flag(flags[1].pk, user=regulator, expected_version=0)
    client.force_login(regulator)
    url = reverse("pricing:flag_bulk_decide", args=[draft_round.pk])
    data = {"action": "confirm", "select_all": "1", "filter_query": "sort=-ratio", "next": "/pricing/"}
    html = client.post(url, data).content.decode()
    assert 'id="bulk-total">7<' in html and 'id="bulk-pending">5<' in html and 'id="bulk-skipped">2<' in html
    # someone decides one more meanwhile: the confirmation is shown again with the new numbers
    confirm_flag(flags[2].pk, user=regulator, expected_version=0)
    html = client.post(url, {**data, "confirmed": "1", "expected_pending": "5"}).content.decode()
    assert "状态有变化" in html and 'id="bulk-pending">4<' in html
    response = client.post(url, {**data, "confirmed": "1", "expected_pending": "4"})
    assert response.status_code == 302
    statuses = dict(Flag.objects.filter(round=draft_round).values_list("pk", "status"))
    assert statuses[flags[0].pk] == "dismissed"
    assert sum(1 for s in statuses.values() if s == "confirmed") == 6


def test_flag_page_offers_revise_only_once_decided_and_records_it(client, regulator, flag_45):
    client.force_login(regulator)
    url = reverse("pricing:flag_detail", args=[flag_45.pk])
    html = client.get(url).content.decode()
    assert 'id="confirm-flag"' in html and 'id="revise-flag"' not in html
    confirm_flag(flag_45.pk, user=regulator, expected_version=0)
    html = client.get(url).content.decode()
    assert 'id="confirm-flag"' not in html and 'id="revise-flag"' in html and 'id="decided-note"' in html
    decide_url = reverse("pricing:flag_decide", args=[flag_45.pk])
    response = client.post(decide_url, {"action": "confirm", "expected_version": 1})
    assert response.status_code == 400 and "改判" in response.content.decode()  # a plain decision is refused
    response = client.post(
        decide_url, {"action": "revise", "to_action": "dismiss", "reason": "复核：不可比", "expected_version": 1}
    )
    assert response.status_code == 302
    flag_45.refresh_from_db()
    assert flag_45.status == FlagStatus.DISMISSED
    history = client.get(url).content.decode()
    history = history[history.index('id="flag-history"') :]
    assert history.index("确认纠偏") < history.index("改判") and "确认纠偏 → 不予纠偏" in history
