"""The import through a REAL Celery worker (subprocess) on PostgreSQL + Redis, as in CI."""

import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from catalogue import services
from catalogue.models import CatalogueVersion, ImportStatus, Listing
from tests.conftest import requires_postgres, requires_redis, running_worker


@pytest.fixture
def worker(settings):
    """A solo Celery worker on the test database, tasks no longer eager in this process."""
    with running_worker(settings.PRIVATE_ROOT) as proc:
        yield proc


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
