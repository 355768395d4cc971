"""The database triggers that keep the round overview's stored aggregates exact (批次概览统计).

Every INSERT, UPDATE or DELETE of pricing_flag — whatever code makes it: a decision, a bulk decision,
an appeal, publication, the admin, raw SQL — bumps the round's `RoundStatsVersion.flags_version` in
the same transaction. An UPDATE also applies its exact delta to RoundMakerStat / RoundShapeStat and
keeps `stats_version == flags_version`; an INSERT or DELETE (detection) leaves the versions apart, and
pricing.review.round_stats rebuilds the round's aggregates from its flags before they are read.

PostgreSQL: statement-level triggers over the transition tables (one pass per statement however many
flags it touched). SQLite: row-level triggers (it has no statement-level ones). The triggers never
name pricing_correctionround, so migrations that rebuild that table on SQLite are unaffected; a
migration that rebuilds pricing_flag on SQLite drops them, and `ensure_triggers` (run by the
migration and after every `migrate`, pricing.apps) puts them back and invalidates every round's
aggregates, since flags may have changed while they were missing.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

# frozen with the trigger text: pricing.review.selectors.RATIO_EDGES (a test checks they agree)
RATIO_EDGES = [
    "1", "1.3335", "1.7783", "2.3714", "3.1623", "4.217", "5.6234", "7.4989", "10", "13.3352", "17.7828",
    "23.7137", "31.6228", "42.1697", "56.2341", "74.9894", "100", "133.3521", "177.8279", "237.1374",
    "316.2278", "421.6965", "562.3413", "749.8942", "1000",
]  # fmt: skip
TRIGGERS = ("pricing_flag_stats_insert", "pricing_flag_stats_delete", "pricing_flag_stats_update")


def ratio_bin_sql(row: str, edges: list[str] | list[Decimal] | None = None) -> str:
    """Index of the 价差倍数 band of `row.ratio` (below the first edge counts in band 0)."""
    edges = [str(e) for e in (edges or RATIO_EDGES)]
    cases = " ".join(f"WHEN {row}.ratio >= {edges[i]} THEN {i}" for i in range(len(edges) - 1, 0, -1))
    return f"CASE {cases} ELSE 0 END"


def amount_sql(row: str, vendor: str) -> str:
    """P_t − effective L_t of `row`, in exact integer 1/10000 yuan."""
    diff = f"({row}.target_price - COALESCE({row}.adjusted_limit_price, {row}.limit_price)) * 10000"
    return f"round({diff})::bigint" if vendor == "postgresql" else f"CAST(ROUND({diff}) AS INTEGER)"


_VERSION = "pricing_roundstatsversion"
_BUMP = f"ON CONFLICT (round_id) DO UPDATE SET flags_version = {_VERSION}.flags_version + 1"
_BUMP_KEEPING_STATS = (
    f"ON CONFLICT (round_id) DO UPDATE SET flags_version = {_VERSION}.flags_version + 1, stats_version = "
    f"CASE WHEN {_VERSION}.stats_version = {_VERSION}.flags_version THEN {_VERSION}.stats_version + 1 "
    f"ELSE {_VERSION}.stats_version END"
)
_MAKER_UPSERT = (
    "ON CONFLICT (round_id, manufacturer_id, status) DO UPDATE SET "
    "n = pricing_roundmakerstat.n + excluded.n, amount_e4 = pricing_roundmakerstat.amount_e4 + excluded.amount_e4"
)
_SHAPE_UPSERT = (
    "ON CONFLICT (round_id, rule_code, severity, ratio_bin) DO UPDATE SET n = pricing_roundshapestat.n + excluded.n"
)


def postgres_sql() -> list[str]:
    amount_o, amount_n = amount_sql("o", "postgresql"), amount_sql("n", "postgresql")
    valid = f"JOIN {_VERSION} v ON v.round_id = d.round_id AND v.stats_version = v.flags_version"
    return [
        f"""
CREATE OR REPLACE FUNCTION pricing_flag_invalidate_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN  -- update only: the round itself may be going (a cascade)
        UPDATE {_VERSION} SET flags_version = flags_version + 1
         WHERE round_id IN (SELECT DISTINCT round_id FROM changed_old);
    ELSE
        INSERT INTO {_VERSION} (round_id, flags_version, stats_version)
        SELECT DISTINCT round_id, 1, 0 FROM changed_new {_BUMP};
    END IF;
    RETURN NULL;
END
$$;""",
        f"""
CREATE OR REPLACE FUNCTION pricing_flag_apply_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {_VERSION} (round_id, flags_version, stats_version)
    SELECT round_id, 1, 0 FROM (SELECT round_id FROM changed_old UNION SELECT round_id FROM changed_new) r
    {_BUMP_KEEPING_STATS};
    INSERT INTO pricing_roundmakerstat (round_id, manufacturer_id, status, n, amount_e4)
    SELECT d.round_id, d.manufacturer_id, d.status, sum(d.dn), sum(d.da) FROM (
        SELECT o.round_id, o.manufacturer_id, o.status, -1 AS dn, -{amount_o} AS da FROM changed_old o
        UNION ALL
        SELECT n.round_id, n.manufacturer_id, n.status, 1, {amount_n} FROM changed_new n
    ) d {valid}
    GROUP BY d.round_id, d.manufacturer_id, d.status
    {_MAKER_UPSERT};
    INSERT INTO pricing_roundshapestat (round_id, rule_code, severity, ratio_bin, n)
    SELECT d.round_id, d.rule_code, d.severity, d.ratio_bin, sum(d.dn) FROM (
        SELECT o.round_id, o.rule_code, o.severity, {ratio_bin_sql("o")} AS ratio_bin, -1 AS dn FROM changed_old o
        UNION ALL
        SELECT n.round_id, n.rule_code, n.severity, {ratio_bin_sql("n")}, 1 FROM changed_new n
    ) d {valid}
    GROUP BY d.round_id, d.rule_code, d.severity, d.ratio_bin
    {_SHAPE_UPSERT};
    RETURN NULL;
END
$$;""",
        "CREATE TRIGGER pricing_flag_stats_insert AFTER INSERT ON pricing_flag REFERENCING NEW TABLE AS changed_new "
        "FOR EACH STATEMENT EXECUTE FUNCTION pricing_flag_invalidate_stats();",
        "CREATE TRIGGER pricing_flag_stats_delete AFTER DELETE ON pricing_flag REFERENCING OLD TABLE AS changed_old "
        "FOR EACH STATEMENT EXECUTE FUNCTION pricing_flag_invalidate_stats();",
        "CREATE TRIGGER pricing_flag_stats_update AFTER UPDATE ON pricing_flag "
        "REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new "
        "FOR EACH STATEMENT EXECUTE FUNCTION pricing_flag_apply_stats();",
    ]


def sqlite_sql() -> list[str]:
    def deltas(row: str, sign: str) -> str:
        valid = f"FROM {_VERSION} v WHERE v.round_id = {row}.round_id AND v.stats_version = v.flags_version"
        return (
            "INSERT INTO pricing_roundmakerstat (round_id, manufacturer_id, status, n, amount_e4) "
            f"SELECT {row}.round_id, {row}.manufacturer_id, {row}.status, {sign}1, {sign}{amount_sql(row, 'sqlite')} "
            f"{valid} {_MAKER_UPSERT}; "
            "INSERT INTO pricing_roundshapestat (round_id, rule_code, severity, ratio_bin, n) "
            f"SELECT {row}.round_id, {row}.rule_code, {row}.severity, {ratio_bin_sql(row)}, {sign}1 "
            f"{valid} {_SHAPE_UPSERT}; "
        )

    def bump(row: str, clause: str) -> str:
        columns = "(round_id, flags_version, stats_version)"
        return f"INSERT INTO {_VERSION} {columns} SELECT {row}.round_id, 1, 0 WHERE true {clause}; "

    return [
        "CREATE TRIGGER IF NOT EXISTS pricing_flag_stats_insert AFTER INSERT ON pricing_flag FOR EACH ROW BEGIN "
        + bump("NEW", _BUMP)
        + "END;",
        "CREATE TRIGGER IF NOT EXISTS pricing_flag_stats_delete AFTER DELETE ON pricing_flag FOR EACH ROW BEGIN "
        f"UPDATE {_VERSION} SET flags_version = flags_version + 1 WHERE round_id = OLD.round_id; END;",
        "CREATE TRIGGER IF NOT EXISTS pricing_flag_stats_update AFTER UPDATE ON pricing_flag FOR EACH ROW BEGIN "
        + bump("OLD", _BUMP_KEEPING_STATS)
        + f"INSERT INTO {_VERSION} (round_id, flags_version, stats_version) SELECT NEW.round_id, 1, 0 "
        f"WHERE NEW.round_id != OLD.round_id {_BUMP_KEEPING_STATS}; " + deltas("OLD", "-") + deltas("NEW", "") + "END;",
    ]


def existing_triggers(connection) -> set[str]:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'pricing_flag'::regclass AND NOT tgisinternal")
        else:
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'pricing_flag'")
        return {row[0] for row in cur.fetchall()} & set(TRIGGERS)


def ensure_triggers(connection) -> bool:
    """Create whichever of the triggers is missing (idempotent). When any was missing, every round's
    stored aggregates are invalidated (rebuilt from the flags on the next view). Returns whether it
    created any."""
    if connection.vendor not in ("postgresql", "sqlite"):  # pragma: no cover - the supported databases
        raise NotImplementedError(f"overview statistics triggers for {connection.vendor}")
    if existing_triggers(connection) == set(TRIGGERS):
        return False
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            for name in TRIGGERS:
                cur.execute(f"DROP TRIGGER IF EXISTS {name} ON pricing_flag")
            statements = postgres_sql()
        else:
            statements = sqlite_sql()
        for statement in statements:
            cur.execute(statement)
        cur.execute(f"UPDATE {_VERSION} SET flags_version = flags_version + 1")
        cur.execute(
            f"INSERT INTO {_VERSION} (round_id, flags_version, stats_version) "
            f"SELECT DISTINCT round_id, 1, 0 FROM pricing_flag WHERE round_id NOT IN (SELECT round_id FROM {_VERSION})"
        )
    return True


def drop_triggers(connection) -> None:
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cur:
        for name in TRIGGERS:
            cur.execute(f"DROP TRIGGER IF EXISTS {name}{' ON pricing_flag' if postgres else ''}")
        if postgres:
            cur.execute("DROP FUNCTION IF EXISTS pricing_flag_invalidate_stats()")
            cur.execute("DROP FUNCTION IF EXISTS pricing_flag_apply_stats()")


@contextlib.contextmanager
def sqlite_insert_trigger_as_one_bump(cur) -> Iterator[Counter[int] | None]:
    """SQLite, for a bulk insert of flags inside the caller's transaction: the row-level INSERT trigger
    (one upsert of the round's version row per flag, a third of the insert's time) is dropped, and
    recreated from its stored text once the rows are in; each round's `flags_version` is then bumped by
    the number of rows inserted for it (the caller counts them in the Counter yielded), which is exactly
    what the trigger's per-row `+ 1` would have left.

    SQLite's DDL is transactional: other connections never see the trigger missing (readers keep their
    snapshot, writers wait for the lock), and a failure rolls the savepoint back, trigger included.
    Yields None (the trigger fires as usual, nothing to count) outside a transaction or without the trigger."""
    from django.db import connection, transaction

    cur.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [TRIGGERS[0]])
    stored = cur.fetchone()
    if connection.vendor != "sqlite" or not connection.in_atomic_block or stored is None:
        yield None
        return
    counts: Counter[int] = Counter()
    with transaction.atomic():
        cur.execute(f"DROP TRIGGER {TRIGGERS[0]}")
        yield counts
        cur.execute(stored[0])
        for round_id, rows in counts.items():
            cur.execute(
                f"INSERT INTO {_VERSION} (round_id, flags_version, stats_version) VALUES (%s, %s, 0) "
                f"ON CONFLICT (round_id) DO UPDATE SET "
                f"flags_version = {_VERSION}.flags_version + excluded.flags_version",
                [round_id, rows],
            )
