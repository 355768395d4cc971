"""Detection's listing loader: the PostgreSQL COPY path gives exactly the ORM path's frame."""

from decimal import Decimal

import pandas as pd
import pytest
from django.db import connection

from pricing.engine import detection
from pricing.engine.ruleset import RuleParams, default_rule_set
from tests.factories import CatalogueVersionFactory, ListingFactory, ManufacturerFactory


def _orm_frame(version_id: int, params: RuleParams, monkeypatch) -> pd.DataFrame:
    """load_listings as on SQLite (ORM rows through from_records)."""
    with monkeypatch.context() as m:
        m.setattr(type(connection), "vendor", "sqlite", raising=False)
        return detection.load_listings(version_id, params)


@pytest.mark.django_db
def test_copy_loader_matches_orm_rows(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the COPY loader only runs on PostgreSQL")
    params = RuleParams.from_rule_set(default_rule_set())
    version = CatalogueVersionFactory()
    other = CatalogueVersionFactory()
    maker = ManufacturerFactory(name='Pfizer, "Inc."\n辉瑞')
    # codes created out of order: the frame comes back in 挂网编号 order either way
    ListingFactory(version=version, listing_code="B2", strength="5ml:0.1g", listed_price=Decimal("12.3400"))
    ListingFactory(version=version, listing_code="A10", strength="10ml", manufacturer=maker, nhsa_code="")
    ListingFactory(
        version=version,
        listing_code="A9",
        generic_name='阿莫西林,"胶囊"',
        strength="每片含xx",  # unparsed: content and volume NULL
        quality_tier="未过评",
        vbp_selected=True,
        is_active=False,
        listed_price=Decimal("0.0001"),
        pack_quantity=1,
    )
    ListingFactory(version=version, listing_code="a1", strength="20万IU", nhsa_code="XA01")
    ListingFactory(version=other, listing_code="A0")  # another version is not read

    copied = detection.load_listings(version.pk, params)
    expected = _orm_frame(version.pk, params, monkeypatch)

    assert copied["code"].tolist() == ["A10", "A9", "B2", "a1"]
    assert list(copied.columns) == list(expected.columns)
    assert copied.dtypes.to_dict() == expected.dtypes.to_dict()
    for column in expected.columns:
        theirs, ours = expected[column].tolist(), copied[column].tolist()
        assert ours == theirs, column
        assert [type(v) for v in ours] == [type(v) for v in theirs], column
        assert [str(v) for v in ours] == [str(v) for v in theirs], column  # Decimal exponents too
    row = copied.set_index("code")
    assert row.loc["A9", "content"] is None and row.loc["A9", "volume"] is None
    assert row.loc["A9", "price"] == Decimal("0.0001") and not row.loc["A9", "active"] and row.loc["A9", "vbp"]
    assert row.loc["A10", "maker"] == maker.name_norm and row.loc["A9", "generic_name"] == '阿莫西林,"胶囊"'


@pytest.mark.django_db
def test_empty_version_loads_an_empty_frame():
    version = CatalogueVersionFactory()
    frame = detection.load_listings(version.pk, RuleParams.from_rule_set(default_rule_set()))
    assert frame.empty


def _assert_same_frame(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    assert list(ours.columns) == list(theirs.columns)
    assert ours.dtypes.to_dict() == theirs.dtypes.to_dict()
    for column in theirs.columns:
        a, b = ours[column].tolist(), theirs[column].tolist()
        assert a == b, column
        assert [type(v) for v in a] == [type(v) for v in b], column
        assert [str(v) for v in a] == [str(v) for v in b], column  # Decimal exponents too


@pytest.mark.django_db
def test_raw_cursor_frame_equals_orm_rows():
    """The SQLite loader (raw cursor + converters per distinct value) gives the ORM's values and types."""
    from catalogue.models import Listing

    version = CatalogueVersionFactory()
    ListingFactory(version=version, listing_code="B2", strength="5ml:0.1g", listed_price=Decimal("12.3400"))
    ListingFactory(version=version, listing_code="A9", strength="每片含xx", vbp_selected=True, is_active=False)
    ListingFactory(version=version, listing_code="A8", strength="20万IU", listed_price=Decimal("7"))
    ListingFactory(version=version, listing_code="A7", strength="0.25g", listed_price=Decimal("0.0001"))
    fields = [f for _, f in detection._LISTING_FIELDS]
    qs = Listing.objects.filter(version_id=version.pk).values_list(*fields)
    expected = pd.DataFrame.from_records(qs.iterator(chunk_size=2), columns=detection._LISTING_NAMES)
    _assert_same_frame(detection._raw_frame(qs, detection._LISTING_NAMES), expected)
    # load_listings maps the manufacturers' names from their ids instead of the JOIN: the same column
    loaded = detection.load_listings(version.pk, RuleParams.from_rule_set(default_rule_set()))
    assert loaded.columns.tolist() == detection._LISTING_NAMES
    assert loaded["maker"].tolist() == expected["maker"].tolist()
    assert loaded["maker"].dtype == expected["maker"].dtype
    assert loaded["code"].tolist() == ["A7", "A8", "A9", "B2"]


@pytest.mark.django_db
def test_reference_loader_equals_orm_rows(samples_dir):
    """COPY (PostgreSQL) or the raw cursor (SQLite) load the reference prices the ORM would."""
    from catalogue import services
    from catalogue.models import ReferencePrice
    from catalogue.specs import normalise_text
    from pricing.engine.frame import prepare_references

    params = RuleParams.from_rule_set(default_rule_set())
    price_set = services.import_reference_prices(samples_dir / "reference_prices_sample.csv")
    fields = [f for _, f in detection._REFERENCE_FIELDS]
    rows = ReferencePrice.objects.filter(price_set=price_set).values_list(*fields).iterator(chunk_size=3)
    expected = pd.DataFrame.from_records(rows, columns=[c for c, _ in detection._REFERENCE_FIELDS])
    for col in ("nhsa", "generic", "spec", "maker", "province", "dosage_form"):
        expected[col] = expected[col].fillna("").map(normalise_text)
    expected = prepare_references(expected, params)
    _assert_same_frame(detection.load_references(price_set.pk, params), expected)
