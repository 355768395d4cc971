"""Durable jobs without a real worker (issue 11 item 1): tickets, the sweeper, broker outages.

Tasks run in-process (eager); the broker is "down" when sending raises kombu's OperationalError,
which is what Celery raises when Redis refuses the connection.
"""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from audit.models import AuditEvent
from catalogue.models import CatalogueVersion, ImportStatus
from jobs import enqueue as enqueue_module
from jobs.models import JobTicket
from jobs.runner import ticket_run
from jobs.sweeper import sweep
from pricing.models import CorrectionRound, JobStatus
from tests.catalogue.helpers import sample_rows, write_csv
from tests.conftest import requires_postgres
from tests.factories import CatalogueVersionFactory


class _DownTask:
    def delay(self, *args):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def broker_down(monkeypatch):
    real = enqueue_module.import_string
    monkeypatch.setattr(enqueue_module, "import_string", lambda name: _DownTask())
    yield
    monkeypatch.setattr(enqueue_module, "import_string", real)


def _upload(client, path, url):
    with path.open("rb") as fh:
        return client.post(url, {"file": SimpleUploadedFile(path.name, fh.read()), "province": "湖南"})


@pytest.mark.django_db(transaction=True)
def test_broker_outage_accepts_the_upload_and_the_sweeper_runs_it_later(
    client, regulator, samples_dir, monkeypatch, settings, tmp_path
):
    settings.JOB_QUEUED_GRACE_SECONDS = 0
    client.force_login(regulator)
    real = enqueue_module.import_string
    monkeypatch.setattr(enqueue_module, "import_string", lambda name: _DownTask())
    api = _upload(client, samples_dir / "catalogue_sample.csv", "/api/catalogue/versions/upload/")
    assert api.status_code == 202 and api["X-Job-Status"] == "queued"
    header, rows = sample_rows(samples_dir)
    second = write_csv(tmp_path / "第二版.csv", header, rows[:-1])  # another file: not a duplicate
    page = _upload(client, second, reverse("catalogue:version_upload"))
    assert page.status_code == 302
    shown = client.get(page.url).content.decode()
    assert "已受理，稍后开始" in shown and "排队中" in shown
    versions = list(CatalogueVersion.objects.order_by("pk"))
    assert [v.status for v in versions] == [ImportStatus.PENDING] * 2
    assert not JobTicket.objects.filter(sent=True).exists()
    assert sweep() == []  # still down: the sweeper tries, fails, keeps the tickets open
    assert JobTicket.objects.filter(done_at__isnull=True).count() == 2

    monkeypatch.setattr(enqueue_module, "import_string", real)  # the broker is back
    resent = sweep()
    assert sorted(resent) == sorted(("catalogue.import", v.pk) for v in versions)
    assert {v.status for v in CatalogueVersion.objects.all()} == {ImportStatus.ACTIVE}
    assert JobTicket.objects.filter(done_at__isnull=True).count() == 0
    assert sweep() == []  # idempotent: nothing left to send
    assert AuditEvent.objects.filter(action="catalogue.import").count() == 2


@pytest.mark.django_db(transaction=True)
def test_broker_outage_round_creation_answers_202_and_detection_follows(client, regulator, broker_down, settings):
    version = CatalogueVersionFactory()
    client.force_login(regulator)
    response = client.post(
        "/api/pricing/engine/rounds/", {"catalogue_version": version.pk, "title": "断网批次"}, "application/json"
    )
    assert response.status_code == 202
    rnd = CorrectionRound.objects.get(title="断网批次")
    assert rnd.detection_status == JobStatus.PENDING
    ticket = JobTicket.objects.get(kind="round.detect", object_id=rnd.pk)
    assert (ticket.sent, ticket.done_at) == (False, None)


@pytest.mark.django_db
def test_sweeper_resends_a_job_whose_worker_stopped_beating(settings):
    settings.JOB_STALE_SECONDS = 60
    now = timezone.now()
    stale = JobTicket.objects.create(kind="export", object_id=1, enqueued_at=now, started_at=now, beat_at=now)
    JobTicket.objects.create(kind="export", object_id=2, enqueued_at=now, started_at=now, beat_at=now)
    JobTicket.objects.filter(pk=stale.pk).update(beat_at=now - dt.timedelta(seconds=61))
    sent = []
    original = enqueue_module.send
    try:
        import jobs.sweeper as sweeper_module

        sweeper_module.send = lambda kind, object_id: sent.append((kind, object_id)) or True
        assert sweep(now) == [("export", 1)]
        assert sweep(now) == []  # the re-sent ticket counts as queued again, within its grace time
    finally:
        sweeper_module.send = original
    assert sent == [("export", 1)]
    stale.refresh_from_db()
    assert (stale.requeues, stale.started_at) == (1, None)
    event = AuditEvent.objects.get(action="job.requeued")
    assert (event.object_type, event.object_id, event.reason) == ("export", "1", "running, heartbeat stopped")


@pytest.mark.django_db
def test_sweeper_gives_up_after_the_limit(settings):
    settings.JOB_MAX_REQUEUES = 2
    old = timezone.now() - dt.timedelta(hours=1)
    ticket = JobTicket.objects.create(kind="export", object_id=9, enqueued_at=old, started_at=old, beat_at=old,
                                      requeues=2)  # fmt: skip
    assert sweep() == []
    ticket.refresh_from_db()
    assert ticket.done_at is not None and "gave up" in ticket.message
    assert AuditEvent.objects.filter(action="job.given_up", object_id="9").exists()


@pytest.mark.django_db
def test_a_delivery_of_a_finished_job_does_nothing():
    with ticket_run("export", 5, eager=True) as go:
        assert go
    with ticket_run("export", 5, eager=True) as go:
        assert not go  # a redelivered message after the job finished: skipped


@pytest.mark.django_db
def test_a_failing_job_closes_its_ticket_with_the_reason():
    with pytest.raises(ValueError), ticket_run("export", 6, eager=True):
        raise ValueError("disk full")
    ticket = JobTicket.objects.get(kind="export", object_id=6)
    assert ticket.done_at is not None and ticket.message == "ValueError: disk full"


@pytest.mark.django_db
def test_a_job_that_asks_celery_to_retry_keeps_its_ticket_open():
    from celery.exceptions import Retry

    with pytest.raises(Retry), ticket_run("export", 7, eager=True):
        raise Retry("broker busy")
    ticket = JobTicket.objects.get(kind="export", object_id=7)
    assert ticket.done_at is None and ticket.started_at is None  # the retry message carries the job on


@pytest.mark.django_db
def test_pages_show_queued_retrying_and_the_live_detection_progress(client, regulator):
    from django.urls import reverse

    from tests.factories import RoundFactory

    now = timezone.now()
    rnd = RoundFactory(detection_status=JobStatus.RUNNING, progress=5)  # 5 %: the row the transaction holds
    JobTicket.objects.create(kind="round.detect", object_id=rnd.pk, enqueued_at=now, started_at=now, beat_at=now,
                             progress=60, requeues=1)  # fmt: skip
    client.force_login(regulator)
    html = client.get(reverse("pricing:round_progress", args=[rnd.pk])).content.decode()
    assert 'value="60"' in html and "重试中" in html
    version = CatalogueVersionFactory(status=ImportStatus.PENDING)
    JobTicket.objects.create(kind="catalogue.import", object_id=version.pk, enqueued_at=now)
    html = client.get(reverse("catalogue:version_progress", args=[version.pk])).content.decode()
    assert "排队中" in html and "重试中" not in html
    JobTicket.objects.filter(kind="catalogue.import").update(requeues=2)
    html = client.get(reverse("catalogue:version_progress", args=[version.pk])).content.decode()
    assert "排队中" in html and "重试中，第 2 次" in html


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_job_holds_its_transaction(settings):
    """The heartbeat writes on its own connection: another session sees the progress of a detection
    whose round row and flags are still locked inside its transaction (issue 11 item 5)."""
    import time

    from django.db import connection, transaction

    from jobs.runner import report_progress
    from tests.factories import RoundFactory

    settings.JOB_HEARTBEAT_SECONDS = 0.2
    rnd = RoundFactory()
    other = connection.Database.connect(**connection.get_connection_params(), autocommit=True)
    try:
        with ticket_run("round.detect", rnd.pk, eager=False) as go, transaction.atomic():
            assert go
            CorrectionRound.objects.select_for_update().get(pk=rnd.pk)
            CorrectionRound.objects.filter(pk=rnd.pk).update(progress=40)  # invisible until commit
            report_progress("round.detect", rnd.pk, 40)
            deadline = time.monotonic() + 5
            seen = 0
            while seen != 40 and time.monotonic() < deadline:
                time.sleep(0.1)
                with other.cursor() as cur:
                    cur.execute("SELECT progress FROM jobs_jobticket WHERE kind = 'round.detect' AND object_id = %s",
                                [rnd.pk])  # fmt: skip
                    seen = cur.fetchone()[0]
            assert seen == 40
    finally:
        other.close()
