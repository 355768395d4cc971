"""{% round_lifecycle_panel round %}: the round's lifecycle 草稿 → 已公示(申诉期) → 申诉截止 → 已发布,
appeal counts and the admin actions, for any page that has a `round`."""

from typing import Any

from django import template
from django.db.models import Count
from django.utils import timezone

from pricing.models import RoundStatus

from ..models import Appeal, AppealStatus
from ..publication import latest_final_list
from ..workflow import deadline_passed

register = template.Library()

STEPS = [RoundStatus.DRAFT, RoundStatus.PUBLISHED, RoundStatus.CLOSED, RoundStatus.FINAL]


@register.inclusion_tag("appeals/partials/lifecycle_panel.html", takes_context=True)
def round_lifecycle_panel(context: dict, round_: Any) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    current = STEPS.index(round_.status) if round_.status in STEPS else 0
    steps = [
        {"label": status.label, "state": "done" if i < current else ("current" if i == current else "todo")}
        for i, status in enumerate(STEPS)
    ]
    counts = dict(
        Appeal.objects.filter(round=round_).values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    pending = counts.get(AppealStatus.SUBMITTED, 0)
    is_admin = bool(user and getattr(user, "is_admin_role", False))
    return {
        "round": round_,
        "steps": steps,
        "counts": [(label, counts.get(value, 0)) for value, label in AppealStatus.choices],
        "pending": pending,
        "deadline_passed": deadline_passed(round_.appeal_deadline, timezone.now()) if round_.appeal_deadline else False,
        "is_admin": is_admin,
        "is_staff": bool(user and getattr(user, "is_regulator", False)),
        "can_close": is_admin and round_.status == RoundStatus.PUBLISHED,
        "can_publish": is_admin and round_.status == RoundStatus.CLOSED and pending == 0,
        "final": latest_final_list(round_.pk) if round_.status == RoundStatus.FINAL else None,
        "csrf_token": context.get("csrf_token"),
        "next": request.get_full_path() if request else "",
    }


@register.filter
def appeal_status_label(value: str) -> str:
    """'submitted' → 已提交 (event rows store raw status values)."""
    return str(AppealStatus(value).label) if value in AppealStatus.values else (value or "—")
