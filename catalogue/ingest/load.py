"""Loading normalised rows: manufacturers upserted first, listings staged in chunks, no activation.

Staged rows belong to a version that is not ACTIVE yet, so no selector shows them. On PostgreSQL
rows are streamed with COPY (psycopg 3); elsewhere multi-row INSERTs per chunk (no model instances).
A rerun first deletes whatever an earlier, interrupted attempt staged for the same version.
"""

import contextlib
import json
import queue
import threading
from collections.abc import Callable, Collection, Iterator
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import connection, transaction

from catalogue.models import Listing, Manufacturer

from .multirow import insert_columns
from .normalise import LISTING_FIELDS, NormalisedCatalogue, map_unique

CHUNK_ROWS = 50_000
SQLITE_CHUNK_ROWS = 100_000  # one executemany transaction per chunk on SQLite
COPY_CONNECTIONS = 2  # parallel COPY streams on PostgreSQL (the server side is the bottleneck)
_LOOKUP_BATCH = 900  # SQLite's bound-parameter limit, safely
_QUOTE_CHARS = (",", '"', "\n", "\r")
_DECIMAL_FIELDS = ("content_value", "volume_ml", "listed_price", "unit_price")


def delete_staged(version_id: int) -> int:
    """Remove listings an interrupted attempt left for this (not yet active) version."""
    table = Listing._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {table} WHERE version_id = %s", [version_id])
        return cur.rowcount


def check_references(version_id: int, manufacturer_ids: Collection[int]) -> None:
    """The staged rows' manufacturers all exist (Listing has no database FK constraints, see the model).

    Run inside the activation transaction: FOR KEY SHARE holds them, as an FK check would, until
    the version is active (after which Django's PROTECT refuses their deletion). One query per import
    instead of one per row. `manufacturer_ids` are the ids the caller wrote when it staged the rows
    (stage_listings returns them), which saves scanning the staged rows (≈ 0.7 s per million rows).
    """
    missing = missing_manufacturers(manufacturer_ids)
    if missing:
        raise RuntimeError(f"version {version_id}: staged rows refer to missing manufacturers {missing[:10]}")


def missing_manufacturers(manufacturer_ids: Collection[int]) -> list[int]:
    """Those of `manufacturer_ids` that name no Manufacturer, sorted; the others are held FOR KEY SHARE
    (PostgreSQL) until the caller's transaction ends, as a foreign-key check would hold them."""
    makers = Manufacturer._meta.db_table
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    wanted = {int(i) for i in manufacturer_ids}
    found: set[int] = set()
    ids = sorted(wanted)
    with connection.cursor() as cur:
        for start in range(0, len(ids), _LOOKUP_BATCH):
            batch = ids[start : start + _LOOKUP_BATCH]
            marks = ", ".join(["%s"] * len(batch))
            cur.execute(f"SELECT id FROM {makers} WHERE id IN ({marks}){lock}", batch)
            found.update(row[0] for row in cur.fetchall())
    return sorted(wanted - found)


def upsert_manufacturers(names: dict[str, str]) -> dict[str, int]:
    """Ensure a Manufacturer exists per normalised name; returns name_norm → id."""
    norms = list(names)
    ids: dict[str, int] = {}
    for start in range(0, len(norms), _LOOKUP_BATCH):
        batch = norms[start : start + _LOOKUP_BATCH]
        ids.update(Manufacturer.objects.filter(name_norm__in=batch).values_list("name_norm", "id"))
    missing = [Manufacturer(name=names[n][:200], name_norm=n[:200]) for n in norms if n not in ids]
    if missing:
        Manufacturer.objects.bulk_create(missing, batch_size=1000, ignore_conflicts=True)
        for start in range(0, len(missing), _LOOKUP_BATCH):
            batch = [m.name_norm for m in missing[start : start + _LOOKUP_BATCH]]
            ids.update(Manufacturer.objects.filter(name_norm__in=batch).values_list("name_norm", "id"))
    return ids


def stage_listings(
    version_id: int,
    data: NormalisedCatalogue,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    chunk_rows: int | None = None,
) -> tuple[int, set[int]]:
    """Write every listing of `data` for `version_id`, chunk by chunk (each chunk one transaction).

    Returns (rows written, the manufacturer ids they refer to)."""
    ids = upsert_manufacturers(data.manufacturers)
    frame = data.frame
    manufacturer_ids = frame["manufacturer_norm"].map(ids).to_numpy()
    used_ids = {int(i) for i in pd.unique(manufacturer_ids)}
    total = len(frame)
    postgres = connection.vendor == "postgresql"
    if postgres and not connection.in_atomic_block and COPY_CONNECTIONS > 1:
        return _copy_in_parallel(frame, version_id, manufacturer_ids, chunk_rows or CHUNK_ROWS, on_progress), used_ids
    chunk_rows = chunk_rows or (CHUNK_ROWS if postgres else SQLITE_CHUNK_ROWS)
    done = 0
    with fast_sqlite_load():
        for start in range(0, total, chunk_rows):
            part = frame.iloc[start : start + chunk_rows]
            with transaction.atomic():
                if postgres:
                    # staged rows are invisible and a rerun restages them, so no need to wait for the flush
                    with connection.cursor() as cur:
                        cur.execute("SET LOCAL synchronous_commit TO OFF")
                        with cur.cursor.copy(_copy_sql()) as copy:
                            copy.write(_copy_text(part, version_id, manufacturer_ids[start : start + chunk_rows]))
                else:
                    _insert_rows(part, version_id, manufacturer_ids[start : start + chunk_rows])
            done += len(part)
            if on_progress:
                on_progress(done, total)
    return done, used_ids


@contextlib.contextmanager
def fast_sqlite_load() -> Iterator[None]:
    """On SQLite, for a bulk load: a 256 MB page cache, temporary B-trees in memory and no fsync per
    commit (synchronous=OFF: in WAL mode an application crash cannot corrupt the file; the staged
    rows of an interrupted import are invisible and deleted by the rerun). Restored afterwards.
    Does nothing on other databases or inside a caller's transaction (the PRAGMAs would not apply)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cur:
        cur.execute("PRAGMA synchronous")
        synchronous = cur.fetchone()[0]
        cur.execute("PRAGMA cache_size")
        cache_size = cur.fetchone()[0]
        cur.execute("PRAGMA temp_store")
        temp_store = cur.fetchone()[0]
        cur.execute("PRAGMA synchronous = OFF")
        cur.execute("PRAGMA cache_size = -262144")
        cur.execute("PRAGMA temp_store = MEMORY")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA synchronous = {int(synchronous)}")
            cur.execute(f"PRAGMA cache_size = {int(cache_size)}")
            cur.execute(f"PRAGMA temp_store = {int(temp_store)}")


def _copy_in_parallel(
    frame: pd.DataFrame,
    version_id: int,
    manufacturer_ids: np.ndarray,
    chunk_rows: int,
    on_progress: Callable[[int, int], None] | None,
) -> int:
    """COPY the chunks over `COPY_CONNECTIONS` extra connections, each chunk its own transaction.

    This thread renders chunk N+1 while the server ingests chunks N and N-1 (libpq waits release the
    GIL), so the Python and PostgreSQL work overlap on the two cores instead of taking turns. Only
    used outside any transaction of the caller's connection: the other connections could not see
    its uncommitted work, and a caller's rollback could not undo theirs. Staged rows stay invisible
    (the version is not ACTIVE) and an interrupted import's rows are deleted by the rerun.
    """
    sql = _copy_sql()
    params = connection.get_connection_params()
    jobs: queue.Queue = queue.Queue(maxsize=COPY_CONNECTIONS)
    results: queue.Queue = queue.Queue()
    failed = threading.Event()

    def copier() -> None:
        conn = None
        try:
            conn = connection.Database.connect(**params, autocommit=True)
            while (job := jobs.get()) is not None:
                if failed.is_set():
                    continue  # keep draining so the producer never blocks
                with conn.transaction():
                    conn.execute("SET LOCAL synchronous_commit TO OFF")
                    with conn.cursor() as cur, cur.copy(sql) as copy:
                        copy.write(job[1])
                results.put(job[0])
        except BaseException as exc:  # re-raised in the calling thread
            failed.set()
            results.put(exc)
            while jobs.get() is not None:  # drain until told to stop
                pass
        finally:
            if conn is not None:
                conn.close()

    threads = [threading.Thread(target=copier, name=f"copy-{i}", daemon=True) for i in range(COPY_CONNECTIONS)]
    for thread in threads:
        thread.start()
    total = len(frame)
    done = 0
    error: BaseException | None = None

    def collect(block: bool) -> None:
        nonlocal done, error
        while True:
            try:
                item = results.get(block=block)
            except queue.Empty:
                return
            block = False
            if isinstance(item, BaseException):
                error = error or item
            else:
                done += item
                if on_progress:
                    on_progress(done, total)

    try:
        for start in range(0, total, chunk_rows):
            if failed.is_set():
                break
            part = frame.iloc[start : start + chunk_rows]
            jobs.put((len(part), _copy_text(part, version_id, manufacturer_ids[start : start + chunk_rows])))
            collect(block=False)
    finally:
        for _thread in threads:
            jobs.put(None)
        for thread in threads:
            thread.join()
    collect(block=False)
    if error is not None:
        with connection.wrap_database_errors:  # psycopg.OperationalError → django.db.OperationalError (retried)
            raise error
    return done


def _copy_sql() -> str:
    names = ", ".join((*LISTING_FIELDS, "version_id", "manufacturer_id"))
    return f"COPY {Listing._meta.db_table} ({names}) FROM STDIN WITH (FORMAT csv)"


def _copy_text(part: pd.DataFrame, version_id: int, manufacturer_ids: np.ndarray) -> str:
    """The chunk as one COPY (CSV format) text block: each column is rendered once per distinct
    value and the rows are joined in C (`str.join`), several times faster than psycopg's per-row
    `write_row` and than `DataFrame.to_csv`."""
    fields = [csv_field_column(part[f].to_numpy()) for f in LISTING_FIELDS]
    fields.append(np.full(len(part), str(version_id), dtype=object))
    fields.append(manufacturer_ids.astype(np.int64).astype(str).astype(object))
    return "\n".join(map(",".join, zip(*fields, strict=True)))


def _csv_field(value: object) -> str:
    """A value as a PostgreSQL CSV field: "" is an empty string (quoted), None is NULL (unquoted empty)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text == "" or any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_field_column(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "b":
        return np.where(values, "t", "f").astype(object)
    if values.dtype.kind in "iu":
        return np.array(list(map(str, values.tolist())), dtype=object)
    try:
        blob = "\x00".join(values)  # one C-level pass; fails on a None/NaN (NULL) or non-str cell
    except TypeError:
        blob = None
    if blob is not None and not any(c in blob for c in _QUOTE_CHARS):  # substring search, no regex
        rendered = values.astype(object, copy=True)
        rendered[values == ""] = '""'
        return rendered
    codes, uniques = pd.factorize(values)  # None/NaN → code -1 → NULL
    rendered = np.array([*(_csv_field(u) for u in uniques), ""], dtype=object)
    return rendered[codes]


def _insert_rows(part: pd.DataFrame, version_id: int, manufacturer_ids: np.ndarray) -> None:
    """One multi-row INSERT executemany of the chunk with the values `bulk_create` would send (no model instances):
    for the decimal columns the text of their Decimal (what the driver's adapter binds for a Decimal),
    the JSON column re-encoded as Django's JSONField encodes it, Python bools/ints/None."""
    columns = []
    for field in LISTING_FIELDS:
        values = part[field].to_numpy()
        if field in _DECIMAL_FIELDS:
            # the text the driver's Decimal adapter (str) would bind, made once per distinct value
            # instead of one adapter call per cell
            values = map_unique(values, _decimal_text)
        elif field == "extra":
            values = map_unique(values, _json_field_text)
        columns.append(values)
    columns.append(np.full(len(part), version_id, dtype=object))
    columns.append(manufacturer_ids)
    names = (*LISTING_FIELDS, "version_id", "manufacturer_id")
    with connection.cursor() as cur:
        insert_columns(cur, Listing._meta.db_table, names, columns)


def _to_decimal(text: object) -> Decimal | None:
    return None if text is None or text != text else Decimal(text)


def _decimal_text(text: object) -> str | None:
    value = _to_decimal(text)
    return None if value is None else str(value)


_EXTRA = Listing._meta.get_field("extra")


def _json_field_text(text: str) -> str:
    """The extra-columns JSON as JSONField stores it (json.dumps with Django's defaults)."""
    return _EXTRA.get_db_prep_save(json.loads(text) if text != "{}" else {}, connection)
