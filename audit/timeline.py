"""审计时间线: the audit trail as regulators read it — Chinese labels, filterable by round,
company, listing and user, exportable as CSV.

Audit rows name their object (object_type + object_id); the filters map a round / company /
listing to the objects that belong to it (the round itself, its flags, appeals, final lists).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent

ACTION_LABELS: dict[str, Any] = {
    "flag.confirm": _("确认纠偏"),
    "flag.dismiss": _("不予纠偏"),
    "flag.adjust": _("调整限价"),
    "flag.revise": _("改判"),
    "flag.appeal_partial": _("申诉部分采纳：调整限价"),
    "flag.appeal_accepted": _("申诉采纳：撤销纠偏"),
    "flag.appeal_revise": _("申诉改判：纠偏记录变更"),
    "appeal.create": _("创建申诉草稿"),
    "appeal.update": _("修改申诉草稿"),
    "appeal.evidence_add": _("上传证据"),
    "appeal.evidence_remove": _("删除证据"),
    "appeal.submit": _("提交申诉"),
    "appeal.withdraw": _("撤回申诉"),
    "appeal.expire": _("草稿随申诉截止失效"),
    "appeal.decide.upheld": _("申诉处理：维持"),
    "appeal.decide.partial": _("申诉处理：部分采纳"),
    "appeal.decide.accepted": _("申诉处理：采纳"),
    "appeal.revise": _("申诉改判"),
    "appeal.reminder_3d": _("截止前 3 天提醒"),
    "appeal.reminder_1d": _("截止前 1 天提醒"),
    "evidence.download": _("下载证据"),
    "round.create": _("创建纠偏批次"),
    "round.detect": _("完成纠偏计算"),
    "round.publish": _("发布公示"),
    "round.close_appeals": _("关闭申诉期"),
    "round.publish_final": _("发布最终纠偏清单"),
    "round.export": _("导出纠偏清单"),
    "round.export_requested": _("申请后台导出"),
    "final_list.export_csv": _("导出最终清单 CSV"),
    "final_list.export_xlsx": _("导出最终清单 XLSX"),
    "final_list.print": _("打印最终清单"),
    "company_list.export_xlsx": _("企业导出本企业清单"),
    "audit.export": _("导出审计日志"),
    "catalogue.upload": _("上传挂网目录"),
    "catalogue.import": _("导入挂网目录"),
    "catalogue.import_failed": _("目录导入失败"),
    "catalogue.import_rejected": _("目录导入被拒"),
    "reference_prices.import": _("导入省际价格"),
    "reference_prices.import_rejected": _("省际价格导入被拒"),
    "ruleset.create_version": _("新建规则集版本"),
}
OBJECT_LABELS: dict[str, Any] = {
    "pricing.Flag": _("纠偏记录"),
    "pricing.CorrectionRound": _("纠偏批次"),
    "pricing.FinalList": _("最终纠偏清单"),
    "pricing.RuleSet": _("规则集"),
    "appeals.Appeal": _("申诉"),
    "catalogue.CatalogueVersion": _("挂网目录"),
    "catalogue.ReferencePriceSet": _("省际价格"),
}
ROLE_LABELS: dict[str, Any] = {"regulator": _("监管人员"), "admin": _("管理员"), "manufacturer": _("生产企业")}
CSV_LIMIT = 100_000


def _status_labels() -> dict[str, str]:
    from appeals.models import AppealStatus
    from pricing.models import FlagStatus, RoundStatus

    labels: dict[str, str] = {}
    for choices in (RoundStatus, AppealStatus, FlagStatus):  # flag labels win on shared codes
        labels.update({k: str(v) for k, v in choices.choices})
    return labels


FIELD_LABELS: dict[str, Any] = {
    "status": _("状态"),
    "limit_price": _("限价"),
    "limit": _("限价"),
    "ratio": _("价差倍数"),
    "severity": _("风险等级"),
    "appeal_deadline": _("申诉截止"),
    "confirmed": _("确认纠偏"),
    "companies": _("企业数"),
    "deferred": _("转下一批次"),
    "entries": _("清单条目"),
    "rows": _("行数"),
    "format": _("格式"),
    "new_limit_price": _("新限价"),
    "proposed_price": _("建议价格"),
    "expired_drafts": _("失效草稿"),
    "early": _("提前截止"),
    "version": _("版本"),
    "name": _("文件名"),
}


def describe_change(before: dict | None, after: dict | None) -> str:
    """「状态：待审核 → 确认纠偏；限价：20.57 → 15.00」 — the fields a reader cares about, in Chinese."""
    statuses = _status_labels()
    before, after = before or {}, after or {}
    parts = []
    for key, label in FIELD_LABELS.items():
        if key not in before and key not in after:
            continue
        old, new = before.get(key), after.get(key)
        if key == "status":
            old, new = statuses.get(str(old), old), statuses.get(str(new), new)
        if isinstance(new, bool) or isinstance(old, bool):
            old = None if old is None else (_("是") if old else _("否"))
            new = None if new is None else (_("是") if new else _("否"))
        if old is not None and new is not None and old != new:
            parts.append(f"{label}：{old} → {new}")
        elif new is not None and old is None:
            parts.append(f"{label}：{new}")
    return "；".join(parts)


@dataclass(frozen=True)
class TimelineFilter:
    round_id: int | None = None
    company_id: int | None = None
    listing_code: str = ""
    user: str = ""
    action: str = ""


def _ids(qs: QuerySet) -> QuerySet:
    return qs.annotate(_sid=Cast("pk", CharField())).values("_sid")


def _object_q(object_type: str, qs: QuerySet) -> Q:
    return Q(object_type=object_type, object_id__in=_ids(qs))


def timeline(f: TimelineFilter) -> QuerySet[AuditEvent]:
    """Audit events in time order (oldest first), filtered; every filter narrows."""
    from appeals.models import Appeal
    from pricing.models import CorrectionRound, FinalList, Flag

    qs = AuditEvent.objects.all()
    if f.round_id:
        qs = qs.filter(
            _object_q("pricing.CorrectionRound", CorrectionRound.objects.filter(pk=f.round_id))
            | _object_q("pricing.Flag", Flag.objects.filter(round_id=f.round_id))
            | _object_q("appeals.Appeal", Appeal.objects.filter(round_id=f.round_id))
            | _object_q("pricing.FinalList", FinalList.objects.filter(round_id=f.round_id))
        )
    if f.company_id:
        qs = qs.filter(
            Q(company_id=f.company_id)
            | _object_q("pricing.Flag", Flag.objects.filter(manufacturer_id=f.company_id))
            | _object_q("appeals.Appeal", Appeal.objects.filter(company_id=f.company_id))
        )
    if f.listing_code:
        flags = Flag.objects.filter(listing__listing_code=f.listing_code.strip())
        qs = qs.filter(
            _object_q("pricing.Flag", flags)
            | _object_q("appeals.Appeal", Appeal.objects.filter(links__flag__in=flags).distinct())
        )
    if f.user:
        qs = qs.filter(actor_name__icontains=f.user.strip())
    if f.action:
        qs = qs.filter(action__startswith=f.action)
    return qs.order_by("at", "id")


def rows(events: QuerySet[AuditEvent]) -> Iterator[dict[str, Any]]:
    """Display rows: time (Asia/Shanghai), who, role, what, object, change, reason."""
    return rows_for(events.iterator(chunk_size=2000))


def rows_for(events: Any) -> Iterator[dict[str, Any]]:
    for e in events:
        yield {
            "event": e,
            "at": timezone.localtime(e.at),
            "actor": e.actor_name or _("系统"),
            "role": ROLE_LABELS.get(e.role, e.role or _("系统")),
            "action": ACTION_LABELS.get(e.action, e.action),
            "object": f"{OBJECT_LABELS.get(e.object_type, e.object_type)} #{e.object_id}",
            "change": describe_change(e.before, e.after),
            "reason": e.reason,
        }


HEADERS = [_("时间"), _("操作人"), _("角色"), _("操作"), _("对象"), _("变更"), _("理由")]


def write_csv(events: QuerySet[AuditEvent], out: IO[str]) -> int:
    """UTF-8 with BOM (Excel), text cells neutralised so no formula runs."""
    from pricing.review.exports import neutralise

    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([str(h) for h in HEADERS])
    n = 0
    for r in rows(events[:CSV_LIMIT]):
        writer.writerow(
            [
                r["at"].strftime("%Y-%m-%d %H:%M:%S"),
                *(neutralise(str(r[k])) for k in ("actor", "role", "action", "object", "change", "reason")),
            ]
        )
        n += 1
    return n
