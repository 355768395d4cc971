"""Publishing a round's notice: deadline in Asia/Shanghai stored in UTC, refusals, e-mails."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from pricing.models import JobStatus, RoundEvent, RoundStatus
from pricing.review.decisions import RoundFrozen, confirm_flag
from pricing.review.publication import PublishError, publish_notice
from tests.factories import UserFactory

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def company_users(company_a, company_b):
    return {
        "a1": UserFactory(username="a1", role="manufacturer", company=company_a, email="a1@jia.example"),
        "a2": UserFactory(username="a2", role="manufacturer", company=company_a, email="a2@jia.example"),
        "b1": UserFactory(username="b1", role="manufacturer", company=company_b, email="b1@yi.example"),
    }


@time_machine.travel(NOW, tick=False)
def test_date_only_deadline_ends_the_day_in_shanghai(flag_a, admin_user, django_capture_on_commit_callbacks):
    confirm_flag(flag_a.pk, user=admin_user, expected_version=0)
    with django_capture_on_commit_callbacks(execute=True):
        rnd = publish_notice(flag_a.round_id, user=admin_user, deadline=dt.date(2026, 3, 15), notice_text="请按期申诉")
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.PUBLISHED
    assert rnd.appeal_deadline == dt.datetime(2026, 3, 15, 15, 59, 59, 999999, tzinfo=dt.UTC)
    assert rnd.published_at == NOW and rnd.published_by == admin_user
    assert RoundEvent.objects.get(round=rnd, action="published").detail["confirmed"] == 1
    event = AuditEvent.objects.get(action="round.publish", object_id=str(rnd.pk))
    assert event.before["status"] == "draft" and event.after["status"] == "published"


@time_machine.travel(NOW, tick=False)
def test_naive_datetime_deadline_is_shanghai_time(flag_a, admin_user):
    confirm_flag(flag_a.pk, user=admin_user, expected_version=0)
    rnd = publish_notice(flag_a.round_id, user=admin_user, deadline=dt.datetime(2026, 3, 10, 17, 30))
    rnd.refresh_from_db()
    assert rnd.appeal_deadline == dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)


@time_machine.travel(NOW, tick=False)
def test_mail_goes_only_to_companies_with_confirmed_flags(
    flag_a, flag_b, admin_user, company_users, django_capture_on_commit_callbacks
):
    confirm_flag(flag_a.pk, user=admin_user, expected_version=0)  # company B's flag goes to the next round
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        publish_notice(
            flag_a.round_id, user=admin_user, deadline=dt.date(2026, 3, 15), defer_pending=True, expected_pending=1
        )
        assert mail.outbox == []  # nothing is sent before the commit
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["a1@jia.example", "a2@jia.example"]
    assert "甲药业有限公司" in message.body and "1 条" in message.body
    assert "2026-03-15 23:59" in message.body


@time_machine.travel(NOW, tick=False)
def test_publish_refusals(flag_a, admin_user, regulator):
    with pytest.raises(PublishError, match="没有确认纠偏"):
        publish_notice(flag_a.round_id, user=admin_user, deadline=dt.date(2026, 3, 15))
    confirm_flag(flag_a.pk, user=admin_user, expected_version=0)
    with pytest.raises(PermissionDenied):
        publish_notice(flag_a.round_id, user=regulator, deadline=dt.date(2026, 3, 15))
    with pytest.raises(PublishError, match="晚于当前时间"):
        publish_notice(flag_a.round_id, user=admin_user, deadline=dt.date(2026, 2, 28))
    flag_a.round.detection_status = JobStatus.RUNNING
    flag_a.round.save()
    with pytest.raises(PublishError, match="尚未完成"):
        publish_notice(flag_a.round_id, user=admin_user, deadline=dt.date(2026, 3, 15))
    flag_a.round.detection_status = JobStatus.DONE
    flag_a.round.save()
    publish_notice(flag_a.round_id, user=admin_user, deadline=dt.date(2026, 3, 15))
    with pytest.raises(PublishError, match="不能重复公示"):
        publish_notice(flag_a.round_id, user=admin_user, deadline=dt.date(2026, 3, 16))
    assert AuditEvent.objects.filter(action="round.publish").count() == 1


@time_machine.travel(NOW, tick=False)
def test_confirmed_set_frozen_after_publication(flag_a, flag_b, admin_user, regulator):
    confirm_flag(flag_a.pk, user=regulator, expected_version=0)
    publish_notice(flag_a.round_id, user=admin_user, deadline=dt.date(2026, 3, 15), defer_pending=True)
    with pytest.raises(RoundFrozen, match="已冻结"):
        confirm_flag(flag_b.pk, user=regulator, expected_version=1)
    flag_b.refresh_from_db()
    assert flag_b.status == "deferred"


@time_machine.travel(NOW, tick=False)
def test_publish_refused_with_pending_flags_unless_deferred_with_the_count_seen(flag_a, flag_b, admin_user, regulator):
    """The issue: a notice was published with 1,533 of 1,608 flags still 待审核, frozen undecidable."""
    from pricing.models import FlagDecision
    from pricing.review.publication import PendingFlags

    confirm_flag(flag_a.pk, user=regulator, expected_version=0)
    with pytest.raises(PendingFlags, match="仍有 1 条待审核记录") as exc:
        publish_notice(flag_a.round_id, user=admin_user, deadline=dt.date(2026, 3, 15))
    assert exc.value.pending == 1
    with pytest.raises(PendingFlags, match="已变为 1 条"):  # the admin saw another count
        publish_notice(
            flag_a.round_id, user=admin_user, deadline=dt.date(2026, 3, 15), defer_pending=True, expected_pending=3
        )
    flag_b.refresh_from_db()
    assert flag_b.status == "pending" and flag_b.round.status == "draft"
    publish_notice(
        flag_a.round_id, user=admin_user, deadline=dt.date(2026, 3, 15), defer_pending=True, expected_pending=1
    )
    flag_b.refresh_from_db()
    assert flag_b.status == "deferred"
    assert FlagDecision.objects.get(flag=flag_b).action == "defer"
    event = AuditEvent.objects.get(action="round.publish")
    assert event.after["deferred"] == 1 and event.after["companies"] == 1
