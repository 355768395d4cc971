"""Reference prices are stored in bulk (COPY / executemany) with exactly the values the ORM would store."""

from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from catalogue import services
from catalogue.ingest.pipeline import prepare_reference
from catalogue.models import ReferencePrice, ReferencePriceSet
from catalogue.vocabulary import current_vocabulary

pytestmark = pytest.mark.django_db

FIELDS = [f.attname for f in ReferencePrice._meta.concrete_fields if f.attname not in ("id", "price_set_id")]


def _rows(price_set: ReferencePriceSet) -> list[tuple]:
    return list(ReferencePrice.objects.filter(price_set=price_set).order_by("row_number").values_list(*FIELDS))


def _orm_copy(frame) -> ReferencePriceSet:
    """The same frame written the slow way (one model instance per row), for comparison."""
    price_set = ReferencePriceSet.objects.create(source_name="orm.csv", source_hash="0" * 64, status="active")
    ReferencePrice.objects.bulk_create(
        ReferencePrice(price_set=price_set, **{**r, "listed_price": Decimal(r["listed_price"])})
        for r in frame.to_dict("records")
    )
    return price_set


def test_bulk_stored_rows_equal_orm_rows(samples_dir):
    path = samples_dir / "reference_prices_sample.csv"
    price_set = services.import_reference_prices(path, label="bulk")
    expected = _orm_copy(prepare_reference(path, current_vocabulary()))
    assert price_set.row_count == ReferencePrice.objects.filter(price_set=price_set).count() > 0
    assert _rows(price_set) == _rows(expected)


def test_awkward_values_round_trip(tmp_path):
    """Quotes, commas, blank codes, blank pack sizes and 4-decimal prices survive the bulk path."""
    path = tmp_path / "refs.csv"
    path.write_text(
        "省份,医保药品编码,通用名,剂型,规格,转换比,生产企业,挂网价格\n"
        '广东,,"阿莫西林,胶囊",胶囊剂,0.25g,24,"某""药""厂",12.3456\n'
        "江苏,XB01AC06A001,,,,,,+7\n"
        "浙江,,布洛芬片,片,0.2g,+100,乙制药,.5\n",
        encoding="utf-8",
    )
    price_set = services.import_reference_prices(path, label="awkward")
    expected = _orm_copy(prepare_reference(path, current_vocabulary()))
    rows = _rows(price_set)
    assert rows == _rows(expected)
    by_province = {r.province: r for r in ReferencePrice.objects.filter(price_set=price_set)}
    assert by_province["广东"].generic_name == "阿莫西林,胶囊" and by_province["广东"].manufacturer_name == '某"药"厂'
    assert by_province["广东"].listed_price == Decimal("12.3456") and by_province["广东"].pack_quantity == 24
    assert by_province["江苏"].pack_quantity is None and by_province["江苏"].generic_name == ""
    assert by_province["江苏"].listed_price == Decimal("7")
    assert by_province["浙江"].listed_price == Decimal("0.5") and by_province["浙江"].pack_quantity == 100


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite binding shortcut")
@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=0, max_value=Decimal("9999999999.9999"), places=4, allow_nan=False))
def test_sqlite_price_binding_is_the_text_the_orm_binds(price):
    from django.db.backends.sqlite3.base import Database

    from catalogue.ingest.reference_load import _PRICE, _db_price

    text = str(price)
    orm_value = _PRICE.get_db_prep_save(Decimal(text), connection)
    adapter = Database.adapters[(type(orm_value), Database.PrepareProtocol)]
    assert _db_price(text) == adapter(orm_value)
