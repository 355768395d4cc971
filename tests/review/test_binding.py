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


def _listing_with_flags(rnd, limits, *, price=Decimal("24.00")):
    """One listing, one flag per (rule, rule limit, decided limit or None), all confirmed."""
    first = None
    flags = []
    for rule, limit, decided in limits:
        kwargs = {"listing": first.listing} if first else {"listing__listed_price": price}
        f = FlagFactory(
            round=rnd,
            status=FlagStatus.CONFIRMED,
            rule_code=rule,
            limit_price=Decimal(limit),
            adjusted_limit_price=None if decided is None else Decimal(decided),
            **kwargs,
        )
        first = first or f
        flags.append(f)
    return flags


def test_a_value_fixed_by_a_decision_or_appeal_binds_over_lower_rule_limits(db):
    """HN0116083: rule limits 5.57 and 6.80, an appeal fixed 12.00 on the third → 12.00 binds,
    the two rule limits stay listed as reasons."""
    rnd = RoundFactory()
    a, b, c = _listing_with_flags(
        rnd,
        [
            ("TIER_UNEVALUATED", "5.57", None),
            ("SAME_MAKER_SPEC", "6.80", None),
            ("FOUR_SAME_NATIONAL", "4.00", "12.00"),
        ],
        price=Decimal("13.00"),
    )
    bl = binding_limits(rnd.pk)[a.listing_id]
    assert bl.limit == Decimal("12.00") and bl.basis == "decision"
    assert [r.flag_id for r in bl.reasons] == [c.pk, a.pk, b.pk]
    assert bl.reasons[0].rule_limit == Decimal("4.00") and bl.ratio == Decimal("1.0833")


def test_sql_expression_agrees_with_python_for_every_listing(db):
    from pricing.models import Flag
    from pricing.review.binding import binding_limit_expression

    rnd = RoundFactory()
    _listing_with_flags(rnd, [("TIER_UNEVALUATED", "2.96", None), ("SAME_MAKER_SPEC", "5.70", None)])
    _listing_with_flags(rnd, [("TIER_UNEVALUATED", "5.57", None), ("SAME_MAKER_SPEC", "6.80", "9.00")])
    _listing_with_flags(rnd, [("TIER_UNEVALUATED", "3.00", "7.00"), ("SAME_MAKER_SPEC", "6.80", "6.50")])
    FlagFactory(round=rnd, status=FlagStatus.PENDING, limit_price=Decimal("1.00"))
    python = {lid: b.limit for lid, b in binding_limits(rnd.pk, scope="confirmed").items()}
    assert sorted(python.values()) == [Decimal("2.96"), Decimal("6.50"), Decimal("9.00")]
    sql = dict(
        Flag.objects.filter(round=rnd, status=FlagStatus.CONFIRMED)
        .annotate(b=binding_limit_expression("confirmed"))
        .values_list("listing_id", "b")
    )
    assert sql == python
    assert len(binding_limits(rnd.pk, scope="all")) == 4


def test_final_list_has_one_entry_per_listing_with_its_binding_limit_and_reasons(db, admin_user):
    from appeals import publication
    from pricing.review.exports import HEADERS, export_rows, flags_for_export

    rnd = RoundFactory(status="closed")
    two = _listing_with_flags(rnd, [("TIER_UNEVALUATED", "2.96", None), ("SAME_MAKER_SPEC", "5.70", None)])
    three = _listing_with_flags(
        rnd,
        [
            ("TIER_UNEVALUATED", "5.57", None),
            ("SAME_MAKER_SPEC", "6.80", None),
            ("FOUR_SAME_NATIONAL", "4.00", "12.00"),
        ],
        price=Decimal("13.00"),
    )
    final = publication.publish_final_list(rnd.pk, user=admin_user)
    entries = {e.listing_id: e for e in final.entries.all()}
    assert final.entry_count == 2 and set(entries) == {two[0].listing_id, three[0].listing_id}
    assert entries[two[0].listing_id].limit_price == Decimal("2.96")
    assert entries[two[0].listing_id].ratio == Decimal("8.1081")  # 24.00 / 2.96, not 24.00 / 5.70
    assert entries[three[0].listing_id].limit_price == Decimal("12.00")
    assert [r["rule_code"] for r in entries[three[0].listing_id].reasons] == [
        "FOUR_SAME_NATIONAL",
        "TIER_UNEVALUATED",
        "SAME_MAKER_SPEC",
    ]
    final_scope = binding_limits(rnd.pk, scope="final")
    assert {lid: b.limit for lid, b in final_scope.items()} == {
        two[0].listing_id: Decimal("2.96"),
        three[0].listing_id: Decimal("12.00"),
    }
    # the export keeps one row per flag with its own limit, and carries the listing's binding limit
    rows = list(export_rows(flags_for_export(rnd, "final")))
    own, binding = HEADERS.index("纠偏限价"), HEADERS.index("执行限价")
    by_limit = {str(r[own]): str(r[binding]) for r in rows}
    assert by_limit == {"2.96": "2.96", "5.70": "2.96", "5.57": "12.00", "6.80": "12.00", "12.00": "12.00"}


def test_binding_among_a_listings_flags_agrees_with_the_query(db):
    """The detail page computes the binding limit from the listing's flags it already read."""
    import pytest

    from pricing.review.binding import binding_limit_among, binding_limit_of
    from pricing.review.selectors import flags_on_listing

    rnd = RoundFactory()
    flags = _listing_with_flags(
        rnd,
        [("TIER_UNEVALUATED", "5.57", None), ("SAME_MAKER_SPEC", "6.80", "9.00"), ("FOUR_SAME_NATIONAL", "4.00", None)],
    )
    FlagFactory(round=rnd, listing=flags[0].listing, status=FlagStatus.PENDING, rule_code="TIER_EVALUATED",
                limit_price=Decimal("3.00"))  # fmt: skip
    FlagFactory(round=rnd, listing=flags[0].listing, status=FlagStatus.DISMISSED, rule_code="TIER_EVALUATED_X",
                limit_price=Decimal("1.00"))  # fmt: skip
    FlagFactory(round=rnd, status=FlagStatus.CONFIRMED, limit_price=Decimal("0.50"))  # another listing
    peers = flags_on_listing(flags[0])
    assert len(peers) == 5
    for scope in ("all", "confirmed"):
        assert binding_limit_among(peers, scope=scope) == binding_limit_of(flags[0], scope=scope), scope
    lonely = FlagFactory(round=rnd, status=FlagStatus.DISMISSED)
    assert binding_limit_among(flags_on_listing(lonely)) is None is binding_limit_of(lonely)
    with pytest.raises(ValueError):
        binding_limit_among(peers, scope="final")
