"""Storing computed flags (纠偏记录入库): each flag dict encoded as the values the database receives, then
bulk-inserted — COPY on PostgreSQL, multi-row INSERTs elsewhere (SQLite).

Encoding is separate from inserting so that it can run where the flags are computed, even in another
process (pricing.engine.detection sends the 四同 rule's flags back from a forked child already encoded):
an encoded row holds only ints, text and None, so it crosses a pipe cheaply and is stored as it is.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from operator import itemgetter

from django.db import connection
from django.utils import timezone

from catalogue.ingest.load import missing_manufacturers
from catalogue.ingest.multirow import insert_rows
from pricing.models import Flag, FlagStatus
from pricing.stats_triggers import sqlite_insert_trigger_as_one_bump

_AS_IS = [  # computed columns stored as they are
    "round_id",
    "listing_id",
    "rule_code",
    "manufacturer_id",
    "generic_name",
    "form_group",
    "benchmark_listing_id",
    "benchmark_reference_id",
    "benchmark_province",
    "severity",
    "rule_set_version",
]
_DECIMALS = [  # computed Decimal columns
    "target_price",
    "target_unit_price",
    "benchmark_price",
    "benchmark_unit_price",
    "benchmark_converted",
    "ratio",
    "limit_price",
    "overcharge",
]
# the columns of an encoded flag, in order (the INSERT/COPY names them, so the order is ours to choose)
COPY_COLUMNS = [*_AS_IS, *_DECIMALS, "factors", "status", "adjusted_limit_price", "lock_version", "updated_at"]
ROUND_ID, RULE_CODE = COPY_COLUMNS.index("round_id"), COPY_COLUMNS.index("rule_code")  # positions in a row

EncodedFlag = tuple  # the values of COPY_COLUMNS, in that order


def _plain(value: object) -> object:
    """A Decimal as its text — exactly what SQLite's Decimal adapter and psycopg's text dumper send for
    it (`str`); every other value as it is."""
    return str(value) if type(value) is Decimal else value


def row_encoder(vendor: str, now: datetime | None = None) -> Callable[[dict], EncodedFlag]:
    """A function: flag dict (pricing.engine.detection.flag_rows) → its values for `vendor`'s bulk insert,
    as a new pending flag: the JSON column as text (PostgreSQL: UTF-8 as is; elsewhere JSONField's own
    `json.dumps`), one timestamp for every row."""
    now = now or timezone.now()
    if vendor == "postgresql":  # one encoder for every row (json.dumps with an argument builds one per call)
        dumps, stamp = json.JSONEncoder(ensure_ascii=False).encode, now
    else:
        dumps, stamp = json.dumps, Flag._meta.get_field("updated_at").get_db_prep_save(now, connection)
    pending = (FlagStatus.PENDING.value, None, 0, stamp)  # status, adjusted limit, lock version, updated_at
    as_is, decimals = itemgetter(*_AS_IS), itemgetter(*_DECIMALS)

    def encode(row: dict) -> EncodedFlag:
        return (*as_is(row), *map(_plain, decimals(row)), dumps(row["factors"]), *pending)

    return encode


def insert_encoded(rows: Iterable[EncodedFlag]) -> int:
    """Insert encoded flags (row_encoder of this connection's vendor), in the given order. Returns the count."""
    if connection.vendor == "postgresql":
        count = 0
        table, cols = Flag._meta.db_table, ", ".join(COPY_COLUMNS)
        with connection.cursor() as cur, cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    with connection.cursor() as cur, _large_page_cache(cur), sqlite_insert_trigger_as_one_bump(cur) as per_round:
        if per_round is not None:  # the statistics trigger is off: count the rows of each round
            rows = _counted(rows, per_round)
        return insert_rows(cur, Flag._meta.db_table, COPY_COLUMNS, rows)


def check_manufacturers(round_id: int) -> None:
    """Every flag of the round names an existing manufacturer (Flag.manufacturer has no database
    constraint, see the model): one query per detection instead of one per flag. Needs the caller's
    transaction; on PostgreSQL the manufacturers are held FOR KEY SHARE until it ends."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT DISTINCT manufacturer_id FROM {Flag._meta.db_table} WHERE round_id = %s", [round_id])
        missing = missing_manufacturers([row[0] for row in cur.fetchall()])
    if missing:
        raise RuntimeError(f"round {round_id}: flags refer to missing manufacturers {missing[:10]}")


def _counted(rows: Iterable[EncodedFlag], per_round) -> Iterator[EncodedFlag]:
    for row in rows:
        per_round[row[ROUND_ID]] += 1
        yield row


def store_flags(rows: Iterable[dict]) -> int:
    """Encode and insert flag dicts (new pending flags). Returns the count."""
    return insert_encoded(map(row_encoder(connection.vendor), rows))


@contextlib.contextmanager
def _large_page_cache(cur) -> Iterator[None]:
    """SQLite: a 256 MB page cache while the flags go in (the default 2,000 pages spill the dirty pages
    of pricing_flag's indexes to the WAL before the commit). Allowed inside a transaction; restored."""
    cur.execute("PRAGMA cache_size")
    previous = int(cur.fetchone()[0])
    cur.execute("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        cur.execute(f"PRAGMA cache_size = {previous}")
