"""Sending a job (派发任务): the ticket is written with the job, the message goes after commit.

If the broker is down when the message is sent, the request still succeeds — the job and its open
ticket are committed — and the sweeper sends it once the broker is back. The request is marked
`deferred` so the response can say "已受理，稍后开始" (202) instead of pretending it started.
"""

import logging
from contextvars import ContextVar

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import JobTicket
from .registry import task_name

log = logging.getLogger(__name__)

deferred: ContextVar[bool] = ContextVar("jobs_deferred", default=False)


def enqueue(kind: str, object_id: int) -> None:
    """Open (or reopen) the job's ticket in the current transaction; send the message after commit."""
    JobTicket.objects.update_or_create(
        kind=kind,
        object_id=object_id,
        defaults={
            "enqueued_at": timezone.now(),
            "sent": False,
            "started_at": None,
            "beat_at": None,
            "progress": 0,
            "requeues": 0,
            "done_at": None,
            "message": "",
        },
    )
    transaction.on_commit(lambda: send(kind, object_id))


def send(kind: str, object_id: int) -> bool:
    """Hand the message to the broker (or run it in-process when eager). False if the broker is down."""
    task = import_string(task_name(kind))  # its module loads the Celery app (config.celery)
    try:
        task.delay(object_id)
    except broker_errors() as exc:
        log.warning("broker unavailable, %s #%s stays queued for the sweeper: %s", kind, object_id, exc)
        deferred.set(True)
        return False
    JobTicket.objects.filter(kind=kind, object_id=object_id, done_at__isnull=True).update(sent=True)
    return True


def broker_errors() -> tuple[type[BaseException], ...]:
    """What a send raises when the broker is away (imported here, when sending: the data commands
    never send and need not load kombu and redis)."""
    from kombu.exceptions import OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (OperationalError, RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)
