"""Template tags for job pages: live progress from the heartbeat, and 重试中 when a job was re-sent."""

from django import template
from django.utils.translation import gettext as _

from jobs.selectors import ticket_view

register = template.Library()


@register.simple_tag
def job_progress(kind: str, object_id: int, fallback: int) -> int:
    """The job's progress as last beaten by its worker (written outside the job's own transaction)."""
    view = ticket_view(kind, object_id)
    return max(fallback or 0, view.progress) if view else fallback


@register.simple_tag
def job_note(kind: str, object_id: int) -> str:
    view = ticket_view(kind, object_id)
    if view is None or not view.retrying:
        return ""
    return _("（重试中，第 %(n)d 次重新派发）") % {"n": view.requeues}
