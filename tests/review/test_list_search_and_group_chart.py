"""Flag list name search (case folding only where the term has case) and the detail page's
comparison-group chart (plain JSON, still escaped inside its <script> block)."""

import json
import re

from django.conf import settings
from django.urls import reverse

from tests.factories import FlagFactory


def _codes(html: str) -> list[str]:
    return re.findall(r'<td class="code target-code">(T\d+)</td>', html)


def test_name_search_ignores_case_for_latin_and_matches_chinese(client, regulator, draft_round):
    vitamin = FlagFactory(round=draft_round, listing__generic_name="维生素B6片")
    other = FlagFactory(round=draft_round, listing__generic_name="头孢克肟片")
    client.force_login(regulator)
    url = reverse("pricing:flag_list", args=[draft_round.pk])
    for term in ("b6", "B6", "维生素", "维生素b"):
        assert _codes(client.get(url, {"q": term}).content.decode()) == [vitamin.listing.listing_code], term
    assert _codes(client.get(url, {"q": "克肟"}).content.decode()) == [other.listing.listing_code]
    assert _codes(client.get(url, {"q": "维生素C"}).content.decode()) == []


def test_group_chart_json_cannot_break_out_of_its_block(client, regulator, draft_round):
    flag = FlagFactory(round=draft_round, listing__manufacturer__name="</script><b>x</b>")
    client.force_login(regulator)
    html = client.get(reverse("pricing:flag_detail", args=[flag.pk])).content.decode()
    block = re.search(r'<script type="application/json" id="chart-group-data">(.*?)</script>', html, re.S)
    assert block, "comparison-group chart missing"
    assert "<b>x" not in block.group(1)
    figure = json.loads(block.group(1))
    texts = [t for trace in figure["data"] for t in trace.get("text", [])]
    assert any("</script><b>x</b>" in t for t in texts)
    assert figure["layout"]["template"]["layout"], "plotly_white theme embedded as in plotly's own output"


def test_list_rows_show_translated_choice_labels(client, regulator, draft_round):
    FlagFactory(round=draft_round, status="confirmed", rule_code="SAME_MAKER_SPEC")
    client.force_login(regulator)
    url = reverse("pricing:flag_list", args=[draft_round.pk])
    html = client.get(url).content.decode()
    assert '<span class="badge st-confirmed">确认纠偏</span>' in html
    assert 'title="同厂同通用名同剂型同质量层次不同规格" class="code">SAME_MAKER_SPEC<' in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(url).content.decode()
    assert '<span class="badge st-confirmed">确认纠偏</span>' not in html
    assert re.search(r'<span class="badge st-confirmed">[A-Za-z][^<]*</span>', html)
