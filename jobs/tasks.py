"""Beat task of the durable-jobs sweeper."""

from celery import shared_task

import config.celery  # noqa: F401  (the configured app, loaded before any of these tasks is sent)

from . import sweeper


@shared_task
def sweep() -> list[tuple[str, int]]:
    """Every JOB_SWEEP_SECONDS: re-send lost or orphaned jobs (jobs.sweeper)."""
    return sweeper.sweep()
