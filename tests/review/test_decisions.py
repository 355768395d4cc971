"""Regulator decisions: confirm / dismiss / adjust, reasons, optimistic locking, frozen rounds."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from audit.models import AuditEvent
from pricing.models import FlagDecision, FlagStatus, RoundStatus
from pricing.review.decisions import (
    DecisionConflict,
    DecisionError,
    RoundFrozen,
    adjust_limit,
    bulk_decide,
    confirm_flag,
    dismiss_flag,
)
from tests.conftest import requires_postgres
from tests.factories import FlagFactory, UserFactory


def _audit(flag, action):
    return AuditEvent.objects.filter(object_type="pricing.Flag", object_id=str(flag.pk), action=action)


def test_confirm_records_decision_and_audit(flag_a, regulator):
    flag = confirm_flag(flag_a.pk, user=regulator, expected_version=0)
    assert flag.status == FlagStatus.CONFIRMED
    assert flag.lock_version == 1
    decision = FlagDecision.objects.get(flag=flag_a)
    assert (decision.action, decision.status_before, decision.status_after) == ("confirm", "pending", "confirmed")
    assert decision.actor == regulator
    event = _audit(flag_a, "flag.confirm").get()
    assert event.before["status"] == "pending" and event.after["status"] == "confirmed"
    assert event.actor_name == "regulator"


def test_dismiss_requires_a_reason(flag_a, regulator):
    with pytest.raises(DecisionError, match="必须填写理由"):
        dismiss_flag(flag_a.pk, user=regulator, expected_version=0, reason="  ")
    flag_a.refresh_from_db()
    assert flag_a.status == FlagStatus.PENDING and flag_a.lock_version == 0
    assert not FlagDecision.objects.exists()

    dismiss_flag(flag_a.pk, user=regulator, expected_version=0, reason="规格不可比")
    flag_a.refresh_from_db()
    assert flag_a.status == FlagStatus.DISMISSED
    assert _audit(flag_a, "flag.dismiss").get().reason == "规格不可比"


def test_adjust_limit_sets_effective_limit_and_needs_reason(flag_a, regulator):
    assert flag_a.limit_price == Decimal("30.96")
    with pytest.raises(DecisionError, match="必须填写理由"):
        adjust_limit(flag_a.pk, user=regulator, expected_version=0, new_limit=Decimal("35"), reason="")
    with pytest.raises(DecisionError, match="不低于挂网价格"):
        adjust_limit(flag_a.pk, user=regulator, expected_version=0, new_limit=Decimal("700"), reason="成本")
    with pytest.raises(DecisionError, match="有效金额"):
        adjust_limit(flag_a.pk, user=regulator, expected_version=0, new_limit="abc", reason="成本")

    flag = adjust_limit(flag_a.pk, user=regulator, expected_version=0, new_limit=Decimal("35.004"), reason="原料成本")
    assert flag.status == FlagStatus.CONFIRMED
    assert flag.adjusted_limit_price == Decimal("35.00")
    assert flag.effective_limit_price == Decimal("35.00")
    decision = FlagDecision.objects.get(flag=flag_a)
    assert (decision.limit_before, decision.limit_after) == (Decimal("30.96"), Decimal("35.00"))
    event = _audit(flag_a, "flag.adjust").get()
    assert event.before["limit_price"] == "30.96" and event.after["limit_price"] == "35.00"


def test_second_decision_on_same_version_conflicts_with_current_state(flag_a, regulator):
    other = UserFactory(username="regulator2", role="regulator")
    confirm_flag(flag_a.pk, user=regulator, expected_version=0)
    with pytest.raises(DecisionConflict) as exc:
        dismiss_flag(flag_a.pk, user=other, expected_version=0, reason="不同意")
    state = exc.value.current_state
    assert state["status"] == "confirmed"
    assert state["decided_by"] == "regulator"
    assert state["lock_version"] == 1
    assert "regulator" in exc.value.message and "确认纠偏" in exc.value.message
    flag_a.refresh_from_db()
    assert flag_a.status == FlagStatus.CONFIRMED
    assert FlagDecision.objects.filter(flag=flag_a).count() == 1
    assert AuditEvent.objects.filter(object_type="pricing.Flag", object_id=str(flag_a.pk)).count() == 1


def test_decisions_refused_after_publication(flag_a, regulator):
    flag_a.round.status = RoundStatus.PUBLISHED
    flag_a.round.save()
    with pytest.raises(RoundFrozen, match="已冻结"):
        confirm_flag(flag_a.pk, user=regulator, expected_version=0)
    with pytest.raises(RoundFrozen):
        bulk_decide([flag_a.pk], "confirm", user=regulator)
    flag_a.refresh_from_db()
    assert flag_a.status == FlagStatus.PENDING
    assert not FlagDecision.objects.exists()


def test_bulk_confirm_skips_flags_changed_since_page_load(draft_round, regulator):
    flags = FlagFactory.create_batch(3, round=draft_round)
    # someone dismissed the second flag after the page was rendered at version 0
    dismiss_flag(flags[1].pk, user=regulator, expected_version=0, reason="重复")
    result = bulk_decide([f.pk for f in flags], "confirm", user=regulator, expected_versions={f.pk: 0 for f in flags})
    assert result.done == [flags[0].pk, flags[2].pk]
    assert list(result.skipped) == [flags[1].pk]
    statuses = {f.pk: f.status for f in type(flags[0]).objects.filter(round=draft_round)}
    assert statuses == {flags[0].pk: "confirmed", flags[1].pk: "dismissed", flags[2].pk: "confirmed"}
    assert FlagDecision.objects.filter(action="confirm").count() == 2


def test_bulk_dismiss_needs_reason_and_rejects_adjust(draft_round, regulator):
    flag = FlagFactory(round=draft_round)
    with pytest.raises(DecisionError, match="必须填写理由"):
        bulk_decide([flag.pk], "dismiss", user=regulator)
    with pytest.raises(DecisionError, match="批量操作只支持"):
        bulk_decide([flag.pk], "adjust", user=regulator, reason="x")
    assert bulk_decide([flag.pk], "dismiss", user=regulator, reason="数据错误").done == [flag.pk]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_truly_concurrent_decisions_one_wins(company_a):
    """Two threads decide the same flag at version 0 at the same moment: exactly one succeeds."""
    flag = FlagFactory(listing__manufacturer=company_a)
    users = [UserFactory(username=f"reg{i}", role="regulator") for i in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(user, action):
        try:
            barrier.wait()
            if action == "confirm":
                confirm_flag(flag.pk, user=user, expected_version=0)
            else:
                dismiss_flag(flag.pk, user=user, expected_version=0, reason="并发")
            outcomes.append("ok")
        except DecisionConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(u, a)) for u, a in zip(users, ["confirm", "dismiss"], strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert FlagDecision.objects.filter(flag=flag).count() == 1
    assert AuditEvent.objects.filter(object_type="pricing.Flag", object_id=str(flag.pk)).count() == 1
