"""Every branch of the appeal workflow (申诉流程): the transition table, each side's allowed and
forbidden steps through the services, and the deadline rule (one implementation, used by
publication and by the appeal window) for dates, naive, Shanghai and non-Shanghai datetimes and
the exact deadline instant."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
import time_machine

from appeals import services
from appeals.errors import AppealError, InvalidTransition, NotAllowed
from appeals.models import Appeal, AppealStatus
from appeals.workflow import DECIDED, can_transition, check_transition, deadline_passed, end_of_day, normalise_deadline
from pricing.models import CorrectionRound
from pricing.review.publication import publish_notice
from tests.appeals.conftest import make_flag
from tests.factories import RoundFactory

SH = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
S = AppealStatus
ALLOWED = {
    (S.DRAFT, S.SUBMITTED),
    (S.DRAFT, S.WITHDRAWN),
    (S.SUBMITTED, S.WITHDRAWN),
    (S.SUBMITTED, S.UPHELD),
    (S.SUBMITTED, S.PARTIAL),
    (S.SUBMITTED, S.ACCEPTED),
}


@pytest.mark.parametrize(("from_status", "to_status"), list(itertools.product(S.values, S.values)))
def test_transition_table(from_status, to_status):
    allowed = (from_status, to_status) in ALLOWED
    assert can_transition(from_status, to_status) is allowed
    if allowed:
        check_transition(from_status, to_status)
    else:
        with pytest.raises(InvalidTransition) as exc:
            check_transition(from_status, to_status)
        assert exc.value.message == (f"申诉当前状态为“{S(from_status).label}”，不能变更为“{S(to_status).label}”。")
        assert exc.value.status_code == 409


def test_decided_statuses():
    assert DECIDED == {S.UPHELD, S.PARTIAL, S.ACCEPTED}


# ---------------------------------------------------------------- deadlines


def test_end_of_day_is_the_last_microsecond_in_shanghai_in_utc():
    value = end_of_day(dt.date(2026, 12, 10))
    assert value == dt.datetime(2026, 12, 10, 15, 59, 59, 999999, tzinfo=dt.UTC)
    assert value.utcoffset() == dt.timedelta(0)
    assert end_of_day(dt.date(2026, 1, 1)) == dt.datetime(2026, 1, 1, 15, 59, 59, 999999, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.date(2026, 12, 10), dt.datetime(2026, 12, 10, 15, 59, 59, 999999, tzinfo=dt.UTC)),
        # naive: Asia/Shanghai wall-clock time
        (dt.datetime(2026, 12, 10, 17, 0), dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC)),
        (dt.datetime(2026, 12, 10, 3, 0), dt.datetime(2026, 12, 9, 19, 0, tzinfo=dt.UTC)),
        # aware: the same instant whatever the zone — never shifted by 8 hours
        (dt.datetime(2026, 12, 10, 17, 0, tzinfo=SH), dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC)),
        (dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC), dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC)),
        (dt.datetime(2026, 12, 10, 4, 0, tzinfo=NEW_YORK), dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC)),
        (dt.datetime(2026, 7, 10, 5, 0, tzinfo=NEW_YORK), dt.datetime(2026, 7, 10, 9, 0, tzinfo=dt.UTC)),
        (
            dt.datetime(2026, 12, 10, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=3))),
            dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC),
        ),
    ],
)
def test_normalise_deadline(value, expected):
    got = normalise_deadline(value)
    assert got == expected
    assert got.utcoffset() == dt.timedelta(0)
    assert (got.year, got.month, got.day, got.hour, got.minute) == (
        expected.year,
        expected.month,
        expected.day,
        expected.hour,
        expected.minute,
    )


def test_deadline_passed_at_the_exact_instant():
    deadline = dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC)
    assert not deadline_passed(deadline, deadline)  # the deadline instant itself is still inside
    assert not deadline_passed(deadline, deadline - dt.timedelta(microseconds=1))
    assert deadline_passed(deadline, deadline + dt.timedelta(microseconds=1))
    # the same instants seen from Shanghai and New York
    assert not deadline_passed(deadline, dt.datetime(2026, 12, 10, 17, 0, tzinfo=SH))
    assert deadline_passed(deadline, dt.datetime(2026, 12, 10, 17, 0, 0, 1, tzinfo=SH))
    assert not deadline_passed(deadline, dt.datetime(2026, 12, 10, 4, 0, tzinfo=NEW_YORK))
    assert deadline_passed(deadline, dt.datetime(2026, 12, 10, 4, 0, 1, tzinfo=NEW_YORK))


def test_no_deadline_means_the_window_is_closed():
    assert deadline_passed(None, dt.datetime(2000, 1, 1, tzinfo=dt.UTC))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("deadline", "stored"),
    [
        (dt.date(2026, 3, 15), dt.datetime(2026, 3, 15, 15, 59, 59, 999999, tzinfo=dt.UTC)),
        (dt.datetime(2026, 3, 10, 17, 30), dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)),
        (dt.datetime(2026, 3, 10, 5, 30, tzinfo=NEW_YORK), dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)),  # EDT
        (dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC), dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)),
    ],
)
def test_publication_stores_the_normalised_deadline(rule_set, company_a, admin_user, deadline, stored):
    draft = RoundFactory(status="draft")
    make_flag(draft, company_a, status="confirmed")
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        rnd = publish_notice(draft.pk, user=admin_user, deadline=deadline)
    rnd.refresh_from_db()
    assert rnd.appeal_deadline == stored == normalise_deadline(deadline)


@pytest.mark.django_db
def test_submit_at_the_exact_deadline_instant_is_accepted(rule_set, maker_a, company_a):
    deadline = normalise_deadline(dt.datetime(2026, 12, 10, 17, 0))
    round_ = RoundFactory(status="published", appeal_deadline=deadline, evidence_required=False)
    flag = make_flag(round_, company_a)
    with time_machine.travel(dt.datetime(2026, 12, 1, tzinfo=SH), tick=False):
        appeal = services.create_draft(
            user=maker_a, round_id=round_.pk, flag_ids=[flag.pk], grounds="cost", statement="s"
        )
    with time_machine.travel(deadline, tick=False):
        assert services.submit(appeal.pk, user=maker_a, expected_version=appeal.lock_version).status == S.SUBMITTED


# ---------------------------------------------------------------- each side through the services

STATUSES = [S.DRAFT, S.SUBMITTED, S.WITHDRAWN, S.UPHELD, S.PARTIAL, S.ACCEPTED]


def _appeal_in(status, maker, flag) -> Appeal:
    appeal = services.create_draft(
        user=maker, round_id=flag.round_id, flag_ids=[flag.pk], grounds="cost", statement="s"
    )
    CorrectionRound.objects.filter(pk=flag.round_id).update(evidence_required=False)
    decided = status in (S.UPHELD, S.PARTIAL, S.ACCEPTED)  # a decided appeal carries its reason (DB constraint)
    Appeal.objects.filter(pk=appeal.pk).update(status=status, decision_reason="依据" if decided else "")
    appeal.refresh_from_db()
    return appeal


def _manufacturer_step(step, appeal, user):
    if step == "submit":
        return services.submit(appeal.pk, user=user, expected_version=appeal.lock_version)
    return services.withdraw(appeal.pk, user=user, expected_version=appeal.lock_version)


def _staff_step(outcome, appeal, user):
    return services.decide(
        appeal.pk,
        user=user,
        outcome=outcome,
        reason="依据充分",
        new_limit_price="20.00" if outcome == "partial" else None,
        expected_version=appeal.lock_version,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("step", ["submit", "withdraw"])
def test_manufacturer_steps_from_every_status(maker_a, regulator, flag_a, status, step):
    target = S.SUBMITTED if step == "submit" else S.WITHDRAWN
    appeal = _appeal_in(status, maker_a, flag_a)
    with pytest.raises(NotAllowed):  # staff never submit or withdraw for a company
        _manufacturer_step(step, appeal, regulator)
    if (status, target) in ALLOWED:
        assert _manufacturer_step(step, appeal, maker_a).status == target
        appeal.refresh_from_db()
        assert (appeal.status, appeal.lock_version) == (target, 1)
    else:
        with pytest.raises(InvalidTransition):
            _manufacturer_step(step, appeal, maker_a)
        appeal.refresh_from_db()
        assert (appeal.status, appeal.lock_version) == (status, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("outcome", ["upheld", "partial", "accepted"])
def test_staff_decisions_from_every_status(maker_a, regulator, flag_a, status, outcome):
    target = S(outcome)
    appeal = _appeal_in(status, maker_a, flag_a)
    with pytest.raises(NotAllowed):  # a manufacturer never decides
        _staff_step(outcome, appeal, maker_a)
    if status in DECIDED:  # a decision stands: changing it is an explicit 改判 (revise_decision), never decide()
        with pytest.raises(AppealError, match="改判"):
            _staff_step(outcome, appeal, regulator)
        appeal.refresh_from_db()
        assert (appeal.status, appeal.lock_version, appeal.decided_by) == (status, 0, None)
    elif (status, target) in ALLOWED:
        assert _staff_step(outcome, appeal, regulator).status == target
        appeal.refresh_from_db()
        assert (appeal.status, appeal.decided_by) == (target, regulator)
    else:
        with pytest.raises(InvalidTransition):
            _staff_step(outcome, appeal, regulator)
        appeal.refresh_from_db()
        assert (appeal.status, appeal.lock_version, appeal.decided_by) == (status, 0, None)
