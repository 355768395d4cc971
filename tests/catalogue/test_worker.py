"""The import through a REAL Celery worker (subprocess) on PostgreSQL + Redis, as in CI."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from catalogue import services
from catalogue.models import CatalogueVersion, ImportStatus, Listing
from config.celery import app as celery_app
from tests.conftest import redis_url, requires_postgres, requires_redis

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(settings):
    """A solo Celery worker on the test database, tasks no longer eager in this process."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),  # pytest-django's test_<name> database
        "CELERY_BROKER_URL": redis_url(),
        "PRIVATE_ROOT": str(settings.PRIVATE_ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    celery = Path(sys.executable).parent / "celery"
    proc = subprocess.Popen(
        [str(celery), "-A", "config", "worker", "-P", "solo", "-c", "1", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "-l", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield proc
    finally:
        celery_app.conf.task_always_eager = eager
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@requires_postgres
@requires_redis
@pytest.mark.django_db(transaction=True)
def test_upload_is_imported_by_a_real_worker(worker, regulator, samples_dir):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    upload = SimpleUploadedFile("目录.csv", (samples_dir / "catalogue_sample.csv").read_bytes())
    version = services.start_catalogue_import(upload, province="湖南", label="worker", user=regulator)
    seen_progress = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        version.refresh_from_db()
        seen_progress.append(version.progress)
        if version.status not in (ImportStatus.PENDING, ImportStatus.IMPORTING):
            break
        if worker.poll() is not None:
            pytest.fail(f"worker exited: {worker.stdout.read().decode(errors='replace')}")
        time.sleep(0.2)
    assert version.status == ImportStatus.ACTIVE, version.message
    assert (version.row_count, version.active_count, version.attempts) == (32, 31, 1)
    assert Listing.objects.filter(version=version).count() == 32
    assert str(Listing.objects.get(version=version, listing_code="HN0001").unit_price) == "102.7800000000"
    assert seen_progress == sorted(seen_progress)  # never goes backwards
    assert CatalogueVersion.objects.count() == 1
