"""The import task's retry policy: transient database errors retry, a poison import ends FAILED.

Run eagerly, but without eager propagation, as a worker runs them: `self.retry` then re-applies the
task with `retries + 1` (the countdown is skipped) instead of raising `Retry` into the caller.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError

from audit.models import AuditEvent
from catalogue import services, tasks
from catalogue.models import CatalogueVersion, ImportStatus, Listing
from config.celery import app as celery_app

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _retries_as_in_a_worker():
    propagates = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = propagates


@pytest.fixture
def version(tmp_path):
    return CatalogueVersion.objects.create(
        province="湖南", source_name="x.csv", source_path=str(tmp_path / "x.csv"), source_hash="0" * 64
    )


def _flaky(monkeypatch, failures: int | None, exc: Exception) -> list[int]:
    """Make the import raise `exc` `failures` times (None: always), then run for real; returns the calls."""
    calls: list[int] = []
    real = services.process_catalogue_version

    def process(version_id: int) -> CatalogueVersion:
        calls.append(version_id)
        if failures is None or len(calls) <= failures:
            raise exc
        return real(version_id)

    monkeypatch.setattr(services, "process_catalogue_version", process)
    return calls


def test_poison_import_is_tried_max_tries_times_then_ends_failed(monkeypatch, version):
    calls = _flaky(monkeypatch, None, OperationalError("could not serialize access"))
    result = tasks.import_catalogue_version.apply(args=[version.pk])
    assert result.get() == ImportStatus.FAILED
    assert calls == [version.pk] * tasks.MAX_TRIES
    version.refresh_from_db()
    assert version.status == ImportStatus.FAILED and "could not serialize access" in version.message
    assert AuditEvent.objects.filter(action="catalogue.import_failed", object_id=str(version.pk)).count() == 1
    assert not AuditEvent.objects.filter(action="catalogue.import").exists()


def test_permanent_error_is_not_retried(monkeypatch, version):
    calls = _flaky(monkeypatch, None, ValueError("bad"))
    assert tasks.import_catalogue_version.apply(args=[version.pk]).get() == ImportStatus.FAILED
    assert len(calls) == 1
    version.refresh_from_db()
    assert (version.status, version.message) == (ImportStatus.FAILED, "bad")


def test_transient_error_is_retried_and_the_import_completes(
    monkeypatch, samples_dir, regulator, django_capture_on_commit_callbacks
):
    calls = _flaky(monkeypatch, tasks.MAX_TRIES - 1, OperationalError("server closed the connection"))
    upload = SimpleUploadedFile("目录.csv", (samples_dir / "catalogue_sample.csv").read_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        version = services.start_catalogue_import(upload, province="湖南", user=regulator)
    assert len(calls) == tasks.MAX_TRIES
    version.refresh_from_db()
    assert (version.status, version.row_count, version.attempts) == (ImportStatus.ACTIVE, 32, 1)
    assert Listing.objects.filter(version=version).count() == 32
    assert AuditEvent.objects.filter(action="catalogue.import", object_id=str(version.pk)).count() == 1
