"""Working-day deadlines across the 2026 Spring Festival and National Day make-up days (调休), from
the chinesecalendar package; the appeal window of a notice set as "10 个工作日"."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from compliance.workdays import (
    CalendarRangeError,
    add_working_days,
    calendar_years,
    is_working_day,
    working_days_between,
)

D = dt.date


def test_the_installed_calendar_knows_2026():
    first, last = calendar_years()
    assert first <= 2024 and last >= 2026


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (D(2026, 2, 13), 1, D(2026, 2, 14)),  # Saturday 14 Feb is a make-up working day
        (D(2026, 2, 13), 2, D(2026, 2, 24)),  # 15–23 Feb Spring Festival
        (D(2026, 2, 13), 10, D(2026, 3, 5)),  # …, Saturday 28 Feb is worked too
        (D(2026, 2, 20), 1, D(2026, 2, 24)),  # from inside the holiday
        (D(2026, 9, 18), 1, D(2026, 9, 20)),  # Sunday 20 Sep is a make-up working day
        (D(2026, 9, 24), 10, D(2026, 10, 15)),  # Mid-autumn 25–27 Sep, National Day 1–7 Oct, Saturday 10 Oct worked
        (D(2026, 9, 30), 1, D(2026, 10, 8)),
        (D(2026, 9, 30), 3, D(2026, 10, 10)),  # the make-up Saturday counts
        (D(2026, 3, 6), 10, D(2026, 3, 20)),  # an ordinary fortnight: two weekends skipped
    ],
)
def test_add_working_days_across_holidays_and_make_up_days(start, days, due):
    assert add_working_days(start, days) == due


def test_weekends_holidays_and_make_up_days():
    assert is_working_day(D(2026, 10, 10)) and is_working_day(D(2026, 2, 28))  # Saturdays, 调休
    assert not is_working_day(D(2026, 10, 5)) and not is_working_day(D(2026, 2, 18))  # Monday, Wednesday off
    assert not is_working_day(D(2026, 10, 11))  # an ordinary Sunday
    assert working_days_between(D(2026, 9, 30), D(2026, 10, 10)) == 3
    assert working_days_between(D(2026, 10, 10), D(2026, 10, 10)) == 0


def test_a_year_the_package_does_not_know_is_a_clear_error():
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(CalendarRangeError, match="请升级 chinesecalendar"):
        add_working_days(D(2026, 12, 30), 5)


@time_machine.travel(dt.datetime(2026, 9, 24, 2, 0, tzinfo=dt.UTC), tick=False)  # Thursday 10:00 in Beijing
def test_notice_published_with_an_appeal_window_of_10_working_days(client, admin_user):
    from pricing.models import RoundStatus
    from tests.factories import FlagFactory

    flag = FlagFactory(status="confirmed")
    client.force_login(admin_user)
    url = reverse("pricing:round_publish", args=[flag.round_id])
    response = client.post(url, {"deadline_date": "", "deadline_working_days": "", "notice_text": ""})
    assert response.status_code == 400 and "请填写申诉截止日期，或填写工作日数" in response.content.decode()
    data = {"deadline_date": "", "deadline_working_days": "10", "notice_text": "请申诉", "evidence_required": "on"}
    response = client.post(url, data)  # first step: what publishing will do, nothing changed yet
    assert response.status_code == 200 and "2026-10-15" in response.content.decode()
    response = client.post(url, {**data, "confirmed": "1", "expected_pending": "0"})
    assert response.status_code == 302
    flag.round.refresh_from_db()
    assert flag.round.status == RoundStatus.PUBLISHED
    # 15 Oct 2026, 23:59:59.999999 in Beijing
    assert flag.round.appeal_deadline == dt.datetime(2026, 10, 15, 15, 59, 59, 999999, tzinfo=dt.UTC)
