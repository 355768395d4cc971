"""Appeal services (申诉): one function per workflow transition. Each runs in one transaction,
writes an AppealEvent and an audit event, and sends notifications only after commit."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from jobs.enqueue import enqueue
from pricing.models import CorrectionRound, Flag, FlagDecision, FlagStatus, RoundStatus
from pricing.review.repricing import LimitRefused, clean_new_limit, reprice_flag

from . import evidence as evidence_files
from .errors import (
    AppealConflict,
    AppealError,
    DeadlinePassed,
    NotAllowed,
    NotFound,
    VersionConflict,
)
from .models import Appeal, AppealEvent, AppealFlag, AppealStatus, Evidence, Grounds
from .workflow import DECIDED, check_transition, deadline_passed

OUTCOMES = {
    "upheld": AppealStatus.UPHELD,
    "partial": AppealStatus.PARTIAL,
    "accepted": AppealStatus.ACCEPTED,
}


# ---------------------------------------------------------------- helpers


def snapshot(appeal: Appeal) -> dict[str, Any]:
    """The appeal's state as JSON (audit before/after, 409 bodies)."""
    return {
        "id": appeal.pk,
        "status": appeal.status,
        "status_display": appeal.get_status_display(),
        "grounds": appeal.grounds,
        "statement": appeal.statement,
        "proposed_price": str(appeal.proposed_price) if appeal.proposed_price is not None else None,
        "new_limit_price": str(appeal.new_limit_price) if appeal.new_limit_price is not None else None,
        "decision_reason": appeal.decision_reason,
        "decided_by": appeal.decided_by.get_username() if appeal.decided_by_id else None,
        "lock_version": appeal.lock_version,
    }


def _require_manufacturer(user: Any) -> None:
    if not (user and user.is_authenticated and user.is_manufacturer and user.company_id):
        raise NotAllowed(_("只有生产企业用户可以提交申诉。"))


def _require_staff(user: Any) -> None:
    if not (user and user.is_authenticated and user.is_regulator):
        raise NotAllowed(_("只有监管人员可以处理申诉。"))


def _lock_round(round_id: int) -> CorrectionRound:
    """Lock the round row so that closing the window and submitting are serialised."""
    try:
        return CorrectionRound.objects.select_for_update(no_key=True).get(pk=round_id)
    except CorrectionRound.DoesNotExist:
        raise NotFound(_("纠偏批次不存在。")) from None


def _check_window_open(round_: CorrectionRound) -> None:
    """Refuse unless the round is in its appeal window. The clock is the server's, read here,
    inside the caller's transaction (never a value sent by the client)."""
    if round_.status != RoundStatus.PUBLISHED or deadline_passed(round_.appeal_deadline, timezone.now()):
        deadline = timezone.localtime(round_.appeal_deadline) if round_.appeal_deadline else None
        raise DeadlinePassed(
            _("申诉期已于 %(deadline)s 截止，不能再提交或修改申诉。")
            % {"deadline": f"{deadline:%Y-%m-%d %H:%M:%S}" if deadline else _("（未设置）")}
        )


def _lock_appeal(appeal_id: Any, user: Any) -> Appeal:
    """Lock the appeal row; another company's appeal is reported as not found."""
    qs = Appeal.objects.select_for_update().filter(pk=appeal_id)
    if not user.is_regulator:
        qs = qs.filter(company_id=user.company_id)
    appeal = qs.first()
    if appeal is None:
        raise NotFound(_("申诉不存在。"))
    return appeal


def _check_version(appeal: Appeal, expected_version: Any) -> None:
    if expected_version is not None:
        try:
            expected_version = int(expected_version)
        except (TypeError, ValueError):
            raise AppealError(_("版本号无效，请刷新页面后重试。")) from None
    if expected_version is None or expected_version != appeal.lock_version:
        raise VersionConflict(
            _("该申诉已被他人修改（当前状态：%(status)s），请刷新后重试。") % {"status": appeal.get_status_display()},
            current=snapshot(appeal),
        )


def _event(appeal: Appeal, user: Any, from_status: str, reason: str = "") -> None:
    AppealEvent.objects.create(
        appeal=appeal, actor=user, from_status=from_status, to_status=appeal.status, reason=reason
    )


def _clean_price(value: Any, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        price = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise AppealError(_("%(field)s必须是数字。") % {"field": field}) from None
    if price <= 0:
        raise AppealError(_("%(field)s必须大于 0。") % {"field": field})
    return price


def _clean_text(grounds: str, statement: str) -> tuple[str, str]:
    if grounds not in Grounds.values:
        raise AppealError(_("请选择申诉理由。"))
    statement = (statement or "").strip()
    if not statement:
        raise AppealError(_("请填写申诉说明。"))
    return grounds, statement


def _transition(appeal: Appeal, to_status: str) -> str:
    check_transition(appeal.status, to_status)
    before = appeal.status
    appeal.status = to_status
    appeal.lock_version += 1
    return before


# ---------------------------------------------------------------- manufacturer transitions


def _flag_key(key: Any) -> int:
    text = str(key).strip()
    if not text.isdigit() or len(text) > 18:
        raise AppealError(_("纠偏记录编号「%(k)s」无效。") % {"k": key})
    return int(text)


def _clean_proposed(prices: dict[Any, Any] | None, flags: list[Flag]) -> dict[int, Decimal | None]:
    """Proposed price per flag (建议价格): optional, > 0 and below the flag's listed price."""
    out: dict[int, Decimal | None] = {}
    by_id = {f.pk: f for f in flags}
    for key, value in (prices or {}).items():
        flag = by_id.get(_flag_key(key))
        if flag is None:
            continue
        price = _clean_price(value, _("建议价格"))
        if price is not None and price >= flag.target_price:
            raise AppealError(
                _("挂网编号 %(code)s：建议价格 %(v)s 应低于挂网价格 %(p)s。")
                % {"code": flag.listing.listing_code, "v": price, "p": flag.target_price}
            )
        out[flag.pk] = price
    return out


def create_draft(
    *,
    user: Any,
    round_id: int,
    flag_ids: list[int],
    grounds: str,
    statement: str,
    proposed_price: Any = None,
    proposed_prices: dict[Any, Any] | None = None,
) -> Appeal:
    """Create a draft appeal (申诉草稿) covering one or more listings of one published round.

    An appeal is per listing: every confirmed flag of each chosen flag's listing comes with it (the
    binding limit is the listing's, so are its reasons). Every flag must belong to the user's
    company and be in that round; a flag can be covered by one active appeal only (DB partial
    unique constraint) → AppealConflict (409). `proposed_prices` is flag id → 建议价格.
    """
    _require_manufacturer(user)
    grounds, statement = _clean_text(grounds, statement)
    price = _clean_price(proposed_price, _("建议价格"))
    ids = sorted({int(i) for i in flag_ids or []})
    if not ids:
        raise AppealError(_("请至少选择一条纠偏记录。"))
    with transaction.atomic():
        round_ = _lock_round(round_id)
        if round_.status != RoundStatus.PUBLISHED:
            raise NotFound(_("该批次不在公示期。"))
        _check_window_open(round_)
        chosen = list(Flag.objects.filter(pk__in=ids, manufacturer_id=user.company_id, round_id=round_.pk))
        if len(chosen) != len(ids):
            raise NotFound(_("所选纠偏记录不存在或不属于本企业本批次。"))
        if any(f.status != FlagStatus.CONFIRMED for f in chosen):
            raise AppealError(_("只能对已确认纠偏的记录提出申诉。"))
        flags = list(
            Flag.objects.select_related("listing")
            .filter(round_id=round_.pk, listing_id__in={f.listing_id for f in chosen}, status=FlagStatus.CONFIRMED)
            .filter(manufacturer_id=user.company_id)
            .order_by("listing_id", "id")
        )
        taken = AppealFlag.objects.filter(flag__in=flags, active=True).values_list(
            "flag__listing__listing_code", flat=True
        )
        if taken:
            raise AppealConflict(_("挂网编号 %(codes)s 已有进行中的申诉。") % {"codes": "、".join(sorted(set(taken)))})
        per_flag = _clean_proposed(proposed_prices, flags)
        appeal = Appeal.objects.create(
            round=round_,
            company_id=user.company_id,
            grounds=grounds,
            statement=statement,
            proposed_price=price,
            created_by=user,
        )
        try:
            with transaction.atomic():
                AppealFlag.objects.bulk_create(
                    [AppealFlag(appeal=appeal, flag=f, proposed_price=per_flag.get(f.pk)) for f in flags]
                )
        except IntegrityError:
            raise AppealConflict(_("所选纠偏记录已有进行中的申诉（可能刚刚由同事提交）。")) from None
        _event(appeal, user, "")
        record(
            actor=user,
            action="appeal.create",
            obj=appeal,
            after={
                **snapshot(appeal),
                "flags": [f.pk for f in flags],
                "proposed": {str(k): str(v) for k, v in per_flag.items() if v is not None},
            },
        )
    return appeal


def update_draft(
    appeal_id: Any,
    *,
    user: Any,
    grounds: str,
    statement: str,
    proposed_price: Any = None,
    expected_version: Any = None,
    proposed_prices: dict[Any, Any] | None = None,
) -> Appeal:
    """Edit a draft's grounds, statement and proposed prices (overall and per flag)."""
    _require_manufacturer(user)
    grounds, statement = _clean_text(grounds, statement)
    price = _clean_price(proposed_price, _("建议价格"))
    with transaction.atomic():
        round_id = _appeal_round_id(appeal_id, user)
        round_ = _lock_round(round_id)
        appeal = _lock_appeal(appeal_id, user)
        if appeal.status != AppealStatus.DRAFT:
            raise AppealError(_("只能修改草稿状态的申诉。"))
        _check_window_open(round_)
        if expected_version is not None:
            _check_version(appeal, expected_version)
        before = snapshot(appeal)
        if proposed_prices is not None:
            links = {link.flag_id: link for link in appeal.links.select_related("flag__listing")}
            per_flag = _clean_proposed(proposed_prices, [link.flag for link in links.values()])
            for flag_id, value in per_flag.items():
                AppealFlag.objects.filter(pk=links[flag_id].pk).update(proposed_price=value)
        appeal.grounds, appeal.statement, appeal.proposed_price = grounds, statement, price
        appeal.lock_version += 1
        appeal.save(update_fields=["grounds", "statement", "proposed_price", "lock_version"])
        record(actor=user, action="appeal.update", obj=appeal, before=before, after=snapshot(appeal))
    return appeal


def _appeal_round_id(appeal_id: Any, user: Any) -> int:
    qs = Appeal.objects.filter(pk=appeal_id)
    if not user.is_regulator:
        qs = qs.filter(company_id=user.company_id)
    round_id = qs.values_list("round_id", flat=True).first()
    if round_id is None:
        raise NotFound(_("申诉不存在。"))
    return round_id


def add_evidence(appeal_id: Any, *, user: Any, uploaded_file: Any) -> Evidence:
    """Validate (type from content, size) and store an evidence file on a draft appeal."""
    _require_manufacturer(user)
    name = getattr(uploaded_file, "name", "") or "evidence"
    data = evidence_files.read_upload(uploaded_file, name, getattr(uploaded_file, "size", None))
    kind = evidence_files.detect_type(data, name)
    with transaction.atomic():
        round_ = _lock_round(_appeal_round_id(appeal_id, user))
        appeal = _lock_appeal(appeal_id, user)
        if appeal.status != AppealStatus.DRAFT:
            raise AppealError(_("申诉提交后不能再上传证据。"))
        _check_window_open(round_)
        stored = evidence_files.store(data, kind)
        try:
            item = Evidence.objects.create(
                appeal=appeal,
                original_name=name[:255],
                content_type=kind.content_type,
                size=stored.size,
                sha256=stored.sha256,
                stored_path=stored.relative_path,
                uploaded_by=user,
            )
            record(
                actor=user,
                action="appeal.evidence_add",
                obj=appeal,
                after={"evidence": str(item.pk), "name": item.original_name, "type": kind.kind, "size": stored.size},
            )
        except Exception:
            evidence_files.absolute_path(stored.relative_path).unlink(missing_ok=True)
            raise
    return item


def remove_evidence(appeal_id: Any, evidence_id: Any, *, user: Any) -> None:
    """Delete an evidence file from a draft (删除证据); the file goes with its row."""
    _require_manufacturer(user)
    with transaction.atomic():
        round_ = _lock_round(_appeal_round_id(appeal_id, user))
        appeal = _lock_appeal(appeal_id, user)
        if appeal.status != AppealStatus.DRAFT:
            raise AppealError(_("申诉提交后不能再删除证据。"))
        _check_window_open(round_)
        item = Evidence.objects.filter(appeal=appeal, pk=evidence_id).first()
        if item is None:
            raise NotFound(_("证据文件不存在。"))
        path = item.stored_path
        record(
            actor=user,
            action="appeal.evidence_remove",
            obj=appeal,
            before={"evidence": str(item.pk), "name": item.original_name, "size": item.size},
        )
        item.delete()
        transaction.on_commit(lambda: evidence_files.absolute_path(path).unlink(missing_ok=True))


def submit(appeal_id: Any, *, user: Any, expected_version: Any) -> Appeal:
    """Submit a draft (提交申诉). Final; refused after the deadline, checked here on the server
    with the round row locked; refused without evidence when the notice demands it."""
    _require_manufacturer(user)
    with transaction.atomic():
        round_ = _lock_round(_appeal_round_id(appeal_id, user))
        appeal = _lock_appeal(appeal_id, user)
        _check_window_open(round_)
        _check_version(appeal, expected_version)
        if round_.evidence_required and appeal.status == AppealStatus.DRAFT and not appeal.evidence.exists():
            raise AppealError(_("本批次公示要求申诉附证明材料：请先上传至少一份证据文件，再提交申诉。"))
        before = _transition(appeal, AppealStatus.SUBMITTED)
        appeal.submitted_at = timezone.now()
        appeal.save(update_fields=["status", "submitted_at", "lock_version"])
        _event(appeal, user, before)
        record(actor=user, action="appeal.submit", obj=appeal, before={"status": before}, after=snapshot(appeal))
    return appeal


def withdraw(appeal_id: Any, *, user: Any, expected_version: Any, reason: str = "") -> Appeal:
    """Withdraw a draft or a submitted appeal (撤回申诉), until the deadline. The flags become free
    for a new appeal."""
    _require_manufacturer(user)
    with transaction.atomic():
        round_ = _lock_round(_appeal_round_id(appeal_id, user))
        appeal = _lock_appeal(appeal_id, user)
        _check_window_open(round_)
        _check_version(appeal, expected_version)
        before = _transition(appeal, AppealStatus.WITHDRAWN)
        appeal.save(update_fields=["status", "lock_version"])
        appeal.links.update(active=False)
        _event(appeal, user, before, reason)
        record(
            actor=user,
            action="appeal.withdraw",
            obj=appeal,
            before={"status": before},
            after=snapshot(appeal),
            reason=reason,
        )
    return appeal


def expire_draft(appeal: Appeal, *, user: Any) -> None:
    """Inside close_appeal_window's transaction: a draft left at the deadline is withdrawn."""
    before = _transition(appeal, AppealStatus.WITHDRAWN)
    appeal.save(update_fields=["status", "lock_version"])
    appeal.links.update(active=False)
    reason = _("申诉期截止，未提交的草稿自动失效")
    _event(appeal, user, before, reason)
    record(
        actor=user, action="appeal.expire", obj=appeal, before={"status": before}, after=snapshot(appeal), reason=reason
    )


# ---------------------------------------------------------------- regulator transition


def _clean_outcome(outcome: str, reason: str) -> tuple[str, str]:
    if outcome not in OUTCOMES:
        raise AppealError(_("请选择处理结果：维持、部分采纳或采纳。"))
    reason = (reason or "").strip()
    if not reason:
        raise AppealError(_("维持、部分采纳或采纳申诉都必须填写理由。"))
    return OUTCOMES[outcome], reason


def _partial_limits(
    flags: list[Flag], new_limit_price: Any, new_limits: dict[Any, Any] | None
) -> tuple[Decimal | None, dict[int, Decimal]]:
    """部分采纳: the new limit of every flag (one for all, or per flag), each 0 < L < its listed price."""
    per_flag = {_flag_key(k): v for k, v in (new_limits or {}).items() if v not in (None, "")}
    common = None if new_limit_price in (None, "") else new_limit_price
    out: dict[int, Decimal] = {}
    for flag in flags:
        value = per_flag.get(flag.pk, common)
        if value is None:
            raise AppealError(
                _("部分采纳时必须填写新限价（挂网编号 %(code)s）。") % {"code": flag.listing.listing_code}
            )
        try:
            out[flag.pk] = clean_new_limit(value, flag.target_price)
        except LimitRefused as exc:
            raise AppealError(
                _("挂网编号 %(code)s：%(msg)s") % {"code": flag.listing.listing_code, "msg": exc.message}
            ) from None
    shared = set(out.values())
    return (shared.pop() if len(shared) == 1 else None), out


def _outcome_limits(
    appeal: Appeal, to_status: str, new_limit_price: Any, new_limits: dict[Any, Any] | None
) -> tuple[list[AppealFlag], Decimal | None, dict[int, Decimal | None]]:
    """The appeal's active flag links (locked) and, for 部分采纳, the validated new limits."""
    links = list(
        AppealFlag.objects.select_for_update()
        .select_related("flag__listing", "flag__round__rule_set")
        .filter(appeal=appeal, active=True)
        .order_by("flag_id")
    )
    if to_status != AppealStatus.PARTIAL:
        return links, None, {}
    price, limits = _partial_limits([link.flag for link in links], new_limit_price, new_limits)
    return links, price, limits


def decide(
    appeal_id: Any,
    *,
    user: Any,
    outcome: str,
    reason: str = "",
    new_limit_price: Any = None,
    expected_version: Any,
    new_limits: dict[Any, Any] | None = None,
) -> Appeal:
    """Decide a submitted appeal: 维持 upheld (limit unchanged), 部分采纳 partial (every flag gets its
    new limit — `new_limit_price` for all or `new_limits` per flag, each 0 < L < P — as adjusted
    limit, repriced, + an adjust FlagDecision), 采纳 accepted (flags withdrawn). A reason is
    required for every outcome. A stale `expected_version` → VersionConflict (409)."""
    _require_staff(user)
    to_status, reason = _clean_outcome(outcome, reason)
    with transaction.atomic():
        round_ = _lock_round(_appeal_round_id(appeal_id, user))
        appeal = _lock_appeal(appeal_id, user)
        _check_version(appeal, expected_version)
        if round_.status not in (RoundStatus.PUBLISHED, RoundStatus.CLOSED):
            raise AppealError(_("最终纠偏清单已发布，不能再处理申诉。"))
        if appeal.status in DECIDED:
            raise AppealError(
                _("该申诉已处理为「%(s)s」，如需变更请使用「改判」并填写理由。") % {"s": appeal.get_status_display()}
            )
        check_transition(appeal.status, to_status)
        links, price, limits = _outcome_limits(appeal, to_status, new_limit_price, new_limits)
        before_state = snapshot(appeal)
        before = _transition(appeal, to_status)
        appeal.decided_by, appeal.decided_at = user, timezone.now()
        appeal.decision_reason, appeal.new_limit_price = reason, price
        appeal.save(
            update_fields=["status", "lock_version", "decided_by", "decided_at", "decision_reason", "new_limit_price"]
        )
        for link in links:
            link.prior_status, link.prior_adjusted_limit = link.flag.status, link.flag.adjusted_limit_price
            link.new_limit_price = limits.get(link.flag_id)
            link.save(update_fields=["prior_status", "prior_adjusted_limit", "new_limit_price"])
            _apply_outcome(link.flag, to_status, limits.get(link.flag_id), user, reason, appeal)
        _event(appeal, user, before, reason)
        record(
            actor=user,
            action=f"appeal.decide.{outcome}",
            obj=appeal,
            before=before_state,
            after={**snapshot(appeal), "new_limits": {str(k): str(v) for k, v in limits.items()}},
            reason=reason,
        )
        enqueue("email.decision", appeal.pk)  # ticket now, message after commit (jobs)
    return appeal


def revise_decision(
    appeal_id: Any,
    *,
    user: Any,
    outcome: str,
    reason: str,
    expected_version: Any,
    new_limit_price: Any = None,
    new_limits: dict[Any, Any] | None = None,
) -> Appeal:
    """改判: change a decided appeal's outcome, with a reason, before the final list is published.

    Each flag first returns to its state before the appeal was decided (kept on the link), then
    the new outcome applies. Recorded as its own AppealEvent (kind "revise"), FlagDecisions
    ("revise") and audit events ("appeal.revise")."""
    _require_staff(user)
    to_status, reason = _clean_outcome(outcome, reason)
    with transaction.atomic():
        round_ = _lock_round(_appeal_round_id(appeal_id, user))
        appeal = _lock_appeal(appeal_id, user)
        _check_version(appeal, expected_version)
        if round_.status not in (RoundStatus.PUBLISHED, RoundStatus.CLOSED):
            raise AppealError(_("最终纠偏清单已发布，不能再改判。"))
        if appeal.status not in DECIDED:
            raise AppealError(_("只有已处理的申诉可以改判（当前：%(s)s）。") % {"s": appeal.get_status_display()})
        links, price, limits = _outcome_limits(appeal, to_status, new_limit_price, new_limits)
        unchanged = to_status == appeal.status and all(
            link.new_limit_price == limits.get(link.flag_id) for link in links
        )
        if unchanged:
            raise AppealError(_("改判结果与当前处理结果相同，没有可改之处。"))
        before_state = snapshot(appeal)
        before = appeal.status
        appeal.status = to_status
        appeal.lock_version += 1
        appeal.decided_by, appeal.decided_at = user, timezone.now()
        appeal.decision_reason, appeal.new_limit_price = reason, price
        appeal.save(
            update_fields=["status", "lock_version", "decided_by", "decided_at", "decision_reason", "new_limit_price"]
        )
        note = _("申诉#%(id)s 改判：%(reason)s") % {"id": appeal.pk, "reason": reason}
        for link in links:
            flag = link.flag
            status_before, limit_before = flag.status, flag.effective_limit_price
            flag.status, flag.adjusted_limit_price = (
                link.prior_status or FlagStatus.CONFIRMED,
                link.prior_adjusted_limit,
            )
            if to_status == AppealStatus.PARTIAL:
                flag.adjusted_limit_price = limits[flag.pk]
            elif to_status == AppealStatus.ACCEPTED:
                flag.status = FlagStatus.WITHDRAWN
            reprice_flag(flag)
            flag.lock_version += 1
            flag.save(
                update_fields=[
                    "status",
                    "adjusted_limit_price",
                    "ratio",
                    "overcharge",
                    "severity",
                    "lock_version",
                    "updated_at",
                ]
            )
            link.new_limit_price = limits.get(flag.pk)
            link.save(update_fields=["new_limit_price"])
            _flag_event(flag, FlagDecision.Action.REVISE, user, status_before, limit_before, note)
        AppealEvent.objects.create(
            appeal=appeal, actor=user, from_status=before, to_status=appeal.status, reason=reason, kind="revise"
        )
        record(
            actor=user,
            action="appeal.revise",
            obj=appeal,
            before=before_state,
            after={**snapshot(appeal), "new_limits": {str(k): str(v) for k, v in limits.items()}},
            reason=reason,
        )
        from .tasks import send_decision_email

        send_decision_email.delay_on_commit(appeal.pk)
    return appeal


def _flag_event(
    flag: Flag, action: str, user: Any, status_before: str, limit_before: Decimal, note: str, audit_action: str = ""
) -> None:
    """One FlagDecision and one audit event for a flag changed by an appeal outcome or its 改判."""
    FlagDecision.objects.create(
        flag=flag,
        action=action,
        actor=user,
        status_before=status_before,
        status_after=flag.status,
        limit_before=limit_before,
        limit_after=flag.effective_limit_price,
        reason=note,
    )
    record(
        actor=user,
        action=audit_action
        or (f"flag.appeal_{action}" if action == FlagDecision.Action.REVISE else f"flag.appeal_{flag.status}"),
        obj=flag,
        before={"status": status_before, "limit": str(limit_before)},
        after={"status": flag.status, "limit": str(flag.effective_limit_price), "ratio": str(flag.ratio)},
        reason=note,
    )


def _apply_outcome(flag: Flag, to_status: str, price: Decimal | None, user: Any, reason: str, appeal: Appeal) -> None:
    if to_status == AppealStatus.UPHELD:
        return
    limit_before, status_before = flag.effective_limit_price, flag.status
    note = _("申诉#%(id)s：%(reason)s") % {"id": appeal.pk, "reason": reason}
    if to_status == AppealStatus.PARTIAL:
        flag.adjusted_limit_price = price
        action = FlagDecision.Action.ADJUST
    else:
        flag.status = FlagStatus.WITHDRAWN
        action = FlagDecision.Action.DISMISS
    reprice_flag(flag)
    flag.lock_version += 1
    flag.save(
        update_fields=[
            "adjusted_limit_price",
            "status",
            "ratio",
            "overcharge",
            "severity",
            "lock_version",
            "updated_at",
        ]
    )
    _flag_event(flag, action, user, status_before, limit_before, note, audit_action=f"flag.appeal_{to_status}")


def is_decided(appeal: Appeal) -> bool:
    return appeal.status in DECIDED
