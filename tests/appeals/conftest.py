"""A published round with confirmed flags for 甲 (maker_a) and 乙 (maker_b)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import FlagFactory, ListingFactory, RoundFactory


@pytest.fixture
def deadline():
    return timezone.now() + dt.timedelta(days=5)


@pytest.fixture
def rule_set(db):
    """Rule set v1 (data migration); recreated after a transactional test flushed the tables."""
    from pricing.engine.defaults import DEFAULT_PARAMS
    from pricing.models import RuleSet

    return RuleSet.objects.get_or_create(
        version=1, defaults={"name": "默认规则集 (RULES.md)", "params": DEFAULT_PARAMS, "note": "系统内置默认规则"}
    )[0]


@pytest.fixture
def published_round(rule_set, deadline):
    # this notice does not demand evidence (the rule is tested in tests/appeals/test_appeal_form.py)
    return RoundFactory(
        status="published", published_at=timezone.now(), appeal_deadline=deadline, evidence_required=False
    )


def make_flag(round_, company, **kwargs):
    listing = ListingFactory(
        version=round_.catalogue_version, manufacturer=company, quality_tier="未过评", listed_price=Decimal("24.00")
    )
    return FlagFactory(round=round_, listing=listing, status=kwargs.pop("status", "confirmed"), **kwargs)


@pytest.fixture
def flag_a(published_round, company_a):
    return make_flag(published_round, company_a)


@pytest.fixture
def flag_a2(published_round, company_a):
    return make_flag(published_round, company_a)


@pytest.fixture
def flag_b(published_round, company_b):
    return make_flag(published_round, company_b)
