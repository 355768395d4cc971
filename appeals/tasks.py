"""Celery tasks of the appeals app: decision e-mails, deadline reminders, closing windows.
All take ids (or nothing), are idempotent and keep their bookkeeping in the database."""

from celery import shared_task

import config.celery  # noqa: F401  (the configured app, loaded before any of these tasks is sent)
from jobs.runner import ticket_run

from . import notifications, publication


@shared_task(bind=True, acks_late=True)
def send_decision_email(self, appeal_id: int) -> int:
    """E-mail the company of a decided appeal, once (its job ticket closes when sent). Returns the count."""
    with ticket_run("email.decision", appeal_id, eager=self.request.is_eager) as go:
        return notifications.send_decision_email(appeal_id) if go else 0


@shared_task
def send_deadline_reminders() -> int:
    """Hourly (beat): remind companies with unappealed confirmed flags 3 days and 1 day before the
    deadline, once each (ReminderSent unique constraint). Returns the number of reminders sent."""
    return notifications.send_deadline_reminders()


@shared_task
def close_expired_windows() -> list[int]:
    """Beat-able: close the appeal window of every published round whose deadline has passed."""
    return publication.close_expired_windows()
