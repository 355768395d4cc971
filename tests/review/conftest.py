"""A draft round with flags of two companies, for the review workspace tests."""

from decimal import Decimal

import pytest

from tests.factories import FlagFactory, RoundFactory


@pytest.fixture
def draft_round(db):
    return RoundFactory(title="2026年第一批纠偏")


@pytest.fixture
def flag_a(draft_round, company_a):
    return FlagFactory(
        round=draft_round,
        listing__manufacturer=company_a,
        listing__generic_name="盐酸法舒地尔注射液",
        listing__dosage_form="注射液",
        listing__strength="2ml:30mg",
        listing__pack_quantity=6,
        listing__listed_price=Decimal("616.68"),
        benchmark_listing__dosage_form="注射剂",
        benchmark_listing__strength="2ml:30mg",
        benchmark_listing__pack_quantity=10,
        benchmark_listing__listed_price=Decimal("51.60"),
        severity="红★★★",
    )


@pytest.fixture
def flag_b(draft_round, company_b):
    return FlagFactory(round=draft_round, listing__manufacturer=company_b, listing__generic_name="头孢克肟胶囊")
