"""Regulator decisions on flags (审核决定): confirm, dismiss, adjust the limit price.

Every decision is one transaction: a conditional UPDATE on the flag's `lock_version` (optimistic
locking), one FlagDecision row and one audit event. Two regulators deciding the same flag at the
same version: the first wins, the second gets `DecisionConflict` with the flag's current state.
Decisions are only possible while the round is a draft; after publication the confirmed set is
frozen and later changes go through appeals.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from pricing.models import CorrectionRound, Flag, FlagDecision, FlagStatus, RoundStatus

Action = FlagDecision.Action
BULK_LIMIT = 500

# status a flag may be in before each action (withdrawn flags belong to appeals)
_ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    Action.CONFIRM: (FlagStatus.PENDING, FlagStatus.DISMISSED),
    Action.DISMISS: (FlagStatus.PENDING, FlagStatus.CONFIRMED),
    Action.ADJUST: (FlagStatus.PENDING, FlagStatus.CONFIRMED),
}
_STATUS_AFTER: dict[str, str] = {
    Action.CONFIRM: FlagStatus.CONFIRMED,
    Action.DISMISS: FlagStatus.DISMISSED,
    Action.ADJUST: FlagStatus.CONFIRMED,
}


class DecisionError(Exception):
    """A decision refused for a reason the user can fix or must know (message in Chinese)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RoundFrozen(DecisionError):
    """The round is published: the confirmed set can no longer change here."""


class DecisionConflict(DecisionError):
    """Someone else decided the flag first; `current_state` describes what they decided."""

    def __init__(self, current_state: dict[str, Any]) -> None:
        self.current_state = current_state
        who = current_state.get("decided_by") or _("未知")
        when = current_state.get("decided_at_display") or ""
        super().__init__(
            _("该纠偏记录已被 %(who)s 于 %(when)s 处理，当前状态为「%(status)s」。请刷新后查看最新结果再决定。")
            % {"who": who, "when": when, "status": current_state.get("status_display", "")}
        )


def current_state(flag: Flag) -> dict[str, Any]:
    """What a regulator needs to see on a conflict: status, limit, last decision (who, when)."""
    last = flag.decisions.select_related("actor").order_by("-at", "-id").first()
    decided_at = timezone.localtime(last.at) if last else None
    return {
        "flag_id": flag.pk,
        "status": flag.status,
        "status_display": flag.get_status_display(),
        "lock_version": flag.lock_version,
        "limit_price": str(flag.limit_price),
        "adjusted_limit_price": None if flag.adjusted_limit_price is None else str(flag.adjusted_limit_price),
        "decided_by": last.actor.get_username() if last else None,
        "decided_action": last.get_action_display() if last else None,
        "decided_at": decided_at.isoformat() if decided_at else None,
        "decided_at_display": decided_at.strftime("%Y-%m-%d %H:%M:%S") if decided_at else None,
        "reason": last.reason if last else "",
    }


def _clean_reason(reason: str, action: str) -> str:
    reason = (reason or "").strip()
    if action in (Action.DISMISS, Action.ADJUST) and not reason:
        label = FlagDecision.Action(action).label
        raise DecisionError(_("「%(action)s」必须填写理由。") % {"action": label})
    return reason


def _clean_limit(new_limit: Any, flag: Flag) -> Decimal:
    try:
        value = Decimal(str(new_limit)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        raise DecisionError(_("调整后限价「%(v)s」不是有效金额。") % {"v": new_limit}) from None
    if value <= 0:
        raise DecisionError(_("调整后限价必须大于 0。"))
    if value >= flag.target_price:
        raise DecisionError(
            _("调整后限价 %(v)s 不低于挂网价格 %(p)s，应选择「不予纠偏」。") % {"v": value, "p": flag.target_price}
        )
    return value


def _refusal_for(flag: Flag) -> DecisionError:
    if flag.round.status != RoundStatus.DRAFT:
        return RoundFrozen(
            _("批次「%(round)s」已公示（%(status)s），确认名单已冻结，后续变更请通过申诉处理。")
            % {"round": flag.round.title, "status": flag.round.get_status_display()}
        )
    return DecisionConflict(current_state(flag))


def _decide(
    flag_id: int,
    action: str,
    *,
    user: Any,
    expected_version: int,
    reason: str = "",
    new_limit: Any = None,
) -> Flag:
    """Apply one decision inside the caller's transaction. Raises DecisionError subclasses."""
    reason = _clean_reason(reason, action)
    flag = Flag.objects.get(pk=flag_id)
    # Lock the round row: a decision and a publication of the same round never interleave.
    flag.round = CorrectionRound.objects.select_for_update().get(pk=flag.round_id)
    if flag.round.status != RoundStatus.DRAFT or flag.lock_version != int(expected_version):
        raise _refusal_for(flag)
    if flag.status not in _ALLOWED_FROM[action]:
        raise DecisionError(
            _("当前状态「%(status)s」不能执行「%(action)s」。")
            % {"status": flag.get_status_display(), "action": FlagDecision.Action(action).label}
        )
    limit_after = _clean_limit(new_limit, flag) if action == Action.ADJUST else flag.adjusted_limit_price
    before = {"status": flag.status, "limit_price": str(flag.effective_limit_price), "lock_version": flag.lock_version}
    status_after = _STATUS_AFTER[action]
    updated = Flag.objects.filter(pk=flag_id, lock_version=flag.lock_version).update(
        status=status_after,
        adjusted_limit_price=limit_after,
        lock_version=F("lock_version") + 1,
        updated_at=timezone.now(),
    )
    if updated != 1:
        flag.refresh_from_db()
        raise _refusal_for(flag)
    limit_before = flag.effective_limit_price
    flag.refresh_from_db()
    FlagDecision.objects.create(
        flag=flag,
        action=action,
        actor=user,
        status_before=before["status"],
        status_after=status_after,
        limit_before=limit_before,
        limit_after=flag.effective_limit_price,
        reason=reason,
    )
    record(
        actor=user,
        action=f"flag.{action}",
        obj=flag,
        before=before,
        after={
            "status": flag.status,
            "limit_price": str(flag.effective_limit_price),
            "lock_version": flag.lock_version,
        },
        reason=reason,
    )
    return flag


def confirm_flag(flag_id: int, *, user: Any, expected_version: int, reason: str = "") -> Flag:
    """确认纠偏: the flag stands with its (possibly adjusted) limit price."""
    with transaction.atomic():
        return _decide(flag_id, Action.CONFIRM, user=user, expected_version=expected_version, reason=reason)


def dismiss_flag(flag_id: int, *, user: Any, expected_version: int, reason: str) -> Flag:
    """不予纠偏: the flag is dropped; a reason is required."""
    with transaction.atomic():
        return _decide(flag_id, Action.DISMISS, user=user, expected_version=expected_version, reason=reason)


def adjust_limit(flag_id: int, *, user: Any, expected_version: int, new_limit: Decimal, reason: str) -> Flag:
    """调整限价: confirm the flag with a different limit price; a reason is required."""
    with transaction.atomic():
        return _decide(
            flag_id, Action.ADJUST, user=user, expected_version=expected_version, reason=reason, new_limit=new_limit
        )


def decide(
    flag_id: int,
    action: str,
    *,
    user: Any,
    expected_version: int,
    reason: str = "",
    new_limit: Any = None,
) -> Flag:
    """Dispatch by action code (confirm / dismiss / adjust), as posted by the page and the API."""
    if action == Action.CONFIRM:
        return confirm_flag(flag_id, user=user, expected_version=expected_version, reason=reason)
    if action == Action.DISMISS:
        return dismiss_flag(flag_id, user=user, expected_version=expected_version, reason=reason)
    if action == Action.ADJUST:
        return adjust_limit(flag_id, user=user, expected_version=expected_version, new_limit=new_limit, reason=reason)
    raise DecisionError(_("未知的审核操作「%(a)s」。") % {"a": action})


@dataclass
class BulkResult:
    """Outcome of a bulk decision: ids done, ids skipped with the reason (conflict, wrong state…)."""

    done: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


def bulk_decide(
    flag_ids: Iterable[int],
    action: str,
    *,
    user: Any,
    reason: str = "",
    expected_versions: dict[int, int] | None = None,
) -> BulkResult:
    """Confirm or dismiss many flags in one transaction, each with its own optimistic check.

    `expected_versions` (flag id → lock_version as displayed) makes a flag changed by someone else
    since the page was loaded be skipped rather than overwritten. Flags already in the target
    state are skipped. A frozen round refuses the whole batch.
    """
    if action not in (Action.CONFIRM, Action.DISMISS):
        raise DecisionError(_("批量操作只支持「确认纠偏」和「不予纠偏」。"))
    reason = _clean_reason(reason, action)
    ids = sorted({int(i) for i in flag_ids})
    if not ids:
        raise DecisionError(_("请至少选择一条纠偏记录。"))
    if len(ids) > BULK_LIMIT:
        raise DecisionError(_("一次最多批量处理 %(n)d 条。") % {"n": BULK_LIMIT})
    result = BulkResult()
    with transaction.atomic():
        flags = list(Flag.objects.filter(pk__in=ids).only("id", "status", "lock_version", "round_id"))
        found = {f.pk: f for f in flags}
        rounds = {
            r.pk: r
            for r in CorrectionRound.objects.select_for_update()
            .filter(pk__in={f.round_id for f in flags})
            .order_by("pk")
        }
        for f in flags:
            f.round = rounds[f.round_id]
        for flag_id in ids:
            flag = found.get(flag_id)
            if flag is None:
                result.skipped[flag_id] = _("不存在")
                continue
            if flag.round.status != RoundStatus.DRAFT:
                raise _refusal_for(flag)
            version = flag.lock_version
            if expected_versions and flag_id in expected_versions:
                version = expected_versions[flag_id]
            if flag.status == _STATUS_AFTER[action] and version == flag.lock_version:
                result.skipped[flag_id] = _("已是该状态")
                continue
            try:
                with transaction.atomic():
                    _decide(flag_id, action, user=user, expected_version=version, reason=reason)
            except DecisionError as exc:
                result.skipped[flag_id] = exc.message
                continue
            result.done.append(flag_id)
    return result
