"""PostgreSQL bulk load over parallel COPY connections (the path a real import outside a transaction takes)."""

import pytest
from django.db import DataError, connection

from catalogue import services
from catalogue.ingest import load
from catalogue.models import CatalogueVersion, ImportStatus, Listing
from tests.catalogue.test_import import assert_sample_imported
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_sample_loaded_in_many_chunks_over_parallel_connections(samples_dir, monkeypatch):
    monkeypatch.setattr(load, "CHUNK_ROWS", 5)  # 32 rows → 7 chunks over 2 connections
    used = []
    original = load._copy_in_parallel
    monkeypatch.setattr(load, "_copy_in_parallel", lambda *a, **k: used.append(1) or original(*a, **k))
    assert not connection.in_atomic_block
    version = services.import_catalogue(samples_dir / "catalogue_sample.csv", province="湖南", label="parallel")
    assert used, "the parallel COPY path was not taken"
    assert_sample_imported(version)
    rows = list(Listing.objects.filter(version=version).order_by("row_number").values_list("row_number", flat=True))
    assert rows == list(range(2, 34))  # every chunk once, none twice


def test_failed_chunk_leaves_no_rows_and_fails_the_version(samples_dir, monkeypatch):
    monkeypatch.setattr(load, "CHUNK_ROWS", 5)
    original = load._copy_text
    calls = []

    def broken_third_chunk(part, version_id, manufacturer_ids):
        calls.append(1)
        text = original(part, version_id, manufacturer_ids)
        return text.replace(",t,", ",not-a-bool,") if len(calls) == 3 else text

    monkeypatch.setattr(load, "_copy_text", broken_third_chunk)
    with pytest.raises(DataError):  # psycopg's error, wrapped as Django's
        services.import_catalogue(samples_dir / "catalogue_sample.csv", province="湖南", label="broken")
    version = CatalogueVersion.objects.get(label="broken")
    assert version.status == ImportStatus.FAILED
    assert not Listing.objects.exists()  # chunks committed before the failure were removed
