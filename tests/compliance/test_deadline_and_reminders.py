"""调价期限 on the final list in working days, reminders before it (once each), and the escalation
list that only an admin confirms, only after the deadline."""

import datetime as dt

import pytest
import time_machine
from django.core import mail

from audit.models import AuditEvent
from compliance import reminders, services
from compliance.errors import ComplianceError, NotAllowed
from compliance.models import AdjustmentReminder, EscalationList
from tests.compliance.conftest import publish_final
from tests.factories import UserFactory

BEIJING_FRIDAY_13_FEB = dt.datetime(2026, 2, 13, 1, 0, tzinfo=dt.UTC)  # 09:00 in Beijing


@pytest.fixture
def final_round_feb(sample_round, admin_user):
    with time_machine.travel(BEIJING_FRIDAY_13_FEB, tick=False):
        publish_final(sample_round, admin_user)
    return sample_round


def test_deadline_counts_working_days_from_the_final_list(final_round_feb, admin_user, regulator):
    with pytest.raises(NotAllowed):
        services.set_adjustment_deadline(final_round_feb.pk, working_days=10, user=regulator)
    term = services.set_adjustment_deadline(final_round_feb.pk, working_days=10, user=admin_user)
    assert term.starts_on == dt.date(2026, 2, 13) and term.due_date == dt.date(2026, 3, 5)
    assert term.deadline == dt.datetime(2026, 3, 5, 15, 59, 59, 999999, tzinfo=dt.UTC)
    term = services.set_adjustment_deadline(final_round_feb.pk, working_days=2, user=admin_user)
    assert term.due_date == dt.date(2026, 2, 24)  # 14 Feb (调休) and 24 Feb; Spring Festival between
    events = AuditEvent.objects.filter(action="compliance.adjustment_deadline").order_by("id")
    assert events.count() == 2 and events.last().before == {"working_days": 10, "due_date": "2026-03-05"}


def test_no_deadline_before_the_final_list(sample_round, admin_user):
    with pytest.raises(ComplianceError, match="尚未发布最终纠偏清单"):
        services.set_adjustment_deadline(sample_round.pk, working_days=10, user=admin_user)


def test_reminders_3_and_1_working_days_before_once_each(final_round_feb, admin_user, later_version):
    company = final_round_feb.flags.get(listing__listing_code="HN0041").manufacturer
    UserFactory(username="maker_41", role="manufacturer", company=company, email="price@example.com")
    services.set_adjustment_deadline(final_round_feb.pk, working_days=10, user=admin_user)  # due Thu 5 Mar
    services.run_check(services.create_check(final_round_feb.pk, later_version.pk, user=admin_user).pk)
    companies = reminders.companies_to_remind(final_round_feb.pk)
    assert company.pk in companies
    complied = final_round_feb.flags.get(listing__listing_code="HN0010").manufacturer_id
    assert complied not in companies  # its only listing came down to the limit
    at = lambda y, m, d: dt.datetime(y, m, d, 2, 0, tzinfo=dt.UTC)  # noqa: E731  10:00 in Beijing
    assert reminders.send_adjustment_reminders(at(2026, 2, 27)) == 0  # 5 working days left (28 Feb is worked)
    n3 = reminders.send_adjustment_reminders(at(2026, 3, 3))  # Tue: 3, 4, 5 Mar left
    assert n3 == len(companies) and reminders.send_adjustment_reminders(at(2026, 3, 3)) == 0
    n1 = reminders.send_adjustment_reminders(at(2026, 3, 5))
    assert n1 == len(companies)
    assert reminders.send_adjustment_reminders(at(2026, 3, 6)) == 0  # past the deadline
    assert AdjustmentReminder.objects.filter(company=company).count() == 2
    sent = [m for m in mail.outbox if m.to == ["price@example.com"]]
    assert len(sent) == 2 and "2026-03-05" in sent[0].body and final_round_feb.title in sent[0].subject


def test_escalation_only_by_an_admin_after_the_deadline(final_round_feb, admin_user, regulator, later_version):
    services.set_adjustment_deadline(final_round_feb.pk, working_days=10, user=admin_user)
    check = services.run_check(services.create_check(final_round_feb.pk, later_version.pk, user=admin_user).pk)
    assert check.scope == "final" and check.row_count == 14
    with time_machine.travel(dt.datetime(2026, 3, 5, 15, 59, 59, tzinfo=dt.UTC), tick=False):
        with pytest.raises(ComplianceError, match="尚未届满"):
            services.confirm_escalation(final_round_feb.pk, check.pk, user=admin_user)
    with time_machine.travel(dt.datetime(2026, 3, 5, 16, 0, 0, tzinfo=dt.UTC), tick=False):
        with pytest.raises(NotAllowed):
            services.confirm_escalation(final_round_feb.pk, check.pk, user=regulator)
        escalation = services.confirm_escalation(final_round_feb.pk, check.pk, user=admin_user, note="逾期未调价")
    codes = set(escalation.entries.values_list("result__listing_code", flat=True))
    assert codes == {"HN0021", "HN0041", "HN0042", "HN0081", "HN0095"}  # PARTIAL, NOT_ADJUSTED, NEW_SPEC_ABOVE
    assert escalation.entry_count == 5 and escalation.version == 1
    assert AuditEvent.objects.filter(action="compliance.escalation_confirm", object_id=str(escalation.pk)).exists()
    assert EscalationList.objects.count() == 1


def test_escalation_needs_a_check_of_the_final_list(final_round_feb, admin_user, later_version):
    services.set_adjustment_deadline(final_round_feb.pk, working_days=10, user=admin_user)
    check = services.run_check(
        services.create_check(final_round_feb.pk, later_version.pk, scope="confirmed", user=admin_user).pk
    )
    with pytest.raises(ComplianceError, match="最终纠偏清单"):
        services.confirm_escalation(final_round_feb.pk, check.pk, user=admin_user)
