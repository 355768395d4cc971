"""Detection stores the same flags, in the same id order, whether the reference prices are read and the
四同 flags computed and encoded in forked children (large catalogues) or in the detecting process itself."""

from decimal import Decimal

import pytest

from pricing.engine import parallel
from pricing.engine.flag_store import COPY_COLUMNS, row_encoder
from pricing.engine.rounds import run_detection
from pricing.models import Flag
from tests.conftest import requires_postgres
from tests.pricing.conftest import make_sample_round

services = pytest.importorskip("catalogue.services")

COLUMNS = [f.attname for f in Flag._meta.concrete_fields if f.attname not in ("id", "updated_at")]


def _stored(round_id: int) -> list[tuple]:
    return list(Flag.objects.filter(round_id=round_id).order_by("id").values_list(*COLUMNS))


def _serial_then_forked(round_id, forks, monkeypatch) -> tuple[list, list]:
    monkeypatch.setattr(parallel, "min_rows", lambda: 10**12)
    run_detection(round_id)
    serial = _stored(round_id)
    assert forks == []
    monkeypatch.setattr(parallel, "min_rows", lambda: 0)
    run_detection(round_id)
    return serial, _stored(round_id)


def test_the_forked_four_same_rows_are_stored_as_computed_here(sample_round, force_parallel, monkeypatch, caplog):
    serial, forked = _serial_then_forked(sample_round.pk, force_parallel, monkeypatch)
    assert len(force_parallel) == 2  # the reference prices and the 四同 flags each came from a child
    assert forked == serial
    rules = [row[COLUMNS.index("rule_code")] for row in forked]
    assert "FOUR_SAME_NATIONAL" in rules and len(set(rules)) > 1
    assert rules == sorted(rules)  # ids follow (rule, listing code), as before
    # the test's own transaction holds the reference prices: the child, on a connection of its own,
    # could not see them (PostgreSQL: no rows; SQLite: a private in-memory database), and they were
    # read again in the detecting process instead of being trusted
    assert "read again here" in caplog.text or "computing it here" in caplog.text


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_committed_reference_prices_are_read_by_the_child(samples_dir, force_parallel, monkeypatch, caplog):
    round_ = make_sample_round(samples_dir)
    serial, forked = _serial_then_forked(round_.pk, force_parallel, monkeypatch)
    assert len(force_parallel) == 2
    assert forked == serial
    assert "read again here" not in caplog.text and "computing it here" not in caplog.text


def test_a_decimal_is_sent_as_its_own_text():
    encode = row_encoder("postgresql")
    row = {c: None for c in ("round_id", "listing_id", "manufacturer_id", "benchmark_listing_id")}
    row |= {"rule_code": "X", "generic_name": "阿莫西林", "form_group": "口服常释", "benchmark_reference_id": None}
    row |= {"benchmark_province": "", "factors": {"省份": "湖北"}, "severity": "红", "rule_set_version": 1}
    prices = ("target_price", "target_unit_price", "benchmark_price", "benchmark_unit_price", "benchmark_converted")
    row |= {c: Decimal("12.3400") for c in prices} | {"ratio": Decimal("1E+1"), "limit_price": Decimal("0.10")}
    row |= {"overcharge": Decimal("12.24")}
    values = dict(zip(COPY_COLUMNS, encode(row), strict=True))
    assert [values[c] for c in prices] == ["12.3400"] * 5
    assert values["factors"] == '{"省份": "湖北"}'  # PostgreSQL gets UTF-8 JSON; SQLite JSONField's ASCII escapes
    sqlite_values = dict(zip(COPY_COLUMNS, row_encoder("sqlite")(row), strict=True))
    assert sqlite_values["factors"] == '{"\\u7701\\u4efd": "\\u6e56\\u5317"}'
    assert values["ratio"] == "1E+1" and values["limit_price"] == "0.10" and values["overcharge"] == "12.24"
    assert values["generic_name"] == "阿莫西林" and values["rule_set_version"] == 1 and values["severity"] == "红"
    assert (values["status"], values["adjusted_limit_price"], values["lock_version"]) == ("pending", None, 0)
