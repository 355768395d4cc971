"""Celery tasks of the pricing engine: thin, take ids, idempotent, state kept in the database."""

from celery import shared_task

from pricing.models import CorrectionRound, JobStatus


@shared_task(acks_late=True)
def detect_round(round_id: int) -> int | None:
    """Run (or re-run) a round's detection; a finished round is left alone."""
    from pricing.engine.rounds import DetectionRefused, run_detection

    state = CorrectionRound.objects.filter(pk=round_id).values_list("detection_status", flat=True).first()
    if state is None or state == JobStatus.DONE:
        return None
    try:
        return run_detection(round_id)
    except DetectionRefused:
        return None


@shared_task(acks_late=True)
def run_export(job_id: int) -> None:
    """Write an export job's file (pricing.exports.run_export_job)."""
    from pricing.review.exports import run_export_job

    run_export_job(job_id)
