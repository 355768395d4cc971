"""Multi-row INSERT stores every row once, in order, whatever the block boundaries."""

import numpy as np
import pytest
from django.db import connection

from catalogue.ingest.multirow import insert_columns, insert_rows, rows_per_statement

pytestmark = pytest.mark.django_db


def _table(cur) -> None:
    cur.execute("CREATE TEMPORARY TABLE t_multirow (seq integer PRIMARY KEY, n integer, s text)")


@pytest.mark.parametrize("count", [0, 1, 6, 7, 8, 23])
def test_every_row_once_in_order(count: int) -> None:
    rows = [(i, i * 10, f"行{i}, 'quoted' \"x\"" if i % 2 else None) for i in range(count)]
    with connection.cursor() as cur:
        _table(cur)
        assert insert_rows(cur, "t_multirow", ("seq", "n", "s"), iter(rows), per=7) == count
        cur.execute("SELECT seq, n, s FROM t_multirow ORDER BY seq")
        assert [tuple(r) for r in cur.fetchall()] == rows


def test_a_short_row_is_refused_not_shifted() -> None:
    with connection.cursor() as cur:
        _table(cur)
        with pytest.raises(ValueError, match="3 values"):
            insert_rows(cur, "t_multirow", ("seq", "n", "s"), [(1, 2, "a"), (2, 3), (3, 4, "c", "d")], per=3)


def test_block_stays_within_the_parameter_limit() -> None:
    per = rows_per_statement(connection, 29)
    assert 1 <= per <= 500
    if connection.vendor == "sqlite":
        import sqlite3

        assert per * 29 <= connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


@pytest.mark.parametrize("count", [0, 1, 6, 7, 8, 23])
def test_columns_go_in_as_the_same_rows(count: int) -> None:
    seq = np.arange(count, dtype=np.int64)  # numeric numpy column: bound as Python ints
    n = [i * 10 for i in range(count)]
    s = np.array([f"行{i}, 'q' \"x\"" if i % 2 else None for i in range(count)], dtype=object)
    with connection.cursor() as cur:
        _table(cur)
        assert insert_columns(cur, "t_multirow", ("seq", "n", "s"), [seq, n, s], per=7) == count
        cur.execute("SELECT seq, n, s FROM t_multirow ORDER BY seq")
        assert [tuple(r) for r in cur.fetchall()] == list(zip(seq.tolist(), n, s.tolist(), strict=True))


def test_columns_of_different_lengths_are_refused() -> None:
    with connection.cursor() as cur:
        _table(cur)
        with pytest.raises(ValueError, match="different lengths"):
            insert_columns(cur, "t_multirow", ("seq", "n", "s"), [[1, 2], [1, 2], [1]], per=3)
        with pytest.raises(ValueError, match="2 columns"):
            insert_columns(cur, "t_multirow", ("seq", "n", "s"), [[1], [1]], per=3)


def test_default_block_size_comes_from_the_connection() -> None:
    rows = [(i, i, "x") for i in range(1201)]
    with connection.cursor() as cur:
        _table(cur)
        assert insert_rows(cur, "t_multirow", ("seq", "n", "s"), rows) == 1201
        cur.execute("SELECT COUNT(*), MAX(seq) FROM t_multirow")
        assert tuple(cur.fetchone()) == (1201, 1200)
