"""Nothing stuck, nothing lost (issue 11 item 1), with real workers, a real beat and real Redis.

- SIGKILL of a solo worker's MAIN process mid-import and mid-detection: its message stays
  unacknowledged for the production-like visibility timeout (an hour here), so only the sweeper can
  finish the job: a second worker with a beat re-sends it once the dead worker's heartbeat is stale,
  and the job completes exactly once.
- Redis stopped while a catalogue is uploaded, a round is created, an export is requested and an
  appeal is decided: each request answers 202 (已受理), nothing is lost; Redis comes back EMPTY and the
  sweeper sends all four jobs again. That test runs its own redis-server on a free port: the shared
  server on 6379 (other test runs, CI) is never stopped.

Short sweeper, heartbeat and grace times come from the workers' environment.
"""

import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from appeals.models import Appeal, AppealFlag, AppealStatus
from audit.models import AuditEvent
from catalogue import services
from catalogue.demo_data import generate_catalogue, write_frame
from catalogue.models import CatalogueVersion, ImportStatus
from config.celery import app as celery_app
from jobs.models import JobTicket
from pricing.engine.rounds import create_round, run_detection
from pricing.models import CorrectionRound, ExportJob, Flag, JobStatus, RoundEvent, RoundStatus
from tests.catalogue.test_worker_killed import (
    Progress,
    _assert_imported_once,
    _catalogue_upload,
    _staging,
    _version_row_locked,
    _waiting_backends,
)
from tests.conftest import celery_worker_command, requires_postgres, requires_redis, worker_env
from tests.factories import FlagFactory

pytestmark = [requires_postgres, requires_redis, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
FAST_SWEEPER = {
    "CELERY_VISIBILITY_TIMEOUT": "3600",  # a dead worker's message comes back only after an hour
    "JOB_SWEEP_SECONDS": "1",
    "JOB_HEARTBEAT_SECONDS": "0.5",
    "JOB_STALE_SECONDS": "4",
    "JOB_QUEUED_GRACE_SECONDS": "2",
}


class Services:
    """Worker and beat subprocesses on the test database; logs in a folder."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.procs: dict[str, subprocess.Popen] = {}

    def _start(self, name: str, command: list[str]) -> subprocess.Popen:
        with (self.folder / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def worker(self, name: str) -> subprocess.Popen:
        return self._start(name, celery_worker_command("-n", f"{name}@%h", loglevel="info"))

    def beat(self) -> subprocess.Popen:
        celery = Path(sys.executable).parent / "celery"
        schedule = self.folder / "beat-schedule"
        return self._start("beat", [str(celery), "-A", "config", "beat", "-s", str(schedule), "-l", "info"])

    def logs(self) -> str:
        return "\n".join(
            f"--- {n}\n{(self.folder / f'{n}.log').read_text(errors='replace')[-3000:]}" for n in self.procs
        )

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _purge() -> None:
    with celery_app.connection_for_write() as conn:
        channel = conn.default_channel
        channel.client.delete(channel.unacked_key, channel.unacked_index_key)
        channel.queue_purge(celery_app.conf.task_default_queue)


@contextlib.contextmanager
def _real_broker(url: str | None = None) -> Iterator[None]:
    """Tasks go to the broker (not in-process) from this test process, optionally to another Redis.
    (Celery reads CELERY_BROKER_URL from the environment before its config, so the read/write URLs,
    which take precedence, are the ones redirected.)"""
    conf = celery_app.conf
    saved = (conf.task_always_eager, conf.get("broker_write_url"), conf.get("broker_read_url"))
    conf.task_always_eager = False
    if url:
        conf.broker_write_url = conf.broker_read_url = url
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
    try:
        yield
    finally:
        conf.task_always_eager, conf.broker_write_url, conf.broker_read_url = saved
        if url:
            celery_app._pool = None
            celery_app.amqp._producer_pool = None


def _wait(condition: Callable[[], bool], what: str, services_: Services, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{services_.logs()}")
        time.sleep(0.05)


@pytest.fixture
def pool(settings, tmp_path) -> Iterator[Services]:
    logs = tmp_path / "logs"
    logs.mkdir()
    services_ = Services(logs, worker_env(settings.PRIVATE_ROOT, **FAST_SWEEPER))
    _purge()
    try:
        with _real_broker():
            yield services_
    finally:
        services_.stop_all()
        _purge()


def test_sigkill_of_the_worker_main_process_mid_import_is_finished_by_the_sweeper(pool, regulator, tmp_path):
    upload, codes = _catalogue_upload(tmp_path)
    first = pool.worker("first")
    version = services.start_catalogue_import(upload, province="湖南", label="kill", user=regulator)
    progress = Progress(version.pk)
    _wait(lambda: _staging(progress), "the import to reach staging", pool)
    with _version_row_locked(version.pk):
        _wait(lambda: _waiting_backends("transactionid", "tuple") > 0, "the worker to wait mid-import", pool)
        first.send_signal(signal.SIGKILL)  # -P solo: the task runs in the main process
        first.wait(timeout=10)
    version.refresh_from_db()
    assert (version.status, version.attempts) == (ImportStatus.IMPORTING, 1)  # "导入中", stuck without a sweeper

    started = time.monotonic()
    pool.worker("second")
    pool.beat()
    _wait(lambda: progress.sample()[0] not in (ImportStatus.PENDING, ImportStatus.IMPORTING), "the re-sent import",
          pool)  # fmt: skip
    _assert_imported_once(version, codes, attempts=2)
    assert time.monotonic() - started < 90
    ticket = JobTicket.objects.get(kind="catalogue.import", object_id=version.pk)
    assert ticket.done_at is not None and ticket.requeues == 1
    assert AuditEvent.objects.filter(action="job.requeued", object_id=str(version.pk)).count() == 1
    assert progress.percents == sorted(progress.percents), progress.samples


@contextlib.contextmanager
def _flags_table_locked() -> Iterator[None]:
    """Detection replaces the round's flags first; a SHARE lock on the table makes it wait right there."""
    conn = connection.Database.connect(**connection.get_connection_params())
    try:
        with conn.cursor() as cur:
            cur.execute(f"LOCK TABLE {Flag._meta.db_table} IN SHARE MODE")
            yield
    finally:
        conn.rollback()
        conn.close()


def test_sigkill_of_the_worker_main_process_mid_detection_is_finished_by_the_sweeper(pool, regulator, tmp_path):
    frame = generate_catalogue(3000, seed=5).catalogue
    version = services.import_catalogue(write_frame(frame, tmp_path / "目录.csv"), province="湖南")
    first = pool.worker("first")
    with _flags_table_locked():
        rnd = create_round(catalogue_version=version, title="杀进程批次", user=regulator)
        _wait(lambda: _waiting_backends("relation") > 0, "detection to start and wait on the flags", pool)
        row = CorrectionRound.objects.values_list("detection_status", "progress").get(pk=rnd.pk)
        assert row == (JobStatus.RUNNING, 5)  # "计算中 5%"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

    pool.worker("second")
    pool.beat()
    _wait(lambda: CorrectionRound.objects.get(pk=rnd.pk).detection_status == JobStatus.DONE, "re-sent detection", pool)
    rnd.refresh_from_db()
    assert rnd.attempts == 2 and rnd.flag_count == Flag.objects.filter(round=rnd).count() > 0
    assert RoundEvent.objects.filter(round=rnd, action="detected").count() == 1
    assert AuditEvent.objects.filter(action="round.detect", object_id=str(rnd.pk)).count() == 1
    assert JobTicket.objects.get(kind="round.detect", object_id=rnd.pk).requeues == 1


# --- Redis outage ----------------------------------------------------------------------------------------
def _free_port() -> int:
    for port in range(8650, 8699):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 8650–8698")


class OwnRedis:
    """A redis-server of this test only (no persistence: a restart comes back empty)."""

    def __init__(self, port: int, folder: Path) -> None:
        self.port, self.folder = port, folder
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server to start a private Redis")
def test_redis_down_during_upload_round_export_and_decision_then_back_empty_all_complete(
    settings, tmp_path, client, regulator, maker_a, company_a
):
    # What exists before the outage: an active catalogue, a detected round, a submitted appeal.
    frame = generate_catalogue(500, seed=3).catalogue
    base = services.import_catalogue(write_frame(frame, tmp_path / "基础.csv"), province="湖北")
    done_round = create_round(catalogue_version=base, title="已算批次", user=regulator, enqueue=False)
    run_detection(done_round.pk)
    flag = FlagFactory(listing__manufacturer=company_a, status="confirmed")
    published = flag.round
    published.status, published.published_at = RoundStatus.PUBLISHED, timezone.now()
    published.appeal_deadline = timezone.now() + timezone.timedelta(days=5)
    published.save()
    maker_a.email = "maker@a.example"
    maker_a.save()
    appeal = Appeal.objects.create(round=published, company=company_a, grounds="cost", statement="成本",
                                   created_by=maker_a, status=AppealStatus.SUBMITTED)  # fmt: skip
    AppealFlag.objects.create(appeal=appeal, flag=flag)

    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    redis = OwnRedis(port, tmp_path)
    redis.start()
    mail_dir = tmp_path / "mail"
    mail = {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": str(mail_dir)}
    env = worker_env(settings.PRIVATE_ROOT, **FAST_SWEEPER, CELERY_BROKER_URL=url, **mail)
    logs = tmp_path / "logs"
    logs.mkdir()
    pool = Services(logs, env)
    try:
        with _real_broker(url):
            pool.worker("worker")
            pool.beat()
            time.sleep(2)
            redis.stop()  # ---- outage ----
            client.force_login(regulator)
            upload_path = write_frame(generate_catalogue(300, seed=9).catalogue, tmp_path / "新目录.csv")
            with upload_path.open("rb") as fh:
                upload = client.post("/api/catalogue/versions/upload/", {"file": fh, "province": "湖南"})
            new_round = client.post("/api/pricing/engine/rounds/", {"catalogue_version": base.pk, "title": "断网批次"},
                                    "application/json")  # fmt: skip
            export = client.post(f"/api/pricing/engine/rounds/{done_round.pk}/exports/",
                                 {"format": "csv", "status": "all"}, "application/json")  # fmt: skip
            decision = client.post(f"/api/appeals/appeals/{appeal.pk}/decide/",
                                   {"outcome": "upheld", "reason": "材料不足", "lock_version": appeal.lock_version},
                                   "application/json")  # fmt: skip
            answers = [r.status_code for r in (upload, new_round, export, decision)]
            assert answers == [202, 202, 202, 202], [r.content[:300] for r in (upload, new_round, export, decision)]
            version_id, round_id, job_id = upload.json()["id"], new_round.json()["id"], export.json()["id"]
            assert JobTicket.objects.filter(done_at__isnull=True, sent=False).count() == 4
            time.sleep(3)
            redis.start()  # ---- back, and empty ----

            def all_done() -> bool:
                return (
                    CatalogueVersion.objects.get(pk=version_id).status == ImportStatus.ACTIVE
                    and CorrectionRound.objects.get(pk=round_id).detection_status == JobStatus.DONE
                    and ExportJob.objects.get(pk=job_id).state == JobStatus.DONE
                    and JobTicket.objects.filter(done_at__isnull=True).count() == 0
                )

            _wait(all_done, "all four jobs after Redis came back", pool, timeout=150)
        appeal.refresh_from_db()
        assert appeal.status == AppealStatus.UPHELD
        sent = list(mail_dir.glob("*.log"))
        assert len(sent) == 1 and "maker@a.example" in sent[0].read_text()
        assert AuditEvent.objects.filter(action="job.requeued").count() == 4
        assert Path(ExportJob.objects.get(pk=job_id).file_path).exists()
    finally:
        pool.stop_all()
        redis.stop()
