"""Celery tasks for catalogue imports: thin wrappers that take ids (acks_late is global)."""

import logging
import random

from celery import shared_task
from django.db import OperationalError

import config.celery  # noqa: F401  (the configured app, loaded before any of these tasks is sent)
from jobs.runner import ticket_run

from . import services

logger = logging.getLogger(__name__)
MAX_TRIES = 3


@shared_task(bind=True, max_retries=MAX_TRIES - 1)
def import_catalogue_version(self, version_id: int) -> str:
    """Import (or finish importing) one catalogue version. Transient DB errors retry with backoff."""
    with ticket_run("catalogue.import", version_id, eager=self.request.is_eager) as go:
        return _import(self, version_id) if go else "skipped"


def _import(self, version_id: int) -> str:
    try:
        return services.process_catalogue_version(version_id).status
    except OperationalError as exc:
        if self.request.retries >= MAX_TRIES - 1:
            logger.exception("catalogue import %s failed after %d tries", version_id, MAX_TRIES)
            return services.mark_failed(version_id, str(exc)).status
        countdown = 2 ** (self.request.retries + 1) + random.uniform(0, 1)
        raise self.retry(exc=exc, countdown=countdown) from exc
    except Exception as exc:  # permanent: record it, do not retry
        logger.exception("catalogue import %s failed", version_id)
        return services.mark_failed(version_id, str(exc)).status


@shared_task(bind=True, acks_late=True)
def import_reference_set(self, set_id: int) -> str:
    """Parse and store an uploaded reference-price set (catalogue.reference_jobs)."""
    from . import reference_jobs

    with ticket_run("reference.import", set_id, eager=self.request.is_eager) as go:
        if not go:
            return "skipped"
        try:
            return reference_jobs.process_reference_set(set_id).status
        except Exception as exc:  # permanent: record it, do not retry
            logger.exception("reference import %s failed", set_id)
            reference_jobs.mark_failed(set_id, str(exc))
            return "failed"
