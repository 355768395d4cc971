"""Pricing-engine writes: creating a correction round (纠偏批次) and running its detection.

Each function is one transaction with its audit event; the Celery task only calls `run_detection`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from catalogue.models import CatalogueVersion, ImportStatus, ReferencePriceSet
from jobs.enqueue import enqueue as enqueue_job
from jobs.runner import report_progress
from pricing.engine import detection
from pricing.engine.ruleset import RuleParams, latest_rule_set
from pricing.models import CorrectionRound, Flag, FlagDecision, JobStatus, RoundEvent, RoundStatus, RuleSet
from pricing.review import round_stats

logger = logging.getLogger(__name__)


class DetectionRefused(Exception):
    """Detection cannot (re)run for this round (message in Chinese)."""


def latest_reference_set() -> ReferencePriceSet | None:
    return ReferencePriceSet.objects.filter(status=ImportStatus.ACTIVE).order_by("-uploaded_at", "-id").first()


def create_round(
    *,
    catalogue_version: CatalogueVersion,
    title: str,
    user: Any,
    rule_set: RuleSet | None = None,
    reference_set: ReferencePriceSet | None = None,
    enqueue: bool = True,
) -> CorrectionRound:
    """Create a round (latest rule set by default) and queue its detection after commit."""
    if catalogue_version.status != ImportStatus.ACTIVE:
        raise DetectionRefused(_("目录版本 #%(id)s 尚未生效，不能创建纠偏批次") % {"id": catalogue_version.pk})
    rule_set = rule_set or latest_rule_set()
    if rule_set is None:
        raise DetectionRefused(_("没有可用的规则集"))
    RuleParams.from_rule_set(rule_set)  # refuse broken parameters before anything is stored
    actor = user if getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        round_ = CorrectionRound.objects.create(
            title=title or _("%(province)s 纠偏批次") % {"province": catalogue_version.province},
            province=catalogue_version.province,
            catalogue_version=catalogue_version,
            rule_set=rule_set,
            reference_set=reference_set,
            created_by=actor,
        )
        RoundEvent.objects.create(
            round=round_,
            action="created",
            actor=actor,
            detail={"rule_set_version": rule_set.version, "reference_set": reference_set and reference_set.pk},
        )
        record(
            actor=user,
            action="round.create",
            obj=round_,
            after={
                "catalogue_version": catalogue_version.pk,
                "rule_set_version": rule_set.version,
                "reference_set": reference_set and reference_set.pk,
            },
        )
        if enqueue:
            enqueue_job("round.detect", round_.pk)  # ticket now, message after commit (jobs)
    return round_


def _progress(round_id: int, percent: int) -> None:
    CorrectionRound.objects.filter(pk=round_id).update(progress=percent)
    report_progress("round.detect", round_id, percent)  # visible through the job's heartbeat (issue 11)


def run_detection(round_id: int) -> int:
    """(Re)compute a DRAFT round's flags. Idempotent: old flags are replaced in one transaction.

    Refused once the round is published or any flag has a decision (nothing reviewed is lost).
    """
    with transaction.atomic():
        round_ = CorrectionRound.objects.select_for_update().get(pk=round_id)
        _check_rerunnable(round_)
        round_.detection_status = JobStatus.RUNNING
        round_.attempts += 1
        round_.progress = 5
        round_.message = ""
        round_.save(update_fields=["detection_status", "attempts", "progress", "message"])
    try:
        params = RuleParams.from_rule_set(round_.rule_set)
        with transaction.atomic():
            round_ = CorrectionRound.objects.select_for_update().get(pk=round_id)
            _check_rerunnable(round_)
            # no decisions/final entries can exist (checked above): a plain SQL DELETE is enough
            Flag.objects.filter(round_id=round_id)._raw_delete(Flag.objects.db)
            count = detection.detect(
                round_id=round_id,
                catalogue_version_id=round_.catalogue_version_id,
                reference_set_id=round_.reference_set_id,
                params=params,
                progress=lambda p: _progress(round_id, p),
            )
            round_stats.rebuild(round_id)  # the overview's stored aggregates for the new flags
            round_.flag_count = count
            round_.detection_status = JobStatus.DONE
            round_.progress = 100
            round_.detected_at = timezone.now()
            round_.save(update_fields=["flag_count", "detection_status", "progress", "detected_at"])
            RoundEvent.objects.create(round=round_, action="detected", detail={"flag_count": count})
            record(actor=None, action="round.detect", obj=round_, after={"flag_count": count})
    except DetectionRefused:
        raise
    except Exception as exc:
        logger.exception("detection of round %s failed", round_id)
        CorrectionRound.objects.filter(pk=round_id).update(
            detection_status=JobStatus.FAILED, message=_("纠偏计算失败：%(e)s") % {"e": exc}
        )
        raise
    return count


def _check_rerunnable(round_: CorrectionRound) -> None:
    if round_.status != RoundStatus.DRAFT:
        raise DetectionRefused(_("批次已公示，不能重新计算"))
    if FlagDecision.objects.filter(flag__round=round_).exists():
        raise DetectionRefused(_("批次已有审核决定，不能重新计算"))
