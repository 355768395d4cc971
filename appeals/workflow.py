"""Appeal workflow (申诉流程): a plain status field plus the table of allowed transitions.

The services in `appeals.services` implement one function per transition and call
`check_transition` before changing anything. Deadlines are stored in UTC; a date-only deadline
D means the end of D in Asia/Shanghai (D 23:59:59.999999+08:00).
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from .errors import InvalidTransition
from .models import AppealStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")

DECIDED = frozenset({AppealStatus.UPHELD, AppealStatus.PARTIAL, AppealStatus.ACCEPTED})

# from-status -> the statuses it may move to (the manufacturer submits or withdraws its own
# appeal; staff decide a submitted one — the services check who acts)
TRANSITIONS: dict[str, frozenset[str]] = {
    AppealStatus.DRAFT: frozenset({AppealStatus.SUBMITTED, AppealStatus.WITHDRAWN}),
    AppealStatus.SUBMITTED: frozenset({AppealStatus.WITHDRAWN, *DECIDED}),
}


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


def check_transition(from_status: str, to_status: str) -> None:
    """Raise InvalidTransition (Chinese message) unless from → to is in the table."""
    if not can_transition(from_status, to_status):
        raise InvalidTransition(
            _("申诉当前状态为“%(from)s”，不能变更为“%(to)s”。")
            % {"from": AppealStatus(from_status).label, "to": AppealStatus(to_status).label}
        )


def end_of_day(day: dt.date) -> dt.datetime:
    """A date-only deadline D ends at D 23:59:59.999999 in Asia/Shanghai; returned in UTC."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=SHANGHAI).astimezone(dt.UTC)


def normalise_deadline(value: dt.date | dt.datetime) -> dt.datetime:
    """Dates become the end of that day (+08:00); naive datetimes are read as Asia/Shanghai."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=SHANGHAI)
        return value.astimezone(dt.UTC)
    return end_of_day(value)


def deadline_passed(deadline: dt.datetime | None, now: dt.datetime) -> bool:
    """True once `now` is strictly after the deadline. No deadline means the window is closed."""
    return deadline is None or now > deadline
