"""Celery tasks of the compliance app. They take ids (or nothing) and are safe to run twice."""

from celery import shared_task

import config.celery  # noqa: F401  (the configured app, loaded before any of these tasks is sent)
from compliance import reminders, services
from compliance.errors import ComplianceError


@shared_task
def run_check(check_id: int) -> int:
    """Compute a compliance check (a done check is left alone). Returns its row count. A check that
    cannot be computed (nothing in scope) is marked failed with its message, not retried."""
    try:
        return services.run_check(check_id).row_count
    except ComplianceError:
        return 0


@shared_task
def send_adjustment_reminders() -> int:
    """Hourly (beat): remind companies 3 and 1 working days before the adjustment deadline, once each."""
    return reminders.send_adjustment_reminders()
