"""Detection inserts its flags on SQLite without the row-level INSERT trigger (stats_triggers): the round's
version must end where the trigger would have left it, and the trigger must be back afterwards."""

import pytest
from django.db import connection, transaction

from pricing.models import RoundStatsVersion
from pricing.stats_triggers import TRIGGERS, sqlite_insert_trigger_as_one_bump

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite bulk-insert path")

_COPY = (
    "INSERT INTO pricing_flag (round_id, listing_id, rule_code, manufacturer_id, generic_name, form_group, "
    "benchmark_listing_id, benchmark_reference_id, benchmark_province, target_price, target_unit_price, "
    "benchmark_price, benchmark_unit_price, benchmark_converted, factors, ratio, severity, limit_price, overcharge, "
    "rule_set_version, status, adjusted_limit_price, lock_version, updated_at) "
    "SELECT round_id, listing_id, %s || rule_code, manufacturer_id, generic_name, form_group, benchmark_listing_id, "
    "benchmark_reference_id, benchmark_province, target_price, target_unit_price, benchmark_price, "
    "benchmark_unit_price, benchmark_converted, factors, ratio, severity, limit_price, overcharge, rule_set_version, "
    "status, adjusted_limit_price, lock_version, updated_at FROM pricing_flag "
    "WHERE round_id = %s AND rule_code NOT LIKE 'X%%'"
)


def _version(round_id: int) -> int:
    return RoundStatsVersion.objects.values_list("flags_version", flat=True).get(pk=round_id)


def _trigger_sql() -> str | None:
    with connection.cursor() as cur:
        cur.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [TRIGGERS[0]])
        row = cur.fetchone()
    return row and row[0]


@pytest.mark.django_db
def test_bulk_insert_bumps_the_round_as_the_trigger_would(flag_a, flag_b, draft_round):
    stored = _trigger_sql()
    start = _version(draft_round.pk)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(_COPY, ["X1", draft_round.pk])  # the trigger fires per row
        by_trigger = _version(draft_round.pk) - start
        with sqlite_insert_trigger_as_one_bump(cur) as per_round:
            assert per_round is not None and _trigger_sql() is None
            cur.execute(_COPY, ["X2", draft_round.pk])
            per_round[draft_round.pk] += cur.rowcount
    assert by_trigger == 2
    assert _version(draft_round.pk) == start + 2 * by_trigger
    assert _trigger_sql() == stored


@pytest.mark.django_db
def test_a_failed_bulk_insert_keeps_the_trigger(flag_a, draft_round):
    stored = _trigger_sql()
    start = _version(draft_round.pk)
    with transaction.atomic(), connection.cursor() as cur:
        with pytest.raises(RuntimeError), sqlite_insert_trigger_as_one_bump(cur) as per_round:
            cur.execute(_COPY, ["X1", draft_round.pk])
            per_round[draft_round.pk] += 1
            raise RuntimeError("insert failed")
        assert _trigger_sql() == stored
        assert _version(draft_round.pk) == start
        cur.execute(_COPY, ["X3", draft_round.pk])  # the trigger fires again
    assert _version(draft_round.pk) == start + 1


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_trigger_fires_as_usual(flag_a, draft_round):
    start = _version(draft_round.pk)
    with connection.cursor() as cur, sqlite_insert_trigger_as_one_bump(cur) as per_round:
        assert per_round is None and _trigger_sql() is not None
        cur.execute(_COPY, ["X1", draft_round.pk])
    assert _version(draft_round.pk) == start + 1
