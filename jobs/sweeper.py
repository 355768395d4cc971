"""The sweeper (任务巡检, beat): re-sends jobs that would otherwise never finish.

- queued longer than JOB_QUEUED_GRACE_SECONDS and no message for it in the broker (the broker was down
  when it was sent, or lost its data): sent again;
- started, but its heartbeat is older than JOB_STALE_SECONDS (the worker died, e.g. SIGKILL): sent again.
Each re-send is claimed with a conditional UPDATE (two sweepers never both send) and audited. The jobs
themselves are idempotent, so a re-sent job that already finished does nothing.
"""

import datetime as dt
import json
import logging
import re

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from audit.services import record

from .enqueue import send
from .models import JobTicket
from .registry import KINDS, task_name

log = logging.getLogger(__name__)
_ID = re.compile(r"-?\d+")


def _message_key(message: dict) -> tuple[str, int] | None:
    headers = message.get("headers") or {}
    match = _ID.search(str(headers.get("argsrepr", "")))
    if not headers.get("task") or not match:
        return None
    return headers["task"], int(match.group())


def live_messages() -> set[tuple[str, int]] | None:
    """(task name, first argument) of every message waiting in, or taken from, the Redis queue.
    None when that cannot be known (eager mode, another broker, broker down)."""
    from config.celery import app

    if app.conf.task_always_eager or not str(app.conf.broker_url or "").startswith("redis"):
        return None
    keys: set[tuple[str, int]] = set()
    try:
        with app.connection_for_read() as conn:
            channel = conn.default_channel
            client = channel.client
            raw: list[dict] = []
            for priority in channel.priority_steps:
                queue = channel._q_for_pri(app.conf.task_default_queue, priority)
                raw += [json.loads(item) for item in client.lrange(queue, 0, -1)]
            raw += [json.loads(item)[0] for item in client.hvals(channel.unacked_key)]
    except Exception as exc:
        log.warning("cannot inspect the broker: %s", exc)
        return None
    for message in raw:
        key = _message_key(message)
        if key:
            keys.add(key)
    return keys


def _due(ticket: JobTicket, now: dt.datetime, live: set[tuple[str, int]] | None) -> str | None:
    if ticket.started_at is None:
        if ticket.enqueued_at > now - dt.timedelta(seconds=settings.JOB_QUEUED_GRACE_SECONDS):
            return None
        if live is None:
            return None if ticket.sent else "queued, the broker refused the message"
        if (task_name(ticket.kind), ticket.object_id) in live:
            return None
        return "queued, no message in the broker"
    if ticket.beat_at and ticket.beat_at > now - dt.timedelta(seconds=settings.JOB_STALE_SECONDS):
        return None
    return "running, heartbeat stopped"


def sweep(now: dt.datetime | None = None) -> list[tuple[str, int]]:
    now = now or timezone.now()
    live = live_messages()
    resent: list[tuple[str, int]] = []
    for ticket in JobTicket.objects.filter(done_at__isnull=True, kind__in=list(KINDS)).order_by("enqueued_at"):
        reason = _due(ticket, now, live)
        if reason is None:
            continue
        claim = JobTicket.objects.filter(pk=ticket.pk, requeues=ticket.requeues, done_at__isnull=True)
        if ticket.requeues >= settings.JOB_MAX_REQUEUES:
            if claim.update(done_at=now, message=f"gave up after {ticket.requeues} re-sends ({reason})"):
                log.error("job %s #%s given up after %d re-sends", ticket.kind, ticket.object_id, ticket.requeues)
                record(actor=None, action="job.given_up", object_type=ticket.kind, object_id=ticket.object_id,
                       reason=reason)  # fmt: skip
            continue
        if not claim.update(requeues=F("requeues") + 1, enqueued_at=now, started_at=None, beat_at=None, sent=False):
            continue  # another sweeper got there first
        if not send(ticket.kind, ticket.object_id):  # broker still down: an outage does not use up re-sends
            JobTicket.objects.filter(pk=ticket.pk).update(requeues=F("requeues") - 1)
            continue
        record(actor=None, action="job.requeued", object_type=ticket.kind, object_id=ticket.object_id, reason=reason)
        resent.append((ticket.kind, ticket.object_id))
    if resent:
        log.warning("sweeper re-sent %d jobs: %s", len(resent), resent)
    return resent
