"""Celery tasks of the appeals app: decision e-mails, deadline reminders, closing windows.
All take ids (or nothing), are idempotent and keep their bookkeeping in the database."""

from celery import shared_task

from . import notifications, publication


@shared_task
def send_decision_email(appeal_id: int) -> int:
    """E-mail the company of a decided appeal. Returns the number of messages sent."""
    return notifications.send_decision_email(appeal_id)


@shared_task
def send_deadline_reminders() -> int:
    """Hourly (beat): remind companies with unappealed confirmed flags 3 days and 1 day before the
    deadline, once each (ReminderSent unique constraint). Returns the number of reminders sent."""
    return notifications.send_deadline_reminders()


@shared_task
def close_expired_windows() -> list[int]:
    """Beat-able: close the appeal window of every published round whose deadline has passed."""
    return publication.close_expired_windows()
