"""SECURITY.md #17: a worker killed mid-import leaves no half-visible catalogue, and a retry completes it.

Real `celery worker -P solo` subprocesses on pytest-django's PostgreSQL test database and a Redis
broker, as in CI. The import task is acks_late, so the message of a worker that dies stays
unacknowledged in Redis and is delivered again after the broker's visibility timeout; the workers
here run with a short one (CELERY_VISIBILITY_TIMEOUT) instead of the production two hours.

To stop a worker at a known point, the test holds the version's row lock (SELECT … FOR UPDATE on a
connection of its own) once staging has begun: the worker's next progress update, or its activation,
waits for it — after the listing rows of a chunk were committed. Nothing in the import is changed.
"""

import contextlib
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from audit.models import AuditEvent
from catalogue import selectors, services
from catalogue.demo_data import generate_catalogue, write_frame
from catalogue.models import CatalogueVersion, ImportStatus, Listing
from config.celery import app as celery_app
from tests.conftest import celery_worker_command, requires_postgres, requires_redis, worker_env

pytestmark = [requires_postgres, requires_redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
ROWS = 60_000  # ≈ 2 s of import here: long enough to catch it while staging
VISIBILITY_TIMEOUT = 2  # seconds before Redis hands an unacknowledged message to another worker
TASK = "catalogue.tasks.import_catalogue_version"
RUNNING = (ImportStatus.PENDING, ImportStatus.IMPORTING)


def _forget_stale_messages() -> None:
    """A failed earlier run may have left an unacknowledged import of a version id this run reuses."""
    with celery_app.connection_for_write() as conn:
        channel = conn.default_channel
        channel.client.delete(channel.unacked_key, channel.unacked_index_key)
        channel.queue_purge(celery_app.conf.task_default_queue)


class Workers:
    """Solo Celery workers on the test database; each logs (at INFO: received/succeeded) to a file."""

    def __init__(self, folder: Path, private_root: Path) -> None:
        self.folder = folder
        self.env = worker_env(private_root, CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT))
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> subprocess.Popen:
        with (self.folder / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(
                celery_worker_command("-n", f"{name}@%h", loglevel="info"),
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def count(self, name: str, event: str) -> int:
        """How many times this worker logged `event` ("received", "succeeded") for the import task."""
        return len(re.findall(rf"{re.escape(TASK)}\[[^\]]+\] {event}", self.log(name)))

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


@pytest.fixture
def workers(settings, tmp_path):
    _forget_stale_messages()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    logs = tmp_path / "workers"
    logs.mkdir()
    pool = Workers(logs, settings.PRIVATE_ROOT)
    try:
        yield pool
    finally:
        pool.stop_all()
        celery_app.conf.task_always_eager = eager
        _forget_stale_messages()


class Progress:
    """What the import page shows, sampled as often as the test looks: (status, percent)."""

    def __init__(self, version_id: int) -> None:
        self.version_id = version_id
        self.samples: list[tuple[str, int]] = []

    def sample(self) -> tuple[str, int]:
        row = CatalogueVersion.objects.values_list("status", "progress").get(pk=self.version_id)
        self.samples.append(row)
        return row

    @property
    def percents(self) -> list[int]:
        return [percent for _status, percent in self.samples]


def _wait(condition: Callable[[], bool], what: str, workers: Workers, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for name, proc in workers.procs.items():
            if proc.returncode is None and proc.poll() is not None:
                pytest.fail(f"worker {name} exited while waiting for {what}:\n{workers.log(name)}")
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {name}\n{workers.log(name)}" for name in workers.procs)
            pytest.fail(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.01)


def _staging(progress: Progress) -> bool:
    status, percent = progress.sample()
    if status not in RUNNING:
        pytest.fail(f"the import ended ({status}) before the test could pause it; raise ROWS")
    return status == ImportStatus.IMPORTING and percent >= 30  # 0–30 % parsing, 30–95 % staging


def _waiting_backends(*events: str) -> int:
    """Other sessions of the test database waiting on a lock of the given kind (pg_stat_activity)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND wait_event_type = 'Lock' AND wait_event = ANY(%s)",
            [list(events)],
        )
        return cur.fetchone()[0]


@contextlib.contextmanager
def _version_row_locked(version_id: int) -> Iterator[str]:
    """Hold the version's row lock from another connection; yields the status seen under the lock."""
    conn = connection.Database.connect(**connection.get_connection_params())  # not autocommit: BEGIN
    try:
        with conn.cursor() as cur:
            table = CatalogueVersion._meta.db_table
            cur.execute(f"SELECT status FROM {table} WHERE id = %s FOR UPDATE", [version_id])
            yield cur.fetchone()[0]
    finally:
        conn.rollback()
        conn.close()


def _catalogue_upload(tmp_path: Path) -> tuple[SimpleUploadedFile, list[str]]:
    frame = generate_catalogue(ROWS, seed=17).catalogue
    path = write_frame(frame, tmp_path / "目录.csv")
    return SimpleUploadedFile("目录.csv", path.read_bytes()), frame["挂网编号"].tolist()


def _assert_imported_once(version: CatalogueVersion, codes: list[str], *, attempts: int) -> None:
    version.refresh_from_db()
    assert version.status == ImportStatus.ACTIVE, version.message
    assert (version.row_count, version.attempts, version.progress) == (ROWS, attempts, 100)
    listings = Listing.objects.filter(version=version)
    assert listings.count() == ROWS  # what an interrupted attempt staged was replaced, not added to
    assert sorted(listings.values_list("listing_code", flat=True)) == sorted(codes)
    assert selectors.active_listings(version.pk).count() == ROWS
    assert selectors.latest_active_version("湖南") == version
    assert AuditEvent.objects.filter(action="catalogue.import", object_id=str(version.pk)).count() == 1
    assert CatalogueVersion.objects.count() == 1


def test_killed_worker_leaves_nothing_visible_and_the_redelivered_task_completes_the_import(
    workers, regulator, client, tmp_path
):
    upload, codes = _catalogue_upload(tmp_path)
    first = workers.start("first")
    version = services.start_catalogue_import(upload, province="湖南", label="kill", user=regulator)
    progress = Progress(version.pk)
    _wait(lambda: _staging(progress), "the import to reach staging", workers)

    with _version_row_locked(version.pk) as status:
        assert status == ImportStatus.IMPORTING, "the import ended before the test could pause it"
        _wait(
            lambda: (
                Listing.objects.filter(version_id=version.pk).exists()
                and _waiting_backends("transactionid", "tuple") > 0
            ),
            "the worker to commit staged rows, then wait for the version row",
            workers,
        )
        staged = Listing.objects.filter(version_id=version.pk).count()
        progress.sample()
        first.send_signal(signal.SIGKILL)  # -P solo: the task runs in the worker's main process
        first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL
    assert workers.count("first", "received") == 1 and workers.count("first", "succeeded") == 0

    # Rows of the dead attempt are in the table, yet no reader sees any of them.
    version.refresh_from_db()
    assert (version.status, version.attempts, version.activated_at) == (ImportStatus.IMPORTING, 1, None)
    assert 0 < staged <= Listing.objects.filter(version=version).count()
    assert not selectors.active_versions().exists()
    assert selectors.latest_active_version("湖南") is None
    assert not selectors.active_listings().exists()
    assert not selectors.active_listings(version.pk, q=codes[0]).exists()
    assert not AuditEvent.objects.filter(action="catalogue.import").exists()
    client.force_login(regulator)
    api = client.get("/api/catalogue/listings/", {"version": version.pk, "q": codes[0]})
    assert api.status_code == 200 and api.json()["count"] == 0
    page = client.get(reverse("catalogue:version_detail", args=[version.pk])).content.decode()
    assert codes[0] not in page and codes[-1] not in page
    bar = client.get(reverse("catalogue:version_progress", args=[version.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in bar  # still shown as running, not as done or failed

    workers.start("second")  # no timer or beat: the redelivery alone finishes the import
    _wait(lambda: progress.sample()[0] not in RUNNING, "the redelivered import to finish", workers, timeout=60)
    _assert_imported_once(version, codes, attempts=2)
    assert workers.count("second", "received") == 1
    _wait(lambda: workers.count("second", "succeeded") == 1, "the second worker to acknowledge", workers)

    # The bar never went backwards over both attempts and showed 100 % only once the version was active.
    assert progress.percents == sorted(progress.percents), progress.samples
    assert all(percent < 100 for status, percent in progress.samples if status in RUNNING)
    assert progress.samples[-1] == (ImportStatus.ACTIVE, 100)


def test_redelivery_while_the_first_attempt_still_runs_waits_for_it_and_imports_nothing_twice(
    workers, regulator, tmp_path
):
    upload, codes = _catalogue_upload(tmp_path)
    workers.start("first")
    version = services.start_catalogue_import(upload, province="湖南", label="twice", user=regulator)
    progress = Progress(version.pk)
    _wait(lambda: _staging(progress), "the import to reach staging", workers)

    with _version_row_locked(version.pk) as status:
        assert status == ImportStatus.IMPORTING, "the import ended before the test could pause it"
        _wait(lambda: _waiting_backends("transactionid", "tuple") > 0, "the first attempt to pause", workers)
        # The first attempt is alive but slower than the visibility timeout: Redis hands its message on.
        workers.start("second")
        _wait(
            lambda: workers.count("second", "received") == 1 and _waiting_backends("advisory") == 1,
            "the duplicate delivery to wait for the import lock",
            workers,
        )
        version.refresh_from_db()
        assert (version.status, version.attempts) == (ImportStatus.IMPORTING, 1)

    _wait(
        lambda: (
            progress.sample()[0] not in RUNNING
            and workers.count("second", "succeeded") == 1
            and workers.count("first", "succeeded") >= 1
        ),  # each worker writes its log line in its own time
        "both deliveries to finish",
        workers,
    )
    assert workers.count("first", "received") == workers.count("first", "succeeded") == 1
    assert re.search(rf"{re.escape(TASK)}\[[^\]]+\] succeeded in [0-9.]+s: 'active'", workers.log("second"))
    _assert_imported_once(version, codes, attempts=1)  # the duplicate started no attempt of its own
    assert progress.percents == sorted(progress.percents), progress.samples
