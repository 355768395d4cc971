"""Review pages: round list, overview (counts + chart JSON), flag list filters/sort/pagination,
flag detail, decisions through the page (409 on conflict, CSRF), publication form."""

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from pricing.models import FlagDecision, RoundStatus
from tests.factories import PASSWORD, FlagFactory


def _login(client, user):
    client.force_login(user)
    return client


def _chart(html: str, chart_id: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>', html, re.S)
    assert match, f"chart {chart_id} missing"
    return json.loads(match.group(1))


def test_round_list_shows_status_and_counts(client, regulator, flag_a, flag_b):
    html = _login(client, regulator).get(reverse("pricing:round_list")).content.decode()
    assert flag_a.round.title in html
    assert "草稿" in html
    assert reverse("pricing:round_overview", args=[flag_a.round_id]) in html


def test_overview_counts_and_charts(client, regulator, flag_a, flag_b, draft_round):
    FlagFactory(round=draft_round, rule_code="SAME_MAKER_SPEC", severity="黄", status="confirmed")
    response = _login(client, regulator).get(reverse("pricing:round_overview", args=[draft_round.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'data-count="total">3<', html)
    assert re.search(r'data-count="confirmed">1<', html)
    assert re.search(r'data-rule="TIER_UNEVALUATED">2<', html)
    assert re.search(r'data-severity="红★★★">1<', html)
    fig = _chart(html, "chart-rule-severity")
    by_sev = {trace["name"]: trace["y"] for trace in fig["data"]}
    assert by_sev["红★★★"][0] == 1 and by_sev["黄"][2] == 1
    ratio = _chart(html, "chart-ratio")
    assert ratio["layout"]["xaxis"]["type"] == "log"
    assert sum(ratio["data"][0]["y"][:-1]) == 3
    top = _chart(html, "chart-top-amount")
    assert "甲药业有限公司" in top["data"][0]["y"]
    assert "vendor/plotly.min.js" in html and "cdn" not in html.lower()


def test_chart_json_cannot_break_out_of_its_block(client, regulator, draft_round):
    FlagFactory(round=draft_round, listing__manufacturer__name="</script><b>x</b>")
    html = _login(client, regulator).get(reverse("pricing:round_overview", args=[draft_round.pk])).content.decode()
    assert "</script><b>x" not in html
    assert "</script><b>x</b>" in json.dumps(_chart(html, "chart-top-count"), ensure_ascii=False)


@pytest.fixture
def many_flags(draft_round):
    flags = []
    for i in range(30):
        flags.append(
            FlagFactory(
                round=draft_round,
                listing__generic_name="阿莫西林胶囊" if i % 2 else "头孢克肟片",
                listing__listed_price=Decimal("10") + i,
                severity="红★★★" if i % 3 == 0 else "黄",
            )
        )
    return flags


def _codes(html: str) -> list[str]:
    return re.findall(r'<td class="code target-code">(T\d+)</td>', html)


def test_flag_list_filters_sort_and_pagination_live_in_the_url(client, regulator, draft_round, many_flags):
    _login(client, regulator)
    url = reverse("pricing:flag_list", args=[draft_round.pk])
    html = client.get(url, {"severity": "红★★★", "sort": "-ratio", "per_page": 20}).content.decode()
    assert re.search(r'id="result-total">10<', html)
    shown = _codes(html)
    expected = sorted((f for f in many_flags if f.severity == "红★★★"), key=lambda f: -f.ratio)
    assert shown == [f.listing.listing_code for f in expected]
    # name search + ascending ratio, page 2 of 20-per-page keeps the filter in the links
    html = client.get(url, {"q": "阿莫西林", "sort": "ratio", "per_page": 20}).content.decode()
    assert re.search(r'id="result-total">15<', html)
    assert "头孢克肟片" not in html
    page1 = client.get(url, {"per_page": 20}).content.decode()
    assert "q=" not in page1.split('id="next-page"')[0].rsplit("href=", 1)[-1]
    next_link = re.search(r'href="\?([^"]*)" id="next-page"', page1).group(1).replace("&amp;", "&")
    assert "per_page=20" in next_link and "page=2" in next_link
    page2 = client.get(f"{url}?{next_link}").content.decode()
    assert len(_codes(page1)) == 20 and len(_codes(page2)) == 10
    assert not set(_codes(page1)) & set(_codes(page2))
    # exact 挂网编号 search and ratio range
    code = many_flags[4].listing.listing_code
    assert _codes(client.get(url, {"q": code}).content.decode()) == [code]
    lo = many_flags[5].ratio
    html = client.get(url, {"ratio_min": str(lo), "ratio_max": str(lo)}).content.decode()
    assert many_flags[5].listing.listing_code in _codes(html)


def test_flag_detail_shows_both_sides_arithmetic_and_group(client, regulator, flag_a, flag_b):
    html = _login(client, regulator).get(reverse("pricing:flag_detail", args=[flag_a.pk])).content.decode()
    assert flag_a.benchmark_listing.listing_code in html
    assert 'id="limit-price">30.96<' in html
    assert "51.60" in html and "616.68" in html
    fig = _chart(html, "chart-group")
    points = {x: y for trace in fig["data"] for x, y in zip(trace["x"], trace["y"], strict=False)}
    assert points[flag_a.benchmark_listing.listing_code] == pytest.approx(5.16)  # same spec, unit price
    assert points[flag_a.listing.listing_code] == pytest.approx(102.78)
    assert "头孢克肟胶囊" not in html  # another group


def test_decide_through_page_then_conflict_409(client, regulator, flag_a):
    url = reverse("pricing:flag_decide", args=[flag_a.pk])
    _login(client, regulator)
    response = client.post(url, {"action": "confirm", "expected_version": 0})
    assert response.status_code == 302
    other = Client()
    other.force_login(type(regulator).objects.create_user("regulator2", password=PASSWORD, role="regulator"))
    response = other.post(url, {"action": "dismiss", "expected_version": 0, "reason": "不同意"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "已被 regulator" in html and "确认纠偏" in html
    assert FlagDecision.objects.filter(flag=flag_a).count() == 1
    response = client.post(url, {"action": "dismiss", "expected_version": 1, "reason": ""})
    assert response.status_code == 400 and "必须填写理由" in response.content.decode()


def test_decide_requires_csrf_token(regulator, flag_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(regulator)
    url = reverse("pricing:flag_decide", args=[flag_a.pk])
    assert client.post(url, {"action": "confirm", "expected_version": 0}).status_code == 403
    client.get(reverse("pricing:flag_detail", args=[flag_a.pk]))
    token = client.cookies["csrftoken"].value
    response = client.post(url, {"action": "confirm", "expected_version": 0, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="flag.confirm").count() == 1


def test_bulk_confirm_from_list(client, regulator, draft_round, many_flags):
    _login(client, regulator)
    picked = many_flags[:5]
    data = {"action": "confirm", "flag_ids": [f.pk for f in picked], "next": "/pricing/"}
    data.update({f"v_{f.pk}": f.lock_version for f in picked})
    response = client.post(reverse("pricing:flag_bulk_decide", args=[draft_round.pk]), data)
    assert (
        response.status_code == 200
        and 'id="bulk-pending">5</b> 条待审核记录将被「确认纠偏」' in response.content.decode()
    )
    assert not FlagDecision.objects.exists()  # the first step only shows what will happen
    data.update({"confirmed": "1", "expected_pending": "5"})
    response = client.post(reverse("pricing:flag_bulk_decide", args=[draft_round.pk]), data)
    assert response.status_code == 302
    assert FlagDecision.objects.filter(action="confirm").count() == 5
    # an off-site `next` is not followed
    data.update({"next": "https://evil.example/", "expected_pending": "0"})
    response = client.post(reverse("pricing:flag_bulk_decide", args=[draft_round.pk]), data)
    assert response["Location"].startswith("/pricing/")


@time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC), tick=False)
def test_publish_form_admin_only(client, regulator, admin_user, flag_a):
    url = reverse("pricing:round_publish", args=[flag_a.round_id])
    _login(client, regulator)
    assert client.get(url).status_code == 403
    _login(client, admin_user)
    response = client.post(url, {"deadline_date": "2026-03-15", "deadline_time": "", "notice_text": "x"})
    assert response.status_code == 400 and "没有确认纠偏" in response.content.decode()
    client.post(reverse("pricing:flag_decide", args=[flag_a.pk]), {"action": "confirm", "expected_version": 0})
    data = {"deadline_date": "2026-03-15", "deadline_time": "18:00", "notice_text": "请申诉", "evidence_required": "on"}
    html = client.post(url, data).content.decode()  # first the confirmation: counts, companies, deadline
    assert 'id="confirm-companies">1<' in html and 'id="confirm-listings">1<' in html
    assert 'id="confirm-deadline">2026-03-15 18:00:00<' in html and 'id="publish-confirm"' in html
    flag_a.round.refresh_from_db()
    assert flag_a.round.status == RoundStatus.DRAFT
    response = client.post(url, {**data, "confirmed": "1"})
    assert response.status_code == 302
    flag_a.round.refresh_from_db()
    assert flag_a.round.status == RoundStatus.PUBLISHED
    assert flag_a.round.appeal_deadline == dt.datetime(2026, 3, 15, 10, 0, tzinfo=dt.UTC)
    html = client.get(reverse("pricing:flag_detail", args=[flag_a.pk])).content.decode()
    assert "确认名单已冻结" in html and 'id="confirm-flag"' not in html


def test_csv_export_of_the_current_filter(client, regulator, draft_round, many_flags):
    _login(client, regulator)
    url = reverse("pricing:flag_export_csv", args=[draft_round.pk])
    response = client.get(url, {"severity": "红★★★", "q": "头孢"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    expected = {f.listing.listing_code for f in many_flags if f.severity == "红★★★" and f.generic_name == "头孢克肟片"}
    found = {code for code in re.findall(r"\bT\d{6}\b", text)} & {f.listing.listing_code for f in many_flags}
    assert expected and found == expected
