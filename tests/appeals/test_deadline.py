"""The deadline is the server's clock, checked in the submitting transaction; +08:00 semantics."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from appeals import services
from appeals.errors import DeadlinePassed
from appeals.models import AppealStatus
from appeals.workflow import end_of_day, normalise_deadline
from tests.appeals.conftest import make_flag
from tests.factories import RoundFactory

SH = ZoneInfo("Asia/Shanghai")
DEADLINE = dt.datetime(2026, 12, 10, 17, 0, 0, tzinfo=SH)


def test_date_only_deadline_is_end_of_day_in_shanghai_stored_as_utc():
    value = end_of_day(dt.date(2026, 12, 10))
    assert value.tzinfo == dt.UTC
    assert value == dt.datetime(2026, 12, 10, 15, 59, 59, 999999, tzinfo=dt.UTC)
    assert normalise_deadline(dt.date(2026, 12, 10)) == value
    assert normalise_deadline(dt.datetime(2026, 12, 10, 17, 0)) == dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def draft_appeal(rule_set, maker_a, company_a):
    with time_machine.travel(DEADLINE - dt.timedelta(days=2), tick=False):
        round_ = RoundFactory(status="published", appeal_deadline=DEADLINE, evidence_required=False)
        flag = make_flag(round_, company_a)
        return services.create_draft(
            user=maker_a, round_id=round_.pk, flag_ids=[flag.pk], grounds="cost", statement="s"
        )


@pytest.mark.django_db
def test_submit_one_second_before_deadline_accepted(maker_a, draft_appeal):
    with time_machine.travel(DEADLINE - dt.timedelta(seconds=1), tick=False):
        appeal = services.submit(draft_appeal.pk, user=maker_a, expected_version=draft_appeal.lock_version)
    assert appeal.status == AppealStatus.SUBMITTED


@pytest.mark.django_db
def test_submit_one_second_after_deadline_refused_with_chinese_message(maker_a, draft_appeal):
    with time_machine.travel(DEADLINE + dt.timedelta(seconds=1), tick=False):
        with pytest.raises(DeadlinePassed, match="申诉期已于 2026-12-10 17:00:00 截止"):
            services.submit(draft_appeal.pk, user=maker_a, expected_version=draft_appeal.lock_version)
    draft_appeal.refresh_from_db()
    assert draft_appeal.status == AppealStatus.DRAFT


@pytest.mark.django_db
def test_withdraw_and_new_drafts_refused_after_deadline(maker_a, company_a, draft_appeal):
    flag2 = make_flag(draft_appeal.round, company_a)
    with time_machine.travel(DEADLINE + dt.timedelta(seconds=1), tick=False):
        with pytest.raises(DeadlinePassed):
            services.withdraw(draft_appeal.pk, user=maker_a, expected_version=draft_appeal.lock_version)
        with pytest.raises(DeadlinePassed):
            services.create_draft(
                user=maker_a, round_id=draft_appeal.round_id, flag_ids=[flag2.pk], grounds="cost", statement="s"
            )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("local_time", "accepted"),
    [
        (dt.datetime(2026, 12, 10, 23, 59, 59, tzinfo=SH), True),
        (dt.datetime(2026, 12, 11, 0, 0, 0, tzinfo=SH), False),
        # the same instants seen from UTC: 15:59:59Z is still the 10th in Shanghai
        (dt.datetime(2026, 12, 10, 15, 59, 59, tzinfo=dt.UTC), True),
        (dt.datetime(2026, 12, 10, 16, 0, 1, tzinfo=dt.UTC), False),
    ],
)
def test_date_only_deadline_boundaries(rule_set, maker_a, company_a, local_time, accepted):
    round_ = RoundFactory(
        status="published", appeal_deadline=end_of_day(dt.date(2026, 12, 10)), evidence_required=False
    )
    flag = make_flag(round_, company_a)
    with time_machine.travel(dt.datetime(2026, 12, 1, tzinfo=SH), tick=False):
        appeal = services.create_draft(
            user=maker_a, round_id=round_.pk, flag_ids=[flag.pk], grounds="cost", statement="s"
        )
    with time_machine.travel(local_time, tick=False):
        if accepted:
            assert services.submit(appeal.pk, user=maker_a, expected_version=appeal.lock_version).status == "submitted"
        else:
            with pytest.raises(DeadlinePassed):
                services.submit(appeal.pk, user=maker_a, expected_version=appeal.lock_version)
