"""Writing audit events. Services call `record` inside their own transaction."""

from typing import Any

from django.db import models

from .models import AuditEvent
from .request_id import current_request_id


def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    request_id: str = "",
) -> AuditEvent:
    """Append one audit event. `actor` may be None for system actions (tasks, beat)."""
    if obj is not None:
        object_type = object_type or obj._meta.label
        object_id = object_id or obj.pk
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user else "system",
        role=getattr(user, "role", "") or "",
        company_id=getattr(user, "company_id", None),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
        reason=reason,
        request_id=request_id or current_request_id(),
    )


def record_many(
    *,
    actor: Any,
    action: str,
    object_type: str,
    items: list[tuple[Any, dict | None, dict | None]],
    reason: str = "",
) -> int:
    """Append one audit event per (object id, before, after) in bulk (batch decisions)."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    common = {
        "actor": user,
        "actor_name": user.get_username() if user else "system",
        "role": getattr(user, "role", "") or "",
        "company_id": getattr(user, "company_id", None),
        "action": action,
        "object_type": object_type,
        "reason": reason,
    }
    rows = [AuditEvent(object_id=str(pk), before=before, after=after, **common) for pk, before, after in items]
    AuditEvent.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
