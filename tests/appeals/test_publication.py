"""Closing the appeal window, publishing the final list, deadline reminders."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from appeals import publication, services
from appeals.errors import NotAllowed, RoundStateError
from appeals.models import AppealStatus, ReminderSent
from appeals.tasks import close_expired_windows, send_deadline_reminders
from audit.models import AuditEvent
from pricing.models import RoundEvent
from tests.appeals.conftest import make_flag

pytestmark = pytest.mark.django_db


def appeal(maker, flags, submit=True):
    a = services.create_draft(
        user=maker, round_id=flags[0].round_id, flag_ids=[f.pk for f in flags], grounds="cost", statement="s"
    )
    return services.submit(a.pk, user=maker, expected_version=a.lock_version) if submit else a


def test_admin_closes_early_and_drafts_lapse(admin_user, maker_a, flag_a, flag_a2, published_round):
    draft = appeal(maker_a, [flag_a], submit=False)
    sent = appeal(maker_a, [flag_a2])
    publication.close_appeal_window(published_round.pk, user=admin_user)
    published_round.refresh_from_db()
    draft.refresh_from_db()
    sent.refresh_from_db()
    assert published_round.status == "closed" and published_round.closed_at
    assert draft.status == AppealStatus.WITHDRAWN and not draft.links.filter(active=True).exists()
    assert sent.status == AppealStatus.SUBMITTED
    assert RoundEvent.objects.filter(round=published_round, action="closed").count() == 1
    assert AuditEvent.objects.filter(action="round.close_appeals", object_id=str(published_round.pk)).count() == 1


def test_regulator_cannot_close_or_publish(regulator, published_round):
    with pytest.raises(NotAllowed):
        publication.close_appeal_window(published_round.pk, user=regulator)
    with pytest.raises(NotAllowed):
        publication.publish_final_list(published_round.pk, user=regulator)


def test_beat_closes_only_after_deadline(published_round, flag_a):
    assert close_expired_windows() == []
    with time_machine.travel(published_round.appeal_deadline + dt.timedelta(seconds=1)):
        assert close_expired_windows() == [published_round.pk]
        assert close_expired_windows() == []  # idempotent
    published_round.refresh_from_db()
    assert published_round.status == "closed"


def test_publish_refused_while_window_open_or_appeals_pending(admin_user, regulator, maker_a, flag_a, published_round):
    pending = appeal(maker_a, [flag_a])
    with pytest.raises(RoundStateError, match="申诉截止后"):
        publication.publish_final_list(published_round.pk, user=admin_user)
    publication.close_appeal_window(published_round.pk, user=admin_user)
    with pytest.raises(RoundStateError, match="1 件申诉未处理"):
        publication.publish_final_list(published_round.pk, user=admin_user)
    services.decide(
        pending.pk, user=regulator, outcome="upheld", reason="限价依据充分", expected_version=pending.lock_version
    )
    final = publication.publish_final_list(published_round.pk, user=admin_user)
    assert final.version == 1 and final.entry_count == 1


def test_final_list_has_adjusted_limit_and_excludes_accepted(admin_user, regulator, maker_a, maker_b, published_round):
    from catalogue.models import Manufacturer

    company_a, company_b = (
        Manufacturer.objects.get(pk=maker_a.company_id),
        Manufacturer.objects.get(pk=maker_b.company_id),
    )
    partial_flag, accepted_flag, plain_flag = (make_flag(published_round, company_a) for _ in range(3))
    other = make_flag(published_round, company_b)
    not_published = make_flag(published_round, company_b, status="dismissed")
    p = appeal(maker_a, [partial_flag])
    a = appeal(maker_a, [accepted_flag])
    services.decide(
        p.pk, user=regulator, outcome="partial", reason="r", new_limit_price="9.99", expected_version=p.lock_version
    )
    services.decide(a.pk, user=regulator, outcome="accepted", reason="r", expected_version=a.lock_version)
    publication.close_appeal_window(published_round.pk, user=admin_user)
    final = publication.publish_final_list(published_round.pk, user=admin_user)
    entries = {e.flag_id: e for e in final.entries.all()}
    assert set(entries) == {partial_flag.pk, plain_flag.pk, other.pk}
    assert entries[partial_flag.pk].limit_price == Decimal("9.99")
    assert entries[plain_flag.pk].limit_price == plain_flag.limit_price
    assert accepted_flag.pk not in entries and not_published.pk not in entries
    published_round.refresh_from_db()
    assert published_round.status == "final" and published_round.finalized_at
    assert AuditEvent.objects.filter(action="round.publish_final").count() == 1
    with pytest.raises(RoundStateError):  # frozen: no second publication, no more decisions
        publication.publish_final_list(published_round.pk, user=admin_user)


def test_lifecycle_panel_buttons_by_role(client, admin_user, regulator, published_round, flag_a):
    url = reverse("appeals:round_status", args=[published_round.pk])
    client.force_login(regulator)
    html = client.get(url).content.decode()
    assert "已公示(申诉期)" in html and "申诉截止" in html and "关闭申诉期" not in html
    client.force_login(admin_user)
    html = client.get(url).content.decode()
    assert 'id="close-window"' in html
    html = client.post(reverse("appeals:round_close", args=[published_round.pk])).content.decode()
    assert 'id="close-confirm"' in html and 'id="close-early"' in html  # a confirmation, nothing closed yet
    published_round.refresh_from_db()
    assert published_round.status == "published"
    client.post(reverse("appeals:round_close", args=[published_round.pk]), {"confirmed": "1"})
    html = client.get(url).content.decode()
    assert 'id="publish-final"' in html
    html = client.post(reverse("appeals:round_publish_final", args=[published_round.pk])).content.decode()
    assert 'id="final-listings">1<' in html and 'id="final-companies">1<' in html
    client.post(reverse("appeals:round_publish_final", args=[published_round.pk]), {"confirmed": "1"})
    html = client.get(url).content.decode()
    assert 'id="final-xlsx"' in html and 'id="final-print"' in html


def test_print_page_has_title_counts_and_table_and_is_audited(client, admin_user, published_round, flag_a, flag_b):
    publication.close_appeal_window(published_round.pk, user=admin_user)
    publication.publish_final_list(published_round.pk, user=admin_user)
    client.force_login(admin_user)
    html = client.get(reverse("appeals:final_print", args=[published_round.pk])).content.decode()
    assert published_round.title in html and "纠偏药品 2 个（每个挂网编号一行），涉及生产企业 2 家" in html
    assert flag_a.listing.listing_code in html and flag_b.listing.listing_code in html
    assert "final_print.css" in html
    assert AuditEvent.objects.filter(action="final_list.print").count() == 1


# ------------------------------------------------------------------ reminders

SH = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def reminder_round(rule_set, company_a, company_b, maker_a, maker_b):
    from tests.factories import RoundFactory

    maker_a.email, maker_b.email = "a@example.com", "b@example.com"
    maker_a.save()
    maker_b.save()
    deadline = dt.datetime(2026, 12, 10, 23, 59, 59, tzinfo=SH)
    round_ = RoundFactory(status="published", appeal_deadline=deadline, evidence_required=False)
    flag_a = make_flag(round_, company_a)
    make_flag(round_, company_b)
    return round_, flag_a


def test_reminders_sent_once_at_three_days_and_one_day(reminder_round, maker_a):
    round_, flag_a = reminder_round
    deadline = round_.appeal_deadline
    with time_machine.travel(deadline - dt.timedelta(days=4), tick=False):
        assert send_deadline_reminders() == 0
    with time_machine.travel(deadline - dt.timedelta(days=3) + dt.timedelta(minutes=5), tick=False):
        assert send_deadline_reminders() == 2
        assert send_deadline_reminders() == 0  # hourly rerun: nothing new
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.com", "b@example.com"]
    assert "2026-12-10 23:59" in mail.outbox[0].body
    # company A appeals (submitted) in between: only B gets the 1-day reminder
    with time_machine.travel(deadline - dt.timedelta(days=2), tick=False):
        appeal(maker_a, [flag_a])
    mail.outbox.clear()
    with time_machine.travel(deadline - dt.timedelta(hours=23), tick=False):
        assert send_deadline_reminders() == 1
        assert send_deadline_reminders() == 0
    assert [m.to for m in mail.outbox] == [["b@example.com"]]
    with time_machine.travel(deadline + dt.timedelta(seconds=1), tick=False):
        assert send_deadline_reminders() == 0
    assert ReminderSent.objects.filter(round=round_).count() == 3


def test_draft_does_not_count_as_appealed(reminder_round, maker_a):
    round_, flag_a = reminder_round
    with time_machine.travel(round_.appeal_deadline - dt.timedelta(days=2), tick=False):
        appeal(maker_a, [flag_a], submit=False)
        send_deadline_reminders()
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.com", "b@example.com"]


def test_no_reminders_for_closed_rounds(reminder_round, admin_user):
    round_, _ = reminder_round
    with time_machine.travel(round_.appeal_deadline - dt.timedelta(days=2), tick=False):
        publication.close_appeal_window(round_.pk, user=admin_user)
        assert send_deadline_reminders() == 0
    assert timezone.is_aware(round_.appeal_deadline)


def test_final_exports_xlsx_and_csv_hold_adjusted_limit_and_are_audited(
    client, admin_user, regulator, maker_a, flag_a, flag_a2, published_round
):
    import csv
    import io

    import openpyxl

    a = appeal(maker_a, [flag_a])
    services.decide(
        a.pk, user=regulator, outcome="partial", reason="r", new_limit_price="8.88", expected_version=a.lock_version
    )
    publication.close_appeal_window(published_round.pk, user=admin_user)
    publication.publish_final_list(published_round.pk, user=admin_user)
    client.force_login(admin_user)
    response = client.get(reverse("appeals:final_export", args=[published_round.pk, "xlsx"]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    header = list(rows[0])
    assert header[20] == "状态" and header[19] == "纠偏限价" and header[21:] == ["执行限价", "执行价差倍数"]
    limits = {row[header.index("挂网编号")]: row[header.index("纠偏限价")] for row in rows[1:]}
    binding = {row[header.index("挂网编号")]: row[header.index("执行限价")] for row in rows[1:]}
    assert binding == limits
    assert limits == {
        flag_a.listing.listing_code: pytest.approx(8.88),
        flag_a2.listing.listing_code: pytest.approx(float(flag_a2.limit_price)),
    }
    response = client.get(reverse("appeals:final_export", args=[published_round.pk, "csv"]))
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff序号")
    assert any(r and r[3] == flag_a.listing.listing_code and "8.88" in r for r in csv.reader(io.StringIO(text)))
    assert set(AuditEvent.objects.filter(action__startswith="final_list.export").values_list("action", flat=True)) == {
        "final_list.export_xlsx",
        "final_list.export_csv",
    }


def test_export_before_final_is_refused(client, admin_user, published_round, flag_a):
    client.force_login(admin_user)
    response = client.get(reverse("appeals:final_export", args=[published_round.pk, "xlsx"]), follow=True)
    assert "尚未发布最终纠偏清单" in response.content.decode()
