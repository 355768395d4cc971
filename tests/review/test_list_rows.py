"""The flag list's pre-formatted rows (pricing.review.list_rows, pricing.review.display) and its total
read from the stored aggregates: the same text as Django's filters, the same values as the flag
detail page and the CSV export, and a total that follows every decision."""

import csv
import io
import random
import re
from decimal import Decimal

import pytest
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db import connection
from django.template.defaultfilters import floatformat
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from pricing.models import Flag, FlagStatus
from pricing.review import round_stats
from pricing.review.display import decimal_separator, fixed, grouped
from tests.factories import FlagFactory

EDGE_VALUES = [
    "0", "-0", "0.00", "0.005", "-0.005", "-0.004", "0.125", "2.5", "0.00005", "-0.00005", "1", "-1",
    "999.995", "999.994", "1000", "-1000.5", "1234567.891", "-1234567.895", "12345678901234.5678", "1E+3",
    "1.23E-7", "100.0000", "616.68", "30.96", "5.1600", "3.3214", "19.9233",
]  # fmt: skip


def _values() -> list[Decimal]:
    rng = random.Random(12)
    out = [Decimal(v) for v in EDGE_VALUES]
    for _ in range(400):
        digits = rng.randint(1, 16)
        places = rng.randint(0, 10)
        value = Decimal(rng.randrange(10**digits)).scaleb(-places)
        out.append(-value if rng.random() < 0.2 else value)
    return out


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_display_text_equals_djangos_filters(language):
    with translation.override(language):
        sep = decimal_separator()
        for value in _values():
            for places in (2, 4):
                assert fixed(value, places, sep) == str(floatformat(value, places)), (value, places)
            assert grouped(fixed(value, 2, sep)) == intcomma(floatformat(value, 2)), value


def _list_row(html: str, flag: Flag) -> list[str]:
    """The cells' text of the flag's row on the list page (tags stripped)."""
    rows = re.findall(r'<tr class="status-[^"]*">(.*?)</tr>', html, re.S)
    (row,) = [r for r in rows if f'href="/pricing/flags/{flag.pk}/?back=' in r]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in cells]


def _detail(html: str) -> dict[str, str]:
    stat = {
        label: re.sub(r"<[^>]+>", "", value).strip()
        for label, value in re.findall(r'<div class="stat"><span>([^<]+)</span><b[^>]*>(.*?)</b>', html, re.S)
    }
    return {
        "price": stat["挂网价格"],
        "limit": re.search(r'id="limit-price">([^<]*)<', html).group(1),
        "ratio": re.search(r'id="flag-ratio">([^<]*)<', html).group(1),
        "severity": stat["风险等级"],
        "status": re.search(r'id="flag-status">([^<]*)<', html).group(1),
    }


def _export(client, round_id: int, code: str) -> dict[str, str]:
    text = client.get(reverse("pricing:flag_export_csv", args=[round_id])).content.decode("utf-8-sig")
    (row,) = [r for r in csv.DictReader(io.StringIO(text)) if r["挂网编号"] == code]
    return {"price": row["挂网价格"], "limit": row["纠偏限价"], "ratio": row["价差倍数"], "severity": row["风险等级"]}


def test_list_values_of_decided_flags_equal_detail_and_export(client, regulator, draft_round, flag_a, flag_b):
    client.force_login(regulator)
    third = FlagFactory(round=draft_round, listing__listed_price=Decimal("1234.5"), severity="黄")
    decide = "pricing:flag_decide"
    assert (
        client.post(
            reverse(decide, args=[flag_a.pk]),
            {"action": "adjust", "expected_version": 0, "new_limit": "40.05", "reason": "按调研价"},
        ).status_code
        == 302
    )
    client.post(reverse(decide, args=[flag_b.pk]), {"action": "dismiss", "expected_version": 0, "reason": "不同意"})
    client.post(reverse(decide, args=[third.pk]), {"action": "confirm", "expected_version": 0})
    html = client.get(reverse("pricing:flag_list", args=[draft_round.pk])).content.decode()
    shown = {}
    for flag in (flag_a, flag_b, third):
        flag.refresh_from_db()
        cells = _list_row(html, flag)
        # checkbox, code, name, spec, maker, tier, rule, severity, price, limit, ratio, overcharge, benchmark, status
        assert cells[1] == flag.listing.listing_code and cells[2] == flag.generic_name
        shown[flag.pk] = {
            "price": cells[8],
            "limit": cells[9],
            "ratio": cells[10],
            "severity": cells[7],
            "status": cells[13],
        }
        detail = _detail(client.get(reverse("pricing:flag_detail", args=[flag.pk])).content.decode())
        assert shown[flag.pk] == {**detail, "limit": detail["limit"] + ("*" if flag.adjusted_limit_price else "")}
        exported = _export(client, draft_round.pk, flag.listing.listing_code)
        assert {k: v for k, v in shown[flag.pk].items() if k != "status"} == {
            **exported,
            "limit": exported["limit"] + ("*" if flag.adjusted_limit_price else ""),
        }
        assert cells[11] == intcomma(floatformat(flag.overcharge, 2))
    assert shown[flag_a.pk]["limit"] == "40.05*" and shown[flag_a.pk]["status"] == "确认纠偏"
    assert shown[flag_b.pk]["status"] == "不予纠偏" and not shown[flag_b.pk]["limit"].endswith("*")
    assert shown[third.pk]["price"] == "1234.50"
    assert '<sup title="已调整">*</sup>' in html


def _total(client, round_id: int, **query) -> int:
    html = client.get(reverse("pricing:flag_list", args=[round_id]), query).content.decode()
    return int(re.search(r'id="result-total">([\d,]+)<', html).group(1).replace(",", ""))


def test_total_follows_each_decision_and_each_new_flag(client, regulator, draft_round, company_a, company_b):
    client.force_login(regulator)
    flags = [
        FlagFactory(round=draft_round, listing__manufacturer=company_a if i % 3 else company_b, severity="黄")
        for i in range(9)
    ]
    round_stats.rebuild(draft_round.pk)  # as detection does at its end
    rid = draft_round.pk

    def expected(**filters) -> int:
        return Flag.objects.filter(round_id=rid, **filters).count()

    with CaptureQueriesContext(connection) as queries:
        assert _total(client, rid) == 9
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and '"pricing_flag"' in q["sql"]]

    first, second = flags[0], flags[1]
    client.post(reverse("pricing:flag_decide", args=[first.pk]), {"action": "confirm", "expected_version": 0})
    client.post(
        reverse("pricing:flag_decide", args=[second.pk]),
        {"action": "dismiss", "expected_version": 0, "reason": "价格合理"},
    )
    assert _total(client, rid) == 9
    assert _total(client, rid, status="pending") == expected(status=FlagStatus.PENDING) == 7
    assert _total(client, rid, status="confirmed") == 1
    assert _total(client, rid, status="dismissed") == 1
    for company in (company_a, company_b):
        for status in ("", "pending", "confirmed"):
            filters = {"manufacturer_id": company.pk, **({"status": status} if status else {})}
            assert _total(client, rid, manufacturer=company.pk, status=status) == expected(**filters)
    rule = first.rule_code
    assert _total(client, rid, severity="黄", rule=rule) == expected(severity="黄", rule_code=rule)
    assert _total(client, rid, severity="红★★★") == 0
    # a bulk decision (one UPDATE of several flags)
    pending = [f for f in flags if f.pk not in (first.pk, second.pk)]
    client.post(
        reverse("pricing:flag_bulk_decide", args=[rid]),
        {
            "action": "confirm",
            "flag_ids": [f.pk for f in pending[:3]],
            "confirmed": "1",
            "expected_pending": "3",
            **{f"v_{f.pk}": "0" for f in pending[:3]},
        },
    )
    assert _total(client, rid, status="confirmed") == expected(status=FlagStatus.CONFIRMED) == 4
    assert _total(client, rid, status="pending") == 4
    # a new flag (detection inserts): the stored aggregates are behind, so the list counts the flags
    FlagFactory(round=draft_round, listing__manufacturer=company_a)
    assert _total(client, rid) == 10
    assert _total(client, rid, status="pending") == 5
    # filters the aggregates cannot count still count the flags
    assert _total(client, rid, q=first.generic_name) == expected(generic_name__contains=first.generic_name)


def test_filter_widgets_show_the_submitted_values_and_language(client, regulator, draft_round, flag_a, settings):
    """The filter form's widgets are cached per language and submitted values: each request still
    shows its own values, its own errors and its own language."""
    from pricing.review.filters import SORT_LABELS

    client.force_login(regulator)
    url = reverse("pricing:flag_list", args=[draft_round.pk])
    pages = {}
    for term in ("阿莫西林", "头孢", "阿莫西林"):
        html = pages[term] = client.get(url, {"q": term, "status": "pending"}).content.decode()
        assert re.search(rf'<input type="text" name="q" value="{term}"', html)
        assert re.search(r'<option value="pending" selected>', html)
    html = client.get(url, {"ratio_min": "abc"}).content.decode()
    assert 'class="error"' in html and 'aria-invalid="true"' in html
    assert 'aria-invalid="true"' not in client.get(url, {"ratio_min": "2"}).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(url, {"q": "头孢", "status": "pending"}).content.decode()  # as the Chinese page above
    html = pages["头孢"]
    with translation.override("en"):
        label = str(SORT_LABELS["-ratio"])
    with translation.override("zh-hans"):
        chinese_label = str(SORT_LABELS["-ratio"])
    assert label != chinese_label and f">{label}</option>" in english
    assert f">{chinese_label}</option>" in html and f">{chinese_label}</option>" not in english


def test_total_for_odd_manufacturer_ids_matches_the_rows(client, regulator, draft_round, flag_a):
    client.force_login(regulator)
    round_stats.rebuild(draft_round.pk)
    maker = flag_a.manufacturer_id
    for raw, expected in ((str(maker), 1), (f"{maker}.0", 1), ("-3", 0)):
        assert _total(client, draft_round.pk, manufacturer=raw) == expected, raw
    # beyond a database integer: what the flag query does (SQLite refuses it: 400, PostgreSQL: none)
    response = client.get(reverse("pricing:flag_list", args=[draft_round.pk]), {"manufacturer": "9" * 20})
    assert response.status_code == 400 or 'id="result-total">0<' in response.content.decode()


def test_comparison_group_cells_equal_djangos_filters_and_the_unshared_arithmetic(flag_a):
    """The detail page's group table: each pre-formatted cell is what `floatformat`/`yesno` printed,
    and each converted price is what the conversion gives when every row computes its own factor."""
    from fractions import Fraction

    from django.template.defaultfilters import yesno

    from catalogue.models import Listing
    from pricing.engine.conversion import conversion_factor, converted_unit_price, round_half_up
    from pricing.review.selectors import _quantities, comparison_group
    from tests.factories import ListingFactory

    version = flag_a.round.catalogue_version
    same = {"version": version, "generic_name": "盐酸法舒地尔注射液", "dosage_form": "注射液"}
    ListingFactory(**same, strength="5ml:60mg", pack_quantity=3, vbp_selected=True, listed_price=Decimal("123.455"))
    ListingFactory(**same, strength="5ml:60mg", pack_quantity=3, listed_price=Decimal("99.9950"))
    ListingFactory(**same, strength="2ml:30mg", pack_quantity=10, listed_price=Decimal("48.3"))
    ListingFactory(**same, strength="适量", pack_quantity=1, listed_price=Decimal("7"))  # not comparable
    flag = type(flag_a).objects.select_related("listing", "round__rule_set").get(pk=flag_a.pk)
    # a pack factor K_p ≠ 2, so that packs change the conversion (with K_p = 2 that term is 1)
    flag.round.rule_set.params = {**flag.round.rule_set.params, "k_pack": "1.9"}
    rows = comparison_group(flag)
    params = flag.round.rule_set.params
    k = {"content": params.get("k_content", "1.7"), "volume": params.get("k_volume", "1.9")}
    assert len(rows) == 6 and any(r["converted"] is None for r in rows) and any(r["vbp_text"] == "是" for r in rows)
    for row in rows:
        listing = Listing.objects.get(pk=row["listing"].id)
        assert row["listed_price_text"] == floatformat(listing.listed_price, 2)
        assert row["unit_price_text"] == floatformat(listing.unit_price, 4)
        assert row["vbp_text"] == yesno(listing.vbp_selected, "是,否")
        assert row["tier"] == f"{listing.quality_tier}（{listing.tier_class}）"
        q = _quantities(flag.listing, listing)
        if q is None:
            assert row["converted"] is None and row["converted_text"] is None
            continue
        kind, q_t, q_b = q
        factor = conversion_factor(
            k=Fraction(str(k[kind])) if kind in k else None,
            q_target=Fraction(q_t) if q_t is not None else None,
            q_bench=Fraction(q_b) if q_b is not None else None,
            k_pack=Fraction(str(params.get("k_pack", "2"))),
            n_target=flag.listing.pack_quantity,
            n_bench=listing.pack_quantity,
        )
        expected = round_half_up(converted_unit_price(listing.listed_price, listing.pack_quantity, factor), 4)
        assert row["converted"] == expected and row["converted_text"] == floatformat(expected, 4)
