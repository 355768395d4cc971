"""Appeal decisions (issue 9): a reason for every outcome, 部分采纳 limits 0 < L < P per flag and
repriced, a decided appeal changes only by 改判 (its own event), the review page per listing."""

from decimal import Decimal

import pytest
from django.urls import reverse

from appeals import services
from appeals.errors import AppealError
from appeals.models import AppealEvent, AppealStatus
from audit.models import AuditEvent
from pricing.models import FlagDecision, FlagStatus

pytestmark = pytest.mark.django_db


def _submitted(maker, flags, **kwargs):
    a = services.create_draft(
        user=maker, round_id=flags[0].round_id, flag_ids=[f.pk for f in flags], grounds="cost", statement="s", **kwargs
    )
    return services.submit(a.pk, user=maker, expected_version=a.lock_version)


def test_partial_above_the_listed_price_is_refused_like_adjust(regulator, maker_a, flag_a):
    """The issue: 部分采纳 accepted 12.00 above the listed price 11.68."""
    appeal = _submitted(maker_a, [flag_a])  # listed price 24.00
    for bad in ("24.00", "30", "0"):
        with pytest.raises(AppealError):
            services.decide(
                appeal.pk,
                user=regulator,
                outcome="partial",
                reason="r",
                new_limit_price=bad,
                expected_version=appeal.lock_version,
            )
    flag_a.refresh_from_db()
    assert flag_a.adjusted_limit_price is None
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.SUBMITTED


def test_upheld_needs_a_reason(regulator, maker_a, flag_a):
    appeal = _submitted(maker_a, [flag_a])
    with pytest.raises(AppealError, match="必须填写理由"):
        services.decide(appeal.pk, user=regulator, outcome="upheld", expected_version=appeal.lock_version)


def test_partial_per_flag_limits_reprice_each_flag(regulator, maker_a, flag_a, flag_a2):
    appeal = _submitted(maker_a, [flag_a, flag_a2])
    services.decide(
        appeal.pk,
        user=regulator,
        outcome="partial",
        reason="成本证明部分成立",
        new_limits={str(flag_a.pk): "12.00", str(flag_a2.pk): "8.00"},
        expected_version=appeal.lock_version,
    )
    flag_a.refresh_from_db()
    flag_a2.refresh_from_db()
    assert (flag_a.effective_limit_price, flag_a.ratio) == (Decimal("12.00"), Decimal("2.0000"))
    assert (flag_a2.effective_limit_price, flag_a2.ratio, flag_a2.overcharge) == (
        Decimal("8.00"),
        Decimal("3.0000"),
        Decimal("16.00"),
    )


def test_decided_appeal_changes_only_by_revise_and_flags_return_to_their_prior_state(regulator, maker_a, flag_a):
    appeal = _submitted(maker_a, [flag_a])
    appeal = services.decide(
        appeal.pk, user=regulator, outcome="accepted", reason="数据错误", expected_version=appeal.lock_version
    )
    flag_a.refresh_from_db()
    assert flag_a.status == FlagStatus.WITHDRAWN
    with pytest.raises(AppealError, match="改判"):
        services.decide(appeal.pk, user=regulator, outcome="upheld", reason="x", expected_version=appeal.lock_version)
    with pytest.raises(AppealError, match="必须填写理由"):
        services.revise_decision(
            appeal.pk, user=regulator, outcome="partial", reason="", expected_version=appeal.lock_version
        )
    appeal = services.revise_decision(
        appeal.pk,
        user=regulator,
        outcome="partial",
        reason="复核：数据无误，但成本部分成立",
        new_limit_price="10.00",
        expected_version=appeal.lock_version,
    )
    flag_a.refresh_from_db()
    assert appeal.status == AppealStatus.PARTIAL
    assert flag_a.status == FlagStatus.CONFIRMED and flag_a.effective_limit_price == Decimal("10.00")
    assert flag_a.ratio == Decimal("2.4000")
    event = AppealEvent.objects.filter(appeal=appeal).last()
    assert (event.kind, event.from_status, event.to_status) == ("revise", "accepted", "partial")
    assert FlagDecision.objects.filter(flag=flag_a).last().action == "revise"
    assert AuditEvent.objects.filter(action="appeal.revise", reason__startswith="复核").count() == 1
    # back to 维持: the flag returns to its state before the appeal (rule limit, confirmed)
    appeal = services.revise_decision(
        appeal.pk, user=regulator, outcome="upheld", reason="证据不足", expected_version=appeal.lock_version
    )
    flag_a.refresh_from_db()
    assert flag_a.adjusted_limit_price is None and flag_a.status == FlagStatus.CONFIRMED
    assert flag_a.ratio == (flag_a.target_price / flag_a.limit_price).quantize(Decimal("0.0001"))


def test_review_page_is_per_listing_and_offers_revise_once_decided(client, regulator, maker_a, flag_a):
    appeal = _submitted(maker_a, [flag_a], proposed_prices={str(flag_a.pk): "20.00"})
    client.force_login(regulator)
    html = client.get(reverse("appeals:review", args=[appeal.pk])).content.decode()
    assert f'data-listing="{flag_a.listing.listing_code}"' in html and f'name="limit_{flag_a.pk}"' in html
    assert "20.00" in html and 'id="decide-appeal"' in html
    client.post(
        reverse("appeals:decide", args=[appeal.pk]),
        {"outcome": "partial", "reason": "部分成立", f"limit_{flag_a.pk}": "18.00", "version": appeal.lock_version},
    )
    flag_a.refresh_from_db()
    assert flag_a.effective_limit_price == Decimal("18.00")
    html = client.get(reverse("appeals:review", args=[appeal.pk])).content.decode()
    assert 'id="revise-appeal"' in html and 'name="revise" value="1"' in html
