"""The pure matching and classification: one-to-one pairing, pass order, packs that changed."""

from decimal import Decimal

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from catalogue.specs import parse_strength
from compliance.classify import check
from compliance.matching import LISTING_COLUMNS, match_listings, unmatched_new
from pricing.engine.ruleset import RuleParams

PARAMS = RuleParams.from_dict({})


def row(id_, code, price, *, nhsa="", spec="10mg", n=10, maker=1, active=True, generic="甲片"):
    parsed = parse_strength(spec)
    return [id_, code, nhsa, generic, "片剂", parsed.norm, n, maker, Decimal(price), active, parsed.content,
            parsed.unit or "", parsed.volume_ml]  # fmt: skip


def frame(rows):
    return pd.DataFrame(rows, columns=LISTING_COLUMNS)


def test_passes_in_order_code_then_nhsa_then_product():
    old = frame([row(1, "A", "10"), row(2, "B", "10", nhsa="N1"), row(3, "C", "10", spec="20mg")])
    new = frame([row(11, "A", "9"), row(12, "X", "8", nhsa="N1"), row(13, "Y", "7", spec="20mg"), row(14, "Z", "5")])
    m = match_listings(old, new)
    assert m.loc[1].tolist() == [11, "code"] and m.loc[2].tolist() == [12, "nhsa"]
    assert m.loc[3].tolist() == [13, "product"]
    assert unmatched_new(new, m)["code"].tolist() == ["Z"]


def test_two_old_listings_sharing_a_product_key_claim_two_new_ones_in_code_order():
    old = frame([row(1, "B", "10"), row(2, "A", "10")])
    new = frame([row(12, "Y", "9"), row(11, "X", "9")])
    m = match_listings(old, new)
    assert m.loc[2, "new"] == 11 and m.loc[1, "new"] == 12


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("ABCDE"), st.sampled_from(["", "N1", "N2"]), st.sampled_from([10, 20])),
             min_size=1, max_size=8, unique_by=lambda t: t[0]),
    st.lists(st.tuples(st.sampled_from("ABCDEFG"), st.sampled_from(["", "N1", "N2"]), st.sampled_from([10, 20])),
             min_size=0, max_size=8, unique_by=lambda t: t[0]),
)  # fmt: skip
def test_matching_is_one_to_one_and_keeps_codes(old_rows, new_rows):
    old = frame([row(i, c, "10", nhsa=h, n=n) for i, (c, h, n) in enumerate(old_rows, 1)])
    new = frame([row(100 + i, c, "10", nhsa=h, n=n) for i, (c, h, n) in enumerate(new_rows, 1)])
    m = match_listings(old, new)
    claimed = m["new"][m["new"] >= 0]
    assert claimed.is_unique
    codes_new = dict(zip(new["id"], new["code"], strict=True))
    for old_id, code in zip(old["id"], old["code"], strict=True):
        if code in set(new["code"]):  # a surviving code always wins
            assert codes_new[m.loc[old_id, "new"]] == code
    assert len(unmatched_new(new, m)) == len(new) - len(claimed)


def test_a_changed_pack_is_compared_after_conversion():
    """10mg×10 at 20.00 with limit 12.00 re-listed as 10mg×20: limit and old price doubled (K_p = 2)."""
    old = frame([row(1, "A", "20.00")])
    binding = pd.DataFrame([(1, Decimal("12.00"), ["TIER_UNEVALUATED"])], columns=["listing_id", "limit", "rules"])
    for price, status in (("24.00", "COMPLIED"), ("30.00", "PARTIAL"), ("40.00", "NOT_ADJUSTED")):
        out = check(old, frame([row(11, "A", price, n=20)]), binding, PARAMS)
        (result,) = out.rows.to_dict("records")
        assert result["status"] == status and result["compared_limit"] == Decimal("24.00")
    gone = check(old, frame([row(11, "A", "10.00", active=False)]), binding, PARAMS)
    assert gone.rows["status"].tolist() == ["WITHDRAWN"]


def test_new_spec_takes_the_lowest_converted_sibling_limit_and_skips_other_makers():
    old = frame([row(1, "A", "20.00"), row(2, "B", "30.00", spec="20mg")])
    binding = pd.DataFrame(
        [(1, Decimal("10.00"), ["SAME_MAKER_SPEC"]), (2, Decimal("20.00"), ["SAME_MAKER_SPEC"])],
        columns=["listing_id", "limit", "rules"],
    )
    # 40mg×10: from A 10.00 × 1.7² = 28.90; from B 20.00 × 1.7 = 34.00 → 28.90 binds
    new = frame([row(11, "A", "10.00"), row(12, "B", "20.00", spec="20mg"), row(13, "C", "29.00", spec="40mg"),
                 row(14, "D", "99.00", spec="40mg", maker=2)])  # fmt: skip
    out = check(old, new, binding, PARAMS)
    above = out.rows[out.rows["status"] == "NEW_SPEC_ABOVE"].to_dict("records")
    assert [(r["listing_id"], r["new_listing_id"], r["compared_limit"]) for r in above] == [(1, 13, Decimal("28.90"))]
    assert out.counts["COMPLIED"] == 2 and out.savings == Decimal("20.00")
