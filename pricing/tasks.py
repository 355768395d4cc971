"""Celery tasks of the pricing engine: thin, take ids, idempotent, state kept in the database.
Each runs under its job ticket (jobs.runner): beaten while alive, re-sent by the sweeper if lost."""

from celery import shared_task

import config.celery  # noqa: F401  (the configured app, loaded before any of these tasks is sent)
from jobs.runner import ticket_run
from pricing.models import CorrectionRound, JobStatus


@shared_task(bind=True, acks_late=True)
def detect_round(self, round_id: int) -> int | None:
    """Run (or re-run) a round's detection; a finished round is left alone."""
    from pricing.engine.rounds import DetectionRefused, run_detection

    with ticket_run("round.detect", round_id, eager=self.request.is_eager) as go:
        state = CorrectionRound.objects.filter(pk=round_id).values_list("detection_status", flat=True).first()
        if not go or state is None or state == JobStatus.DONE:
            return None
        try:
            return run_detection(round_id)
        except DetectionRefused:
            return None


@shared_task(bind=True, acks_late=True)
def run_export(self, job_id: int) -> None:
    """Write an export job's file (pricing.exports.run_export_job)."""
    from pricing.review.exports import run_export_job

    with ticket_run("export", job_id, eager=self.request.is_eager) as go:
        if go:
            run_export_job(job_id)
