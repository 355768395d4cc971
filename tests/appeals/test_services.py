"""Appeal transitions through the services: allowed ones, refused ones, events and audit rows."""

from decimal import Decimal

import pytest
from django.core import mail

from appeals import services
from appeals.errors import AppealConflict, AppealError, InvalidTransition, NotAllowed, NotFound, VersionConflict
from appeals.models import AppealEvent, AppealStatus
from audit.models import AuditEvent
from pricing.models import FlagDecision

pytestmark = pytest.mark.django_db


def draft(user, flags, **kw):
    return services.create_draft(
        user=user,
        round_id=flags[0].round_id,
        flag_ids=[f.pk for f in flags],
        grounds=kw.pop("grounds", "cost"),
        statement=kw.pop("statement", "原料成本上涨"),
        **kw,
    )


def test_create_draft_covers_several_flags_and_records_event_and_audit(maker_a, flag_a, flag_a2):
    appeal = draft(maker_a, [flag_a, flag_a2], proposed_price="20")
    assert appeal.status == AppealStatus.DRAFT
    assert appeal.company_id == maker_a.company_id
    assert set(appeal.flags.all()) == {flag_a, flag_a2}
    assert appeal.proposed_price == Decimal("20.00")
    assert AppealEvent.objects.filter(appeal=appeal, to_status="draft").count() == 1
    assert AuditEvent.objects.filter(action="appeal.create", object_id=str(appeal.pk)).count() == 1


def test_cannot_appeal_another_companys_flag(maker_a, flag_b):
    with pytest.raises(NotFound):
        draft(maker_a, [flag_b])


def test_cannot_appeal_unconfirmed_flag(maker_a, published_round, company_a):
    from tests.appeals.conftest import make_flag

    pending = make_flag(published_round, company_a, status="pending")
    with pytest.raises(AppealError, match="已确认"):
        draft(maker_a, [pending])


def test_flags_of_two_rounds_in_one_appeal_refused(maker_a, flag_a, company_a, deadline):
    from tests.appeals.conftest import make_flag
    from tests.factories import RoundFactory

    other = RoundFactory(status="published", appeal_deadline=deadline, evidence_required=False)
    with pytest.raises(NotFound):
        draft(maker_a, [flag_a, make_flag(other, company_a)])


def test_regulator_cannot_file_appeal(regulator, flag_a):
    with pytest.raises(NotAllowed):
        draft(regulator, [flag_a])


def test_second_active_appeal_on_same_flag_is_a_conflict(maker_a, flag_a):
    draft(maker_a, [flag_a])
    with pytest.raises(AppealConflict) as exc:
        draft(maker_a, [flag_a])
    assert exc.value.status_code == 409


def test_withdrawn_appeal_frees_the_flag(maker_a, flag_a):
    first = draft(maker_a, [flag_a])
    services.withdraw(first.pk, user=maker_a, expected_version=first.lock_version)
    second = draft(maker_a, [flag_a])
    assert second.status == AppealStatus.DRAFT


def test_submit_then_withdraw(maker_a, flag_a):
    appeal = draft(maker_a, [flag_a])
    appeal = services.submit(appeal.pk, user=maker_a, expected_version=appeal.lock_version)
    assert appeal.status == AppealStatus.SUBMITTED and appeal.submitted_at
    appeal = services.withdraw(appeal.pk, user=maker_a, expected_version=appeal.lock_version, reason="误报")
    assert appeal.status == AppealStatus.WITHDRAWN
    assert list(AppealEvent.objects.filter(appeal=appeal).values_list("to_status", flat=True)) == [
        "draft",
        "submitted",
        "withdrawn",
    ]
    assert AuditEvent.objects.filter(object_id=str(appeal.pk), action__startswith="appeal.").count() == 3


def test_submitting_twice_is_refused(maker_a, flag_a):
    appeal = draft(maker_a, [flag_a])
    appeal = services.submit(appeal.pk, user=maker_a, expected_version=appeal.lock_version)
    with pytest.raises(InvalidTransition):
        services.submit(appeal.pk, user=maker_a, expected_version=appeal.lock_version)


def test_edit_after_submit_refused(maker_a, flag_a):
    appeal = draft(maker_a, [flag_a])
    services.submit(appeal.pk, user=maker_a, expected_version=appeal.lock_version)
    with pytest.raises(AppealError, match="草稿"):
        services.update_draft(appeal.pk, user=maker_a, grounds="other", statement="改")


def test_other_company_cannot_submit_or_withdraw(maker_a, maker_b, flag_a):
    appeal = draft(maker_a, [flag_a])
    with pytest.raises(NotFound):
        services.submit(appeal.pk, user=maker_b, expected_version=appeal.lock_version)
    with pytest.raises(NotFound):
        services.withdraw(appeal.pk, user=maker_b, expected_version=appeal.lock_version)
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.DRAFT


def test_manufacturer_cannot_decide(maker_a, flag_a):
    appeal = draft(maker_a, [flag_a])
    appeal = services.submit(appeal.pk, user=maker_a, expected_version=appeal.lock_version)
    with pytest.raises(NotAllowed):
        services.decide(appeal.pk, user=maker_a, outcome="accepted", reason="x", expected_version=appeal.lock_version)


def test_draft_cannot_be_decided(regulator, maker_a, flag_a):
    appeal = draft(maker_a, [flag_a])
    with pytest.raises(InvalidTransition):
        services.decide(
            appeal.pk, user=regulator, outcome="upheld", reason="限价依据充分", expected_version=appeal.lock_version
        )


def submitted(maker, flags):
    appeal = draft(maker, flags)
    return services.submit(appeal.pk, user=maker, expected_version=appeal.lock_version)


def test_partial_sets_adjusted_limit_on_every_flag_and_notifies_company(
    regulator, maker_a, flag_a, flag_a2, django_capture_on_commit_callbacks
):
    maker_a.email = "a@example.com"
    maker_a.save()
    appeal = submitted(maker_a, [flag_a, flag_a2])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        appeal = services.decide(
            appeal.pk,
            user=regulator,
            outcome="partial",
            reason="成本属实",
            new_limit_price="6.50",
            expected_version=appeal.lock_version,
        )
    assert len(callbacks) == 1
    assert appeal.status == AppealStatus.PARTIAL
    for flag in (flag_a, flag_a2):
        flag.refresh_from_db()
        assert flag.adjusted_limit_price == Decimal("6.50")
        assert flag.effective_limit_price == Decimal("6.50")
        assert flag.status == "confirmed"
        decision = FlagDecision.objects.get(flag=flag)
        assert decision.action == "adjust" and decision.limit_after == Decimal("6.50")
        assert decision.limit_before == flag.limit_price
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["a@example.com"]
    assert "部分采纳" in mail.outbox[0].subject and "成本属实" in mail.outbox[0].body
    for flag in (flag_a, flag_a2):  # the new limit of every listing appealed
        assert f"挂网编号 {flag.listing.listing_code}（" in mail.outbox[0].body
    assert mail.outbox[0].body.count("调整后限价 6.50 元") == 2


def test_accepted_withdraws_the_flags(regulator, maker_a, flag_a):
    appeal = submitted(maker_a, [flag_a])
    services.decide(
        appeal.pk, user=regulator, outcome="accepted", reason="数据错误", expected_version=appeal.lock_version
    )
    flag_a.refresh_from_db()
    assert flag_a.status == "withdrawn"


def test_upheld_leaves_flag_unchanged(regulator, maker_a, flag_a):
    appeal = submitted(maker_a, [flag_a])
    services.decide(
        appeal.pk, user=regulator, outcome="upheld", reason="限价依据充分", expected_version=appeal.lock_version
    )
    flag_a.refresh_from_db()
    assert flag_a.status == "confirmed" and flag_a.adjusted_limit_price is None
    assert not FlagDecision.objects.filter(flag=flag_a).exists()


@pytest.mark.parametrize(
    ("outcome", "reason", "price", "message"),
    [
        ("partial", "", "5", "理由"),
        ("accepted", "", None, "理由"),
        ("partial", "理由", None, "新限价"),
        ("partial", "r", "-1", "大于 0"),
    ],
)
def test_decision_needs_reason_and_price(regulator, maker_a, flag_a, outcome, reason, price, message):
    appeal = submitted(maker_a, [flag_a])
    with pytest.raises(AppealError, match=message):
        services.decide(
            appeal.pk,
            user=regulator,
            outcome=outcome,
            reason=reason,
            new_limit_price=price,
            expected_version=appeal.lock_version,
        )
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.SUBMITTED


def test_stale_decision_gets_conflict_with_current_state_and_single_audit(regulator, admin_user, maker_a, flag_a):
    appeal = submitted(maker_a, [flag_a])
    version = appeal.lock_version
    services.decide(appeal.pk, user=regulator, outcome="upheld", reason="限价依据充分", expected_version=version)
    with pytest.raises(VersionConflict) as exc:
        services.decide(appeal.pk, user=admin_user, outcome="accepted", reason="x", expected_version=version)
    assert exc.value.status_code == 409
    assert exc.value.current["status"] == "upheld"
    assert exc.value.current["decided_by"] == "regulator"
    assert AuditEvent.objects.filter(action__startswith="appeal.decide", object_id=str(appeal.pk)).count() == 1
    flag_a.refresh_from_db()
    assert flag_a.status == "confirmed"


def test_decision_rolled_back_sends_no_mail(regulator, maker_a, flag_a, django_capture_on_commit_callbacks):
    from django.db import transaction

    maker_a.email = "a@example.com"
    maker_a.save()
    appeal = submitted(maker_a, [flag_a])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                services.decide(
                    appeal.pk,
                    user=regulator,
                    outcome="upheld",
                    reason="限价依据充分",
                    expected_version=appeal.lock_version,
                )
                raise RuntimeError("boom")
    assert callbacks == [] and mail.outbox == []
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.SUBMITTED
