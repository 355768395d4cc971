"""Branches of the decision service (pricing/review/decisions.py) that the journey tests leave open:
the texts a regulator reads on a refusal, the conflict state, every dispatch path of `decide`, the
bulk limits and skips, and the audit trail of each decision. Mutation runner: `make mutation
MODULE=decisions`."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from pricing.models import Flag, FlagDecision, FlagStatus, RoundStatus
from pricing.review.decisions import (
    AlreadyDecided,
    DecisionConflict,
    DecisionError,
    RoundFrozen,
    adjust_limit,
    bulk_decide,
    bulk_preview,
    confirm_flag,
    current_state,
    decide,
    dismiss_flag,
    revise,
)
from tests.factories import FlagFactory, RoundFactory, UserFactory

pytestmark = pytest.mark.django_db


def _events(flag, action):
    return list(AuditEvent.objects.filter(object_type="pricing.Flag", object_id=str(flag.pk), action=action))


def _raised(call, exc_type=DecisionError):
    with pytest.raises(exc_type) as info:
        call()
    assert str(info.value) == info.value.message
    return info.value.message


# --- single decisions ------------------------------------------------------------------------


def test_confirm_keeps_the_rule_limit_and_writes_a_full_audit_record(flag_a, regulator):
    flag = decide(flag_a.pk, "confirm", user=regulator, expected_version="0", reason="  核实无误  ")
    assert (flag.status, flag.lock_version, flag.adjusted_limit_price) == ("confirmed", 1, None)
    assert flag.effective_limit_price == Decimal("30.96")
    assert (flag.ratio, flag.overcharge) == (Decimal("19.9186"), Decimal("585.72"))
    decision = FlagDecision.objects.get(flag=flag)
    assert (decision.limit_before, decision.limit_after, decision.reason) == (
        Decimal("30.96"),
        Decimal("30.96"),
        "核实无误",
    )
    (event,) = _events(flag, "flag.confirm")
    assert event.reason == "核实无误"
    assert event.before == {
        "status": "pending",
        "limit_price": "30.96",
        "ratio": str(flag_a.ratio),
        "severity": flag_a.severity,
        "lock_version": 0,
    }
    assert event.after == {
        "status": "confirmed",
        "limit_price": "30.96",
        "ratio": "19.9186",
        "severity": flag.severity,
        "lock_version": 1,
    }


def test_dismiss_and_adjust_through_decide(flag_a, flag_b, regulator):
    assert decide(flag_b.pk, "dismiss", user=regulator, expected_version=0, reason="规格不可比").status == "dismissed"
    assert FlagDecision.objects.get(flag=flag_b).action == "dismiss"
    flag = decide(flag_a.pk, "adjust", user=regulator, expected_version=0, reason="成本", new_limit="40")
    assert (flag.status, flag.adjusted_limit_price, flag.ratio) == ("confirmed", Decimal("40.00"), Decimal("15.4170"))
    assert FlagDecision.objects.get(flag=flag_a).action == "adjust"
    assert _events(flag_a, "flag.adjust")[0].after["limit_price"] == "40.00"


def test_unknown_action_is_refused_by_name(flag_a, regulator):
    message = _raised(lambda: decide(flag_a.pk, "reopen", user=regulator, expected_version=0, reason="x"))
    assert message == "未知的审核操作「reopen」。"
    flag_a.refresh_from_db()
    assert flag_a.status == FlagStatus.PENDING and not FlagDecision.objects.exists()


@pytest.mark.parametrize(("action", "label"), [("dismiss", "不予纠偏"), ("adjust", "调整限价"), ("revise", "改判")])
def test_missing_reason_names_the_action(flag_a, regulator, action, label):
    for reason in ("", None, " \n "):
        message = _raised(
            lambda reason=reason: decide(
                flag_a.pk,
                action,
                user=regulator,
                expected_version=0,
                reason=reason,
                new_limit="10",
                to_action="dismiss",
            )
        )
        assert message == f"「{label}」必须填写理由。"
    assert not FlagDecision.objects.exists()


def test_confirm_without_reason_is_fine(flag_a, flag_b, draft_round, regulator):
    flag = decide(flag_a.pk, "confirm", user=regulator, expected_version=0, reason=None)
    assert flag.status == "confirmed" and FlagDecision.objects.get(flag=flag).reason == ""
    assert decide(flag_b.pk, "confirm", user=regulator, expected_version=0).status == "confirmed"
    flag_c = FlagFactory(round=draft_round)
    assert confirm_flag(flag_c.pk, user=regulator, expected_version=0).status == "confirmed"
    assert list(FlagDecision.objects.values_list("reason", flat=True)) == ["", "", ""]
    assert list(AuditEvent.objects.values_list("reason", flat=True)) == ["", "", ""]


def test_a_flag_out_of_review_cannot_be_decided(draft_round, regulator):
    flag = FlagFactory(round=draft_round, status=FlagStatus.WITHDRAWN)
    message = _raised(lambda: confirm_flag(flag.pk, user=regulator, expected_version=0))
    assert message == "当前状态「申诉采纳撤销」不能执行「确认纠偏」。"
    message = _raised(lambda: adjust_limit(flag.pk, user=regulator, expected_version=0, new_limit="1", reason="x"))
    assert message == "当前状态「申诉采纳撤销」不能执行「调整限价」。"
    flag.refresh_from_db()
    assert flag.status == FlagStatus.WITHDRAWN and flag.lock_version == 0


def test_a_decided_flag_names_its_decision(flag_a, regulator):
    confirm_flag(flag_a.pk, user=regulator, expected_version=0)
    message = _raised(lambda: dismiss_flag(flag_a.pk, user=regulator, expected_version=1, reason="x"), AlreadyDecided)
    assert message == "该纠偏记录已审核为「确认纠偏」，如需变更请使用「改判」并填写理由。"


def test_adjust_refusal_message_comes_from_the_limit_rule(flag_a, regulator):
    message = _raised(lambda: adjust_limit(flag_a.pk, user=regulator, expected_version=0, new_limit="0", reason="x"))
    assert message == "调整后限价必须大于 0。"


def test_frozen_round_names_round_and_status(flag_a, regulator):
    flag_a.round.status = RoundStatus.CLOSED
    flag_a.round.save()
    expected = "批次「2026年第一批纠偏」已公示（申诉截止），确认名单已冻结，后续变更请通过申诉处理。"
    assert _raised(lambda: confirm_flag(flag_a.pk, user=regulator, expected_version=0), RoundFrozen) == expected
    assert _raised(lambda: bulk_decide([flag_a.pk], "confirm", user=regulator), RoundFrozen) == expected


# --- conflicts -------------------------------------------------------------------------------


def test_conflict_on_an_undecided_flag_says_unknown(flag_a, regulator):
    Flag.objects.filter(pk=flag_a.pk).update(lock_version=3)  # changed elsewhere (e.g. a recomputation)
    with pytest.raises(DecisionConflict) as info:
        confirm_flag(flag_a.pk, user=regulator, expected_version=2)
    assert info.value.message == "该纠偏记录已被 未知 于  处理，当前状态为「待审核」。请刷新后查看最新结果再决定。"
    assert info.value.current_state == {
        "flag_id": flag_a.pk,
        "status": "pending",
        "status_display": "待审核",
        "lock_version": 3,
        "limit_price": "30.96",
        "adjusted_limit_price": None,
        "decided_by": None,
        "decided_action": None,
        "decided_at": None,
        "decided_at_display": None,
        "reason": "",
    }


def test_conflict_state_names_the_last_decision(flag_a, regulator):
    other = UserFactory(username="regulator2", role="regulator")
    adjust_limit(flag_a.pk, user=regulator, expected_version=0, new_limit="50", reason="原料涨价")
    revise(flag_a.pk, user=other, expected_version=1, to_action="adjust", new_limit="45.5", reason="复核")
    fixed = timezone.make_aware(datetime(2027, 3, 4, 5, 6, 7))
    FlagDecision.objects.filter(flag=flag_a, action="revise").update(at=fixed)
    with pytest.raises(DecisionConflict) as info:
        dismiss_flag(flag_a.pk, user=regulator, expected_version=0, reason="x")
    state = info.value.current_state
    assert state == {
        "flag_id": flag_a.pk,
        "status": "confirmed",
        "status_display": "确认纠偏",
        "lock_version": 2,
        "limit_price": "30.96",
        "adjusted_limit_price": "45.50",
        "decided_by": "regulator2",
        "decided_action": "改判",
        "decided_at": fixed.isoformat(),
        "decided_at_display": "2027-03-04 05:06:07",
        "reason": "复核",
    }
    assert info.value.message == (
        "该纠偏记录已被 regulator2 于 2027-03-04 05:06:07 处理，当前状态为「确认纠偏」。请刷新后查看最新结果再决定。"
    )
    flag_a.refresh_from_db()
    assert current_state(flag_a) == state


def test_current_state_takes_the_latest_decision(flag_a, regulator):
    confirm_flag(flag_a.pk, user=regulator, expected_version=0)
    revise(flag_a.pk, user=regulator, expected_version=1, to_action="dismiss", reason="第二次")
    same_time = timezone.now()
    FlagDecision.objects.filter(flag=flag_a).update(at=same_time)  # same instant: the later row wins
    flag_a.refresh_from_db()
    assert current_state(flag_a)["reason"] == "第二次"
    assert current_state(flag_a)["decided_action"] == "改判"


# --- 改判 --------------------------------------------------------------------------------------


def test_revise_dismissed_to_adjusted_limit_records_both_decisions(flag_a, regulator):
    dismiss_flag(flag_a.pk, user=regulator, expected_version=0, reason="规格不可比")
    flag = decide(
        flag_a.pk, "revise", user=regulator, expected_version=1, to_action="adjust", new_limit="60", reason="  复核  "
    )
    assert (flag.status, flag.adjusted_limit_price, flag.lock_version) == ("confirmed", Decimal("60.00"), 2)
    assert flag.ratio == Decimal("10.2780")
    last = FlagDecision.objects.filter(flag=flag_a, action="revise").get()
    assert (last.status_before, last.status_after, last.limit_before, last.limit_after, last.reason) == (
        "dismissed",
        "confirmed",
        Decimal("30.96"),
        Decimal("60.00"),
        "复核",
    )
    (event,) = _events(flag_a, "flag.revise")
    assert event.before["status"] == "dismissed" and event.before["lock_version"] == 1
    assert event.after["revised_from"] == "dismissed" and event.after["revised_to"] == "adjust"
    assert event.after["status"] == "confirmed" and event.after["limit_price"] == "60.00"
    assert event.after["ratio"] == "10.2780" and event.after["lock_version"] == 2
    assert event.reason == "复核"


def test_revise_confirmed_to_dismissed_keeps_the_adjusted_limit(flag_a, regulator):
    adjust_limit(flag_a.pk, user=regulator, expected_version=0, new_limit="50", reason="成本")
    flag = revise(flag_a.pk, user=regulator, expected_version=1, to_action="dismiss", reason="不可比")
    assert (flag.status, flag.adjusted_limit_price) == ("dismissed", Decimal("50.00"))
    assert flag.ratio == Decimal("12.3336")


def test_revise_refusals(flag_a, regulator):
    message = _raised(lambda: revise(flag_a.pk, user=regulator, expected_version=0, to_action="confirm", reason="r"))
    assert message == "当前状态「待审核」不是已审核状态，请直接审核，无需改判。"
    confirm_flag(flag_a.pk, user=regulator, expected_version=0)
    for to_action in ("revise", "reopen", ""):
        message = _raised(
            lambda a=to_action: revise(flag_a.pk, user=regulator, expected_version=1, to_action=a, reason="r")
        )
        assert message == "改判结果只能是「确认纠偏」「不予纠偏」或「调整限价」。"
    message = _raised(lambda: revise(flag_a.pk, user=regulator, expected_version=1, to_action="confirm", reason="r"))
    assert message == "改判结果与当前审核结果相同，没有可改之处。"
    flag_a.refresh_from_db()
    assert flag_a.status == "confirmed" and flag_a.lock_version == 1
    assert FlagDecision.objects.filter(flag=flag_a).count() == 1


def test_revise_to_the_same_status_with_a_new_limit_is_a_change(flag_a, regulator):
    adjust_limit(flag_a.pk, user=regulator, expected_version=0, new_limit="50", reason="成本")
    message = _raised(
        lambda: revise(flag_a.pk, user=regulator, expected_version=1, to_action="adjust", new_limit="50", reason="r")
    )
    assert "没有可改之处" in message
    flag = revise(flag_a.pk, user=regulator, expected_version=1, to_action="adjust", new_limit="49", reason="r")
    assert flag.adjusted_limit_price == Decimal("49.00")


# --- bulk --------------------------------------------------------------------------------------


def test_bulk_limit_of_an_explicit_selection(draft_round, regulator):
    missing = range(10_000_001, 10_000_501)  # ids that do not exist: skipped, not refused
    result = bulk_decide(missing, "confirm", user=regulator)
    assert result.done == [] and set(result.skipped.values()) == {"不存在"} and len(result.skipped) == 500
    message = _raised(lambda: bulk_decide(range(1, 502), "confirm", user=regulator))
    assert message == "一次最多批量处理 500 条。"
    assert _raised(lambda: bulk_decide([1, 2, 3], "confirm", user=regulator, limit=2)) == "一次最多批量处理 2 条。"
    assert _raised(lambda: bulk_decide([], "confirm", user=regulator)) == "请至少选择一条纠偏记录。"


def test_bulk_refuses_other_actions_by_name(draft_round, regulator):
    for action in ("adjust", "revise", "reopen"):
        message = _raised(lambda a=action: bulk_decide([1], a, user=regulator, reason="x"))
        assert message == "批量操作只支持「确认纠偏」和「不予纠偏」。"


def test_bulk_confirm_writes_decisions_and_audit_per_flag(draft_round, regulator):
    flags = FlagFactory.create_batch(3, round=draft_round)
    confirm_flag(flags[2].pk, user=regulator, expected_version=0)
    ids = [str(flags[1].pk), flags[0].pk, 0, flags[1].pk, flags[2].pk, 10_000_000]  # duplicates, text ids
    result = bulk_decide(ids, "confirm", user=regulator, reason="  批量核实 ")
    assert result.done == sorted([flags[0].pk, flags[1].pk])
    assert result.skipped == {
        0: "不存在",
        flags[2].pk: "已审核为「确认纠偏」，批量操作不改变已审核记录（如需变更请逐条改判）",
        10_000_000: "不存在",
    }
    for flag in flags[:2]:
        flag.refresh_from_db()
        assert (flag.status, flag.lock_version) == ("confirmed", 1)
        decision = FlagDecision.objects.get(flag=flag)
        assert (decision.action, decision.status_before, decision.status_after, decision.reason) == (
            "confirm",
            "pending",
            "confirmed",
            "批量核实",
        )
        assert decision.actor == regulator
        assert decision.limit_before == decision.limit_after == flag.limit_price
        (event,) = _events(flag, "flag.confirm")
        assert event.before == {"status": "pending", "lock_version": 0}
        assert event.after == {"status": "confirmed", "lock_version": 1, "bulk": True}
        assert event.reason == "批量核实" and event.actor_name == "regulator"


def test_bulk_dismiss_keeps_an_adjusted_limit_in_its_record(draft_round, regulator):
    flag = FlagFactory(round=draft_round)
    Flag.objects.filter(pk=flag.pk).update(adjusted_limit_price=flag.limit_price - 1)
    result = bulk_decide([flag.pk], "dismiss", user=regulator, reason="数据错误")
    assert result.done == [flag.pk]
    flag.refresh_from_db()
    assert flag.status == "dismissed"
    decision = FlagDecision.objects.get(flag=flag)
    assert decision.limit_before == decision.limit_after == flag.limit_price - 1
    assert _events(flag, "flag.dismiss")[0].after == {"status": "dismissed", "lock_version": 1, "bulk": True}


def test_bulk_skips_a_flag_changed_since_the_page_was_loaded(draft_round, regulator):
    flags = FlagFactory.create_batch(3, round=draft_round)
    Flag.objects.filter(pk=flags[0].pk).update(lock_version=1)  # recomputed: still pending, newer version
    result = bulk_decide(
        [f.pk for f in flags], "confirm", user=regulator, expected_versions={flags[0].pk: 0, flags[1].pk: 0}
    )
    assert result.done == [flags[1].pk, flags[2].pk]  # no expected version given: the current one holds
    assert result.skipped == {flags[0].pk: "页面加载后已被他人修改，请刷新"}
    flags[0].refresh_from_db()
    assert flags[0].status == "pending"


def test_bulk_across_more_than_one_chunk(draft_round, regulator):
    flags = FlagFactory.create_batch(2, round=draft_round)
    ids = [*range(20_000_001, 20_002_101), *(f.pk for f in flags)]  # 2100 missing ids, then 2 real ones
    result = bulk_decide(ids, "confirm", user=regulator, limit=5000)
    assert result.done == [f.pk for f in flags]
    assert len(result.skipped) == 2100
    assert FlagDecision.objects.filter(action="confirm").count() == 2


def test_bulk_over_two_rounds_refuses_if_one_is_frozen(draft_round, regulator):
    draft_flag = FlagFactory(round=draft_round)
    published = RoundFactory(title="2025年第九批纠偏", status=RoundStatus.PUBLISHED)
    frozen_flag = FlagFactory(round=published)
    message = _raised(lambda: bulk_decide([draft_flag.pk, frozen_flag.pk], "confirm", user=regulator), RoundFrozen)
    assert "2025年第九批纠偏" in message and "已公示(申诉期)" in message
    draft_flag.refresh_from_db()
    assert draft_flag.status == "pending" and not FlagDecision.objects.exists()


def test_bulk_preview_counts(draft_round, regulator):
    flags = FlagFactory.create_batch(4, round=draft_round)
    preview = bulk_preview(Flag.objects.filter(round=draft_round))
    assert (preview.total, preview.pending, preview.decided) == (4, 4, 0)
    confirm_flag(flags[0].pk, user=regulator, expected_version=0)
    dismiss_flag(flags[1].pk, user=regulator, expected_version=0, reason="r")
    preview = bulk_preview(Flag.objects.filter(round=draft_round).order_by("-ratio"))
    assert (preview.total, preview.pending, preview.decided) == (4, 2, 2)
    assert preview.by_status == {"pending": 2, "confirmed": 1, "dismissed": 1}
    bulk_decide([f.pk for f in flags], "confirm", user=regulator)
    preview = bulk_preview(Flag.objects.filter(round=draft_round))
    assert (preview.total, preview.pending, preview.decided) == (4, 0, 4)


def _pending_copies(flag: Flag, count: int) -> list[int]:
    """`count` more pending flags of the same round (other rule codes of the same listing)."""
    fields = {f.attname: getattr(flag, f.attname) for f in Flag._meta.concrete_fields if not f.primary_key}
    Flag.objects.bulk_create([Flag(**{**fields, "rule_code": f"R{i:05d}"}) for i in range(count)], batch_size=2000)
    return list(Flag.objects.filter(round=flag.round_id).order_by("pk").values_list("pk", flat=True))


def test_bulk_over_more_than_one_chunk_of_pending_flags(draft_round, regulator):
    ids = _pending_copies(FlagFactory(round=draft_round), 2100)
    result = bulk_decide(ids, "confirm", user=regulator, limit=5000)
    assert result.done == ids and result.skipped == {}
    assert set(Flag.objects.filter(round=draft_round).values_list("status", flat=True)) == {"confirmed"}
    assert FlagDecision.objects.filter(action="confirm").count() == len(ids) == 2101
    assert AuditEvent.objects.filter(action="flag.confirm").count() == 2101


def test_select_all_refuses_more_than_20000_flags(client, regulator, draft_round):
    from django.urls import reverse

    _pending_copies(FlagFactory(round=draft_round), 20_000)  # 20 001 flags
    client.force_login(regulator)
    url = reverse("pricing:flag_bulk_decide", args=[draft_round.pk])
    data = {"action": "confirm", "select_all": "1", "filter_query": "", "next": "/pricing/"}
    response = client.post(url, data, follow=True)
    assert "一次最多批量处理 20000 条，请缩小筛选范围。" in response.content.decode()
    assert not Flag.objects.filter(round=draft_round).exclude(status="pending").exists()
    Flag.objects.filter(round=draft_round, rule_code="R00000").delete()  # 20 000: shown for confirmation
    html = client.post(url, data).content.decode()
    assert 'id="bulk-total">20000<' in html
