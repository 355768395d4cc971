"""Listings are staged without model instances (COPY / executemany) yet store exactly what the ORM would."""

import json
from decimal import Decimal

import pytest

from catalogue import services
from catalogue.ingest import load
from catalogue.ingest.normalise import LISTING_FIELDS
from catalogue.ingest.pipeline import prepare_catalogue
from catalogue.models import CatalogueVersion, ImportStatus, Listing
from catalogue.vocabulary import current_vocabulary

pytestmark = pytest.mark.django_db

FIELDS = [f.attname for f in Listing._meta.concrete_fields if f.attname not in ("id", "version_id")]


def _rows(version_id: int) -> list[tuple]:
    return list(Listing.objects.filter(version_id=version_id).order_by("row_number").values_list(*FIELDS))


def _orm_copy(path, manufacturer_ids: dict[int, int]) -> int:
    """The same file written the slow way (one Listing instance per row) under another version."""
    data = prepare_catalogue(path, current_vocabulary())
    version = CatalogueVersion.objects.create(
        province="对照", source_name="orm.csv", source_path=str(path), source_hash="1" * 64, status=ImportStatus.ACTIVE
    )
    ids = load.upsert_manufacturers(data.manufacturers)
    objects = []
    for record in data.frame.to_dict("records"):
        values = {f: record[f] for f in LISTING_FIELDS}
        for f in ("content_value", "volume_ml", "listed_price", "unit_price"):
            values[f] = Decimal(values[f]) if values[f] is not None else None
        values["extra"] = json.loads(values["extra"])
        objects.append(Listing(version=version, manufacturer_id=ids[record["manufacturer_norm"]], **values))
    Listing.objects.bulk_create(objects)
    return version.pk


@pytest.mark.parametrize("chunk_rows", [None, 7])
def test_staged_rows_equal_orm_rows(samples_dir, monkeypatch, chunk_rows):
    if chunk_rows:
        monkeypatch.setattr(load, "SQLITE_CHUNK_ROWS", chunk_rows)
        monkeypatch.setattr(load, "CHUNK_ROWS", chunk_rows)
    path = samples_dir / "catalogue_sample.csv"
    version = services.import_catalogue(path, province="湖南", label="bulk")
    expected = _orm_copy(path, {})
    got = _rows(version.pk)
    assert len(got) == version.row_count == 32
    assert got == _rows(expected)


def test_extra_columns_and_awkward_text_survive(tmp_path, samples_dir):
    """Extra (unknown) columns, quotes and commas: the JSON column and text equal the ORM's."""
    lines = (samples_dir / "catalogue_sample.csv").read_text(encoding="utf-8-sig").splitlines()
    header, rows = lines[0], lines[1:6]
    path = tmp_path / "extra.csv"
    body = [f'{r},"备注,""甲""",ü' for r in rows]
    path.write_text("\n".join([f"{header},备注,其他", *body]) + "\n", encoding="utf-8")
    version = services.import_catalogue(path, province="湖南", label="extra")
    expected = _orm_copy(path, {})
    got = _rows(version.pk)
    assert got == _rows(expected)
    listing = Listing.objects.filter(version=version).order_by("row_number").first()
    assert listing.extra == {"备注": '备注,"甲"', "其他": "ü"}


@pytest.mark.django_db(transaction=True)
def test_sqlite_load_pragmas_are_restored(samples_dir, monkeypatch):
    """Outside a transaction (a real import) the SQLite load runs under its PRAGMAs, then restores them."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite load PRAGMAs")

    def pragmas() -> tuple:
        with connection.cursor() as cur:
            return tuple(cur.execute(f"PRAGMA {p}").fetchone()[0] for p in ("synchronous", "cache_size", "temp_store"))

    before = pragmas()
    seen = []
    original = load._insert_rows

    def spy(*args, **kwargs):
        seen.append(pragmas())
        return original(*args, **kwargs)

    monkeypatch.setattr(load, "_insert_rows", spy)
    version = services.import_catalogue(samples_dir / "catalogue_sample.csv", province="湖南", label="pragmas")
    assert seen and seen[0] == (0, -262144, 2)  # OFF, 256 MB, MEMORY during the load
    assert pragmas() == before
    assert Listing.objects.filter(version=version).count() == 32
