"""Working days (工作日) for deadlines: Chinese public holidays and make-up working days (调休).

The calendar comes from the `chinesecalendar` package (import name `chinese_calendar`), which ships
the State Council's yearly arrangement as data: never a hand-typed holiday table here. The package
knows the years it was released with; a date outside them raises `CalendarRangeError` (the fix is
`pip install -U chinesecalendar` once the new year's arrangement is published, and a new pin in
requirements.txt). Pure apart from the translated error message.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
from django.utils.translation import gettext as _


class CalendarRangeError(ValueError):
    """The holiday calendar has no data for a date (message in Chinese)."""


def calendar_years() -> tuple[int, int]:
    """First and last year the installed chinesecalendar knows."""
    from chinese_calendar import constants

    years = {d.year for d in constants.holidays} | {d.year for d in constants.workdays}
    return min(years), max(years)


def is_working_day(day: dt.date) -> bool:
    """A weekday that is no public holiday, or a weekend day that is a make-up working day (调休)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        first, last = calendar_years()
        raise CalendarRangeError(
            _(
                "节假日数据只覆盖 %(first)d–%(last)d 年，无法判断 %(day)s 是否为工作日；"
                "请升级 chinesecalendar（pip install -U chinesecalendar）。"
            )
            % {"first": first, "last": last, "day": day.isoformat()}
        ) from None


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date of the `days`-th working day after `start` (`start` itself never counts).

    `add_working_days(Friday, 1)` is the next Monday unless that Monday is a holiday; a deadline
    of "10 个工作日" from a notice published on `start` ends at the end of the returned day.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    day, counted = start, 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]: how many are left from `start` until the deadline day `end`."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
