"""Exports: column order, numbers as numbers, formula injection neutralised, status filters, jobs."""

import csv
import shutil
import subprocess
from decimal import Decimal
from io import StringIO

import openpyxl
import pytest
from django.urls import reverse

from audit.models import AuditEvent
from pricing.models import ExportJob, FinalEntry, FinalList, FlagStatus
from pricing.review.exports import HEADERS, KINDS, flags_for_export, run_export_job, start_export, write_csv, write_xlsx
from tests.factories import FlagFactory, RoundFactory


@pytest.fixture
def round_100(db):
    rnd = RoundFactory()
    flags = [FlagFactory(round=rnd) for _ in range(99)]
    flags.append(FlagFactory(round=rnd, listing__generic_name="=1+1", listing__manufacturer__name="@SUM(A1)"))
    return rnd, flags


def test_csv_100_rows_neutralised_and_numeric(round_100):
    rnd, flags = round_100
    out = StringIO()
    assert write_csv(flags_for_export(rnd), out) == 100
    text = out.getvalue()
    assert text.startswith("\ufeff")
    rows = list(csv.reader(StringIO(text[1:])))
    assert rows[0] == HEADERS
    assert len(rows) == 101
    last = rows[-1]
    assert last[4] == "'=1+1" and last[8] == "'@SUM(A1)"
    for row in rows[1:]:
        Decimal(row[10]), Decimal(row[19])
        assert len(row[10].split(".")[1]) == 2 and len(row[11].split(".")[1]) == 4
        assert row[20] == "待审核"


def test_xlsx_has_no_formula_and_numbers_are_numbers(round_100, tmp_path):
    rnd, _flags = round_100
    path = tmp_path / "out.xlsx"
    assert write_xlsx(flags_for_export(rnd), path) == 100
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == HEADERS
    assert all(c.data_type != "f" for row in rows for c in row)
    texts = [c.value for row in rows[1:] for c in row if isinstance(c.value, str)]
    assert "'=1+1" in texts and "'@SUM(A1)" in texts
    for row in rows[1:]:
        assert row[10].data_type == "n" and row[10].number_format == "0.00"
        assert row[11].data_type == "n" and row[11].number_format == "0.0000"


LIBREOFFICE = shutil.which("libreoffice") or shutil.which("soffice")


@pytest.mark.skipif(LIBREOFFICE is None, reason="libreoffice not installed on this machine")
def test_xlsx_round_trips_through_libreoffice(round_100, tmp_path):
    rnd, _flags = round_100
    path = tmp_path / "out.xlsx"
    write_xlsx(flags_for_export(rnd), path)
    subprocess.run(
        [
            LIBREOFFICE,
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",  # own profile: safe next to other instances
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    out = StringIO()
    write_csv(flags_for_export(rnd), out)
    ours = list(csv.reader(StringIO(out.getvalue()[1:])))
    assert rows[0] == HEADERS
    assert len(rows) == len(ours) == 101
    for theirs, mine in zip(rows[1:], ours[1:], strict=True):
        for kind, their_cell, my_cell in zip(KINDS, theirs, mine, strict=True):
            if kind in "ipur" and my_cell:  # numbers come back as the same numbers
                assert Decimal(their_cell) == Decimal(my_cell)
            else:  # text comes back as the same text
                assert their_cell == my_cell
    seeded = [r for r in rows if r[8] == "'@SUM(A1)"]
    assert len(seeded) == 1 and seeded[0][4] == "'=1+1"  # text, not the formula's result 2


def test_status_filters_confirmed_and_final(round_100, regulator):
    rnd, flags = round_100
    for f in flags[:3]:
        f.status = FlagStatus.CONFIRMED
        f.save()
    assert flags_for_export(rnd, "confirmed").count() == 3
    assert flags_for_export(rnd, "final").count() == 0
    final = FinalList.objects.create(round=rnd, version=1, published_by=regulator)
    FinalEntry.objects.create(final_list=final, flag=flags[0], status="confirmed", limit_price=Decimal("1.23"))
    rows = list(csv.reader(StringIO(_csv(rnd, "final")[1:])))
    assert len(rows) == 2 and rows[1][19] == "1.23" and rows[1][20] == "确认纠偏"


def _csv(rnd, status):
    out = StringIO()
    write_csv(flags_for_export(rnd, status), out)
    return out.getvalue()


def test_export_job_runs_with_progress_audit_and_download(
    round_100, regulator, client, maker_a, django_capture_on_commit_callbacks
):
    rnd, _ = round_100
    client.force_login(regulator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("pricing:export_start", args=[rnd.pk]), {"format": "xlsx", "status": "all"})
    assert response.status_code == 302
    job = ExportJob.objects.get(round=rnd)
    assert job.state == "done" and job.progress == 100 and job.row_count == 100
    assert AuditEvent.objects.filter(action="round.export", object_id=str(rnd.pk)).exists()
    download = client.get(reverse("pricing:export_download", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content)[:2] == b"PK"
    client.force_login(maker_a)
    assert client.get(reverse("pricing:export_download", args=[job.pk])).status_code == 403
    assert client.get(reverse("pricing:export_status", args=[job.pk])).status_code == 403


def test_export_job_is_idempotent(round_100, regulator, django_capture_on_commit_callbacks):
    rnd, _ = round_100
    with django_capture_on_commit_callbacks(execute=True):
        job = start_export(rnd, fmt="csv", status="all", user=regulator)
    job.refresh_from_db()
    finished = job.finished_at
    assert run_export_job(job.pk).finished_at == finished
