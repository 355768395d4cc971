"""Running a job under its ticket (任务心跳): claimed at start, beaten while alive, closed at the end.

On a real worker a daemon thread beats the ticket every JOB_HEARTBEAT_SECONDS on its own database
connection, outside whatever transaction the job holds — so the beat (and the progress it carries)
is visible while the job runs, and stops the moment the worker dies (SIGKILL included).
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import JobTicket

log = logging.getLogger(__name__)
_latest: dict[tuple[str, int], int] = {}  # progress reported by the job, carried by the next beat


def report_progress(kind: str, object_id: int, percent: int) -> None:
    """Called by long jobs wherever they know their progress (cheap: no query)."""
    _latest[(kind, object_id)] = int(percent)


class _Heartbeat(threading.Thread):
    def __init__(self, kind: str, object_id: int) -> None:
        super().__init__(name=f"beat-{kind}-{object_id}", daemon=True)
        self.kind, self.object_id = kind, object_id
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(settings.JOB_HEARTBEAT_SECONDS):
                update = {"beat_at": timezone.now()}
                if (self.kind, self.object_id) in _latest:
                    update["progress"] = _latest[(self.kind, self.object_id)]
                JobTicket.objects.filter(kind=self.kind, object_id=self.object_id, done_at__isnull=True).update(
                    **update
                )
        except Exception:  # a beat that fails must never take the job down
            log.exception("heartbeat of %s #%s stopped", self.kind, self.object_id)
        finally:
            connection.close()


def _is_retry(exc: Exception) -> bool:
    """Celery's Retry (imported here: the command line that imports this module never loads Celery)."""
    from celery.exceptions import Retry

    return isinstance(exc, Retry)


@contextmanager
def ticket_run(kind: str, object_id: int, *, eager: bool) -> Iterator[bool]:
    """Yields False when the job's ticket is already closed (a duplicate delivery: do nothing)."""
    now = timezone.now()
    ticket, _created = JobTicket.objects.get_or_create(
        kind=kind, object_id=object_id, defaults={"enqueued_at": now, "sent": True}
    )
    if ticket.done_at is not None:
        yield False
        return
    JobTicket.objects.filter(pk=ticket.pk).update(started_at=now, beat_at=now)
    beat = None if eager else _Heartbeat(kind, object_id)
    if beat is not None:
        beat.start()
    outcome = ""
    try:
        yield True
    except Exception as exc:
        outcome = "retry" if _is_retry(exc) else f"{type(exc).__name__}: {exc}"[:2000]
        raise
    finally:
        if beat is not None:
            beat.stopped.set()
            beat.join(timeout=5)
        _latest.pop((kind, object_id), None)
        if outcome == "retry":  # the retry message carries on; the ticket waits for it
            JobTicket.objects.filter(pk=ticket.pk).update(started_at=None, beat_at=None)
        else:
            JobTicket.objects.filter(pk=ticket.pk).update(done_at=timezone.now(), message=outcome)
