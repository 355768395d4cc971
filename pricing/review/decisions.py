"""Regulator decisions on flags (审核决定): confirm, dismiss, adjust the limit price.

Every decision is one transaction: a conditional UPDATE on the flag's `lock_version` (optimistic
locking), one FlagDecision row and one audit event. Two regulators deciding the same flag at the
same version: the first wins, the second gets `DecisionConflict` with the flag's current state.
Decisions are only possible while the round is a draft; after publication the confirmed set is
frozen and later changes go through appeals.

Invariants (issue 9), stated here and nowhere else:
- 确认纠偏 / 不予纠偏 / 调整限价 apply to 待审核 flags only. A decided flag changes only through
  `revise` (改判), which needs a reason and is recorded as its own FlagDecision ("revise") and audit
  event ("flag.revise"); bulk actions skip decided flags and say so.
- 不予纠偏, 调整限价 and 改判 need a reason.
- Every new limit is > 0 and < the listed price (`repricing.clean_new_limit`), and every change of a
  limit recomputes the flag's ratio, overcharge and severity (`repricing.reprice_flag`).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record, record_many
from pricing.models import CorrectionRound, Flag, FlagDecision, FlagStatus, RoundStatus
from pricing.review.repricing import LimitRefused, clean_new_limit, reprice_flag

Action = FlagDecision.Action
BULK_LIMIT = 500  # an explicit list of ids (page selection, API)
SELECT_ALL_LIMIT = 20_000  # "select all N matching the filter"
_CHUNK = 2000

# status a flag may be in before each action (withdrawn flags belong to appeals)
_ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    Action.CONFIRM: (FlagStatus.PENDING,),
    Action.DISMISS: (FlagStatus.PENDING,),
    Action.ADJUST: (FlagStatus.PENDING,),
}
# 改判: from a decided status to another decision (withdrawn flags belong to appeals)
_REVISABLE = (FlagStatus.CONFIRMED, FlagStatus.DISMISSED)
REASON_REQUIRED = (Action.DISMISS, Action.ADJUST, Action.REVISE)
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


class AlreadyDecided(DecisionError):
    """The flag is decided; only an explicit 改判 with a reason may change it."""


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
    if action in REASON_REQUIRED and not reason:
        label = FlagDecision.Action(action).label
        raise DecisionError(_("「%(action)s」必须填写理由。") % {"action": label})
    return reason


def _clean_limit(new_limit: Any, flag: Flag) -> Decimal:
    try:
        return clean_new_limit(new_limit, flag.target_price)
    except LimitRefused as exc:
        raise DecisionError(exc.message) from None


def _refusal_for(flag: Flag) -> DecisionError:
    if flag.round.status != RoundStatus.DRAFT:
        return RoundFrozen(
            _("批次「%(round)s」已公示（%(status)s），确认名单已冻结，后续变更请通过申诉处理。")
            % {"round": flag.round.title, "status": flag.round.get_status_display()}
        )
    return DecisionConflict(current_state(flag))


def _lock_flag(flag_id: int, expected_version: int) -> Flag:
    """The flag, with its round row locked: a decision and a publication never interleave."""
    flag = Flag.objects.get(pk=flag_id)
    flag.round = CorrectionRound.objects.select_for_update().get(pk=flag.round_id)
    if flag.round.status != RoundStatus.DRAFT or flag.lock_version != int(expected_version):
        raise _refusal_for(flag)
    return flag


def _write(
    flag: Flag, action: str, *, user: Any, status_after: str, limit_after: Decimal | None, reason: str, detail: dict
) -> Flag:
    """Conditional UPDATE (status, limit and the repriced ratio/overcharge/severity), then one
    FlagDecision and one audit event."""
    before = {
        "status": flag.status,
        "limit_price": str(flag.effective_limit_price),
        "ratio": str(flag.ratio),
        "severity": flag.severity,
        "lock_version": flag.lock_version,
    }
    status_before, limit_before = flag.status, flag.effective_limit_price
    flag.adjusted_limit_price = limit_after
    reprice_flag(flag)
    updated = Flag.objects.filter(pk=flag.pk, lock_version=flag.lock_version).update(
        status=status_after,
        adjusted_limit_price=limit_after,
        ratio=flag.ratio,
        overcharge=flag.overcharge,
        severity=flag.severity,
        lock_version=F("lock_version") + 1,
        updated_at=timezone.now(),
    )
    if updated != 1:
        flag.refresh_from_db()
        raise _refusal_for(flag)
    flag.refresh_from_db()
    FlagDecision.objects.create(
        flag=flag,
        action=action,
        actor=user,
        status_before=status_before,
        status_after=flag.status,
        limit_before=limit_before,
        limit_after=flag.effective_limit_price,
        reason=reason,
    )
    after = {
        "status": flag.status,
        "limit_price": str(flag.effective_limit_price),
        "ratio": str(flag.ratio),
        "severity": flag.severity,
        "lock_version": flag.lock_version,
        **detail,
    }
    record(actor=user, action=f"flag.{action}", obj=flag, before=before, after=after, reason=reason)
    return flag


def _decide(
    flag_id: int,
    action: str,
    *,
    user: Any,
    expected_version: int,
    reason: str = "",
    new_limit: Any = None,
) -> Flag:
    """Apply one decision on a 待审核 flag inside the caller's transaction. Raises DecisionError subclasses."""
    reason = _clean_reason(reason, action)
    flag = _lock_flag(flag_id, expected_version)
    if flag.status in _REVISABLE:
        raise AlreadyDecided(
            _("该纠偏记录已审核为「%(status)s」，如需变更请使用「改判」并填写理由。")
            % {"status": flag.get_status_display()}
        )
    if flag.status not in _ALLOWED_FROM[action]:
        raise DecisionError(
            _("当前状态「%(status)s」不能执行「%(action)s」。")
            % {"status": flag.get_status_display(), "action": FlagDecision.Action(action).label}
        )
    limit_after = _clean_limit(new_limit, flag) if action == Action.ADJUST else flag.adjusted_limit_price
    return _write(
        flag, action, user=user, status_after=_STATUS_AFTER[action], limit_after=limit_after, reason=reason, detail={}
    )


def revise(
    flag_id: int,
    *,
    user: Any,
    expected_version: int,
    to_action: str,
    reason: str,
    new_limit: Any = None,
) -> Flag:
    """改判: change a decided flag (确认纠偏 / 不予纠偏) to another decision, with a reason.

    `to_action` is confirm (keep the current limit), dismiss, or adjust (a new limit, confirmed).
    Recorded as its own FlagDecision ("revise") and audit event ("flag.revise") naming both decisions."""
    reason = _clean_reason(reason, Action.REVISE)
    if to_action not in _STATUS_AFTER:
        raise DecisionError(_("改判结果只能是「确认纠偏」「不予纠偏」或「调整限价」。"))
    with transaction.atomic():
        flag = _lock_flag(flag_id, expected_version)
        if flag.status not in _REVISABLE:
            raise DecisionError(
                _("当前状态「%(status)s」不是已审核状态，请直接审核，无需改判。")
                % {"status": flag.get_status_display()}
            )
        status_after = _STATUS_AFTER[to_action]
        limit_after = _clean_limit(new_limit, flag) if to_action == Action.ADJUST else flag.adjusted_limit_price
        if status_after == flag.status and limit_after == flag.adjusted_limit_price:
            raise DecisionError(_("改判结果与当前审核结果相同，没有可改之处。"))
        detail = {"revised_from": flag.status, "revised_to": to_action}
        return _write(
            flag,
            Action.REVISE,
            user=user,
            status_after=status_after,
            limit_after=limit_after,
            reason=reason,
            detail=detail,
        )


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
    to_action: str = "",
) -> Flag:
    """Dispatch by action code (confirm / dismiss / adjust / revise + to_action), as posted by the
    page and the API."""
    if action == Action.CONFIRM:
        return confirm_flag(flag_id, user=user, expected_version=expected_version, reason=reason)
    if action == Action.DISMISS:
        return dismiss_flag(flag_id, user=user, expected_version=expected_version, reason=reason)
    if action == Action.ADJUST:
        return adjust_limit(flag_id, user=user, expected_version=expected_version, new_limit=new_limit, reason=reason)
    if action == Action.REVISE:
        return revise(
            flag_id,
            user=user,
            expected_version=expected_version,
            to_action=to_action,
            reason=reason,
            new_limit=new_limit,
        )
    raise DecisionError(_("未知的审核操作「%(a)s」。") % {"a": action})


@dataclass
class BulkResult:
    """Outcome of a bulk decision: ids done, ids skipped with the reason (decided, conflict…)."""

    done: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BulkPreview:
    """What a bulk action would do, shown in its confirmation: N pending change, M decided are skipped."""

    total: int
    pending: int
    decided: int
    by_status: dict[str, int]


def bulk_preview(flags: QuerySet[Flag]) -> BulkPreview:
    """Counts of a selection (ids or "all N matching the filter") by status, for the confirmation."""
    by_status = dict(flags.order_by().values("status").annotate(n=Count("id")).values_list("status", "n"))
    pending = by_status.get(FlagStatus.PENDING, 0)
    total = sum(by_status.values())
    return BulkPreview(total=total, pending=pending, decided=total - pending, by_status=by_status)


def _check_bulk(action: str, reason: str) -> str:
    if action not in (Action.CONFIRM, Action.DISMISS):
        raise DecisionError(_("批量操作只支持「确认纠偏」和「不予纠偏」。"))
    return _clean_reason(reason, action)


def bulk_decide(
    flag_ids: Iterable[int],
    action: str,
    *,
    user: Any,
    reason: str = "",
    expected_versions: dict[int, int] | None = None,
    limit: int = BULK_LIMIT,
) -> BulkResult:
    """Confirm or dismiss many 待审核 flags in one transaction; decided flags are skipped, never changed.

    `expected_versions` (flag id → lock_version as displayed) makes a flag changed by someone else
    since the page was loaded be skipped rather than overwritten. A frozen round refuses the batch.
    Set-based: one conditional UPDATE per chunk, FlagDecision and audit rows in bulk.
    """
    reason = _check_bulk(action, reason)
    ids = sorted({int(i) for i in flag_ids})
    if not ids:
        raise DecisionError(_("请至少选择一条纠偏记录。"))
    if len(ids) > limit:
        raise DecisionError(_("一次最多批量处理 %(n)d 条。") % {"n": limit})
    result = BulkResult()
    status_after = _STATUS_AFTER[action]
    labels = dict(FlagStatus.choices)
    with transaction.atomic():
        found: dict[int, tuple[str, int, int]] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            found.update(
                (pk, (st, lv, rid))
                for pk, st, lv, rid in Flag.objects.filter(pk__in=chunk).values_list(
                    "id", "status", "lock_version", "round_id"
                )
            )
        rounds = {
            r.pk: r
            for r in CorrectionRound.objects.select_for_update()
            .filter(pk__in={v[2] for v in found.values()})
            .order_by("pk")
        }
        for r in rounds.values():
            if r.status != RoundStatus.DRAFT:
                raise RoundFrozen(
                    _("批次「%(round)s」已公示（%(status)s），确认名单已冻结，后续变更请通过申诉处理。")
                    % {"round": r.title, "status": r.get_status_display()}
                )
        todo: list[int] = []
        for flag_id in ids:
            if flag_id not in found:
                result.skipped[flag_id] = _("不存在")
                continue
            status, version, _round = found[flag_id]
            expected = (expected_versions or {}).get(flag_id, version)
            if status != FlagStatus.PENDING:
                result.skipped[flag_id] = _("已审核为「%(s)s」，批量操作不改变已审核记录（如需变更请逐条改判）") % {
                    "s": labels.get(status, status)
                }
            elif expected != version:
                result.skipped[flag_id] = _("页面加载后已被他人修改，请刷新")
            else:
                todo.append(flag_id)
        now = timezone.now()
        for start in range(0, len(todo), _CHUNK):
            chunk = todo[start : start + _CHUNK]
            Flag.objects.filter(pk__in=chunk, status=FlagStatus.PENDING).update(
                status=status_after, lock_version=F("lock_version") + 1, updated_at=now
            )
        changed = []
        for start in range(0, len(todo), _CHUNK):
            changed += list(
                Flag.objects.filter(pk__in=todo[start : start + _CHUNK], status=status_after).values_list(
                    "id", "lock_version", "limit_price", "adjusted_limit_price"
                )
            )
        FlagDecision.objects.bulk_create(
            [
                FlagDecision(
                    flag_id=pk,
                    action=action,
                    actor=user,
                    status_before=FlagStatus.PENDING,
                    status_after=status_after,
                    limit_before=adj if adj is not None else lim,
                    limit_after=adj if adj is not None else lim,
                    reason=reason,
                )
                for pk, _v, lim, adj in changed
            ],
            batch_size=_CHUNK,
        )
        record_many(
            actor=user,
            action=f"flag.{action}",
            object_type=Flag._meta.label,
            items=[
                (
                    pk,
                    {"status": FlagStatus.PENDING, "lock_version": v - 1},
                    {"status": status_after, "lock_version": v, "bulk": True},
                )
                for pk, v, _lim, _adj in changed
            ],
            reason=reason,
        )
        result.done = sorted(pk for pk, *_rest in changed)
    return result
