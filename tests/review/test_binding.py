"""执行限价: one binding limit per listing, the lowest of its flags' limits, per scope."""

from decimal import Decimal

from pricing.models import FlagStatus
from pricing.review.binding import binding_limits
from tests.factories import FlagFactory, RoundFactory


def test_lowest_confirmed_limit_binds_and_every_reason_is_listed(db):
    rnd = RoundFactory()
    a = FlagFactory(round=rnd, status=FlagStatus.CONFIRMED, limit_price=Decimal("5.70"), rule_code="TIER_UNEVALUATED")
    b = FlagFactory(
        round=rnd,
        listing=a.listing,
        status=FlagStatus.CONFIRMED,
        limit_price=Decimal("2.96"),
        rule_code="SAME_MAKER_SPEC",
    )
    FlagFactory(round=rnd, listing=a.listing, status=FlagStatus.DISMISSED, limit_price=Decimal("1.00"),
                rule_code="FOUR_SAME_NATIONAL")  # fmt: skip
    limits = binding_limits(rnd.pk)
    assert list(limits) == [a.listing_id]
    bl = limits[a.listing_id]
    assert bl.limit == Decimal("2.96")
    assert [r.flag_id for r in bl.reasons] == [b.pk, a.pk]


def test_adjusted_limit_counts_and_pending_only_in_scope_all(db):
    rnd = RoundFactory()
    a = FlagFactory(round=rnd, status=FlagStatus.CONFIRMED, limit_price=Decimal("5.00"),
                    adjusted_limit_price=Decimal("6.50"))  # fmt: skip
    p = FlagFactory(round=rnd, status=FlagStatus.PENDING, limit_price=Decimal("3.00"))
    confirmed = binding_limits(rnd.pk)
    assert confirmed[a.listing_id].limit == Decimal("6.50") and confirmed[a.listing_id].reasons[0].decided
    assert p.listing_id not in confirmed
    assert binding_limits(rnd.pk, scope="all")[p.listing_id].limit == Decimal("3.00")
    assert binding_limits(rnd.pk, scope="final") == {}
