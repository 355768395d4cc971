"""The compliance page (staff), its actions (check, deadline, escalation, exports) and the
manufacturer's own compliance page."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from audit.models import AuditEvent
from compliance import services
from compliance.models import ComplianceCheck, EscalationList
from tests.compliance.conftest import publish_final
from tests.factories import UserFactory

FEB_13 = dt.datetime(2026, 2, 13, 1, 0, tzinfo=dt.UTC)  # 09:00 in Beijing
AFTER_DEADLINE = dt.datetime(2026, 3, 6, 1, 0, tzinfo=dt.UTC)  # due 5 Mar (10 working days)


def test_regulator_starts_a_check_from_the_page(
    client, regulator, sample_round, later_version, django_capture_on_commit_callbacks
):
    client.force_login(regulator)
    url = reverse("compliance:round", args=[sample_round.pk])
    html = client.get(url).content.decode()
    assert later_version.label in html and 'id="deadline-form"' not in html  # deadline: admin only
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("compliance:start_check", args=[sample_round.pk]),
            {"catalogue_version": later_version.pk, "scope": ""},
        )
    assert response.status_code == 302
    check = ComplianceCheck.objects.get()
    assert check.state == "done" and check.requested_by == regulator and check.scope == "confirmed"
    html = client.get(url).content.decode()
    assert '<b id="savings">640.85</b>' in html
    assert 'data-status="COMPLIED">6<' in html and 'data-status="NEW_SPEC_ABOVE">1<' in html
    assert 'id="chart-rounds"' in html and "申制药有限公司" in html  # by company
    csv_text = client.get(reverse("compliance:check_csv", args=[check.pk])).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert len(rows) == 14 and {r["合规状态"] for r in rows} >= {"COMPLIED", "NEW_SPEC_ABOVE"}


def test_a_version_of_another_province_is_refused(client, regulator, sample_round, samples_dir, tmp_path):
    from catalogue.services import import_catalogue
    from tests.compliance.conftest import later_rows, write_catalogue

    path = write_catalogue(tmp_path / "gd.csv", later_rows(samples_dir))
    other = import_catalogue(path, province="广东", label="广东")
    client.force_login(regulator)
    response = client.post(reverse("compliance:start_check", args=[sample_round.pk]), {"catalogue_version": other.pk})
    assert response.status_code == 302 and not ComplianceCheck.objects.exists()
    with pytest.raises(Exception, match="只能核查同一省份的目录"):
        services.create_check(sample_round.pk, other.pk)


def test_admin_sets_the_deadline_on_the_page(client, admin_user, sample_round):
    with time_machine.travel(FEB_13, tick=False):
        publish_final(sample_round, admin_user)
    client.force_login(admin_user)
    client.post(reverse("compliance:set_deadline", args=[sample_round.pk]), {"working_days": "2"})
    html = client.get(reverse("compliance:round", args=[sample_round.pk])).content.decode()
    assert '<b class="small" id="adjustment-deadline">2026-02-24</b>' in html


def test_escalation_confirmed_and_exported_by_the_admin(client, admin_user, regulator, checked_round):
    url = reverse("compliance:round", args=[checked_round.pk])
    check = ComplianceCheck.objects.get()
    client.force_login(admin_user)
    with time_machine.travel(AFTER_DEADLINE, tick=True):
        html = client.get(url).content.decode()
        assert 'id="confirm-escalation"' in html
        client.post(
            reverse("compliance:confirm_escalation", args=[checked_round.pk]), {"check_id": check.pk, "note": "逾期"}
        )
    escalation = EscalationList.objects.get()
    assert escalation.entry_count == 5
    client.force_login(admin_user)  # the session idled out while the clock was moved
    response = client.get(reverse("compliance:escalation_export", args=[escalation.pk, "csv"]))
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff序号,挂网编号")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert {r["挂网编号"] for r in rows} == {"HN0021", "HN0041", "HN0042", "HN0081", "HN0095"}
    response = client.get(reverse("compliance:escalation_export", args=[escalation.pk, "xlsx"]))
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("序号", "挂网编号", "通用名") and len(values) == 6
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    exported = AuditEvent.objects.filter(action="compliance.escalation_export", object_id=str(escalation.pk))
    assert sorted(e.after["format"] for e in exported) == ["csv", "xlsx"]
    client.force_login(regulator)
    assert client.get(reverse("compliance:escalation_export", args=[escalation.pk, "csv"])).status_code == 403


def test_manufacturer_sees_only_its_own_company(client, checked_round):
    flag = checked_round.flags.get(listing__listing_code="HN0021")
    other = checked_round.flags.get(listing__listing_code="HN0041")
    maker = UserFactory(username="maker_wu", role="manufacturer", company=flag.manufacturer)
    client.force_login(maker)
    html = client.get(reverse("compliance:mine")).content.decode()
    assert 'data-code="HN0021"' in html and "部分调价" in html and "2026-03-05" in html
    assert 'data-code="HN0041"' not in html and other.manufacturer.name not in html
    assert client.get(reverse("compliance:round", args=[checked_round.pk])).status_code == 403


def test_manufacturer_sees_nothing_of_a_round_without_a_final_list(client, sample_round, later_version):
    """A regulator's check of the confirmed flags before publication stays internal."""
    services.run_check(services.create_check(sample_round.pk, later_version.pk).pk)
    company = sample_round.flags.get(listing__listing_code="HN0021").manufacturer
    client.force_login(UserFactory(username="maker_early", role="manufacturer", company=company))
    html = client.get(reverse("compliance:mine")).content.decode()
    assert 'data-code="HN0021"' not in html and sample_round.title not in html
