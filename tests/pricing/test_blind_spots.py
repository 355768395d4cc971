"""Blind spots (issue 10 item 3) and "why is this drug not flagged?" (item 4), on the public sample
row by row and on a small catalogue built to hit every reason."""

import csv
import io
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from python_calamine import CalamineWorkbook

from catalogue import services
from pricing.engine.round_coverage import coverage_summary, explain_listings, round_coverage, search_listings
from pricing.models import CorrectionRound

# the sample's listings that no rule could compare, and why (every other listing was compared)
SAMPLE_BLIND = {
    "HN0002": "NO_BENCHMARK",  # 过评, no 参比 in 盐酸法舒地尔注射液 / 注射剂, no same-maker sibling
    "HN0003": "NO_BENCHMARK",
    "HN0011": "NO_BENCHMARK",
    "HN0012": "VBP",  # VBP winner: a benchmark only
    "HN0020": "NO_BENCHMARK",  # 原研: only SAME_MAKER_SPEC could target it, and 辉瑞 has one pack
    "HN0023": "INACTIVE",  # 暂停
    "HN0050": "NO_BENCHMARK",
    "HN0060": "NO_BENCHMARK",  # parsed 复方氨基酸 (过评): no 参比 — its unparsed siblings are not the reason
    "HN0062": "NO_BENCHMARK",  # unparsed 复方 (过评): no 参比 either
    "HN0070": "NO_BENCHMARK",
}


def _round_for(version) -> CorrectionRound:
    out = StringIO()
    call_command("detect", str(version.pk), stdout=out)
    return CorrectionRound.objects.get(pk=int(out.getvalue().strip().splitlines()[-1]))


@pytest.fixture
def sample_round(db, samples_dir):
    version = services.import_catalogue(samples_dir / "catalogue_sample.csv", province="湖南")
    services.import_reference_prices(samples_dir / "reference_prices_sample.csv")
    return _round_for(version)


def test_blind_spots_of_the_sample_row_by_row(sample_round):
    frame = round_coverage(sample_round).listings
    reasons = dict(zip(frame["code"], frame["reason"], strict=True))
    assert len(reasons) == 32
    assert {code: r for code, r in reasons.items() if r} == SAMPLE_BLIND
    # the unparsed 复方 listing HN0061 (未过评) was compared — with its identical-text sibling HN0062
    assert reasons["HN0061"] == ""
    summary = coverage_summary(sample_round)
    assert (summary["active"], summary["checked"], summary["blind"], summary["blind_active"]) == (31, 22, 10, 9)
    assert [(code, n) for code, _label, n in summary["reasons"]] == [("INACTIVE", 1), ("VBP", 1), ("NO_BENCHMARK", 8)]


CATALOGUE = """挂网编号,通用名,剂型,规格,转换比,生产企业,质量层次,挂网价格
U1,甲片,片剂,复方,10,甲厂,未过评,10.00
U2,甲片,片剂,10mg,10,乙厂,过评,5.00
S1,乙片,片剂,10mg,10,甲厂,过评,5.00
S2,乙片,片剂,复方X,10,乙厂,参比制剂,9.00
F1,丙注射液,注射剂,2ml,10,甲厂,未过评,10.00
F2,丙注射液,注射剂,30mg,10,乙厂,过评,5.00
K1,丁剂,神奇剂,10mg,10,甲厂,未过评,10.00
K2,丁剂,神奇剂,20mg,10,乙厂,过评,10.00
A1,戊片,片剂,10mg,10,甲厂,未过评,10.00
"""


@pytest.mark.django_db
def test_every_reason_on_a_built_catalogue(tmp_path):
    path = tmp_path / "reasons.csv"
    path.write_text(CATALOGUE, encoding="utf-8")
    rnd = _round_for(services.import_catalogue(path, province="测试"))
    frame = round_coverage(rnd).listings
    reasons = dict(zip(frame["code"], frame["reason"], strict=True))
    assert reasons == {
        "U1": "UNPARSED_SPEC",  # 未过评 with a 过评 sibling, but 复方 is not parsed
        "U2": "NO_BENCHMARK",
        "S1": "SIBLINGS_UNPARSED",  # 过评 with a 参比 sibling whose 规格 is not parsed
        "S2": "NO_BENCHMARK",
        "F1": "SPEC_FAMILY",  # volume vs content: nothing converts
        "F2": "NO_BENCHMARK",
        "K1": "",  # an unknown form is still compared inside its own group
        "K2": "UNKNOWN_FORM",
        "A1": "ALONE",
    }


def test_overview_section_and_downloads(client, regulator, sample_round):
    client.force_login(regulator)
    overview = client.get(reverse("pricing:round_overview", args=[sample_round.pk])).content.decode()
    assert reverse("pricing:round_blind_spots", args=[sample_round.pk]) in overview
    section = client.get(reverse("pricing:round_blind_spots", args=[sample_round.pk])).content.decode()
    assert 'data-blind-reason="NO_BENCHMARK">8<' in section and 'data-blind-reason="INACTIVE">1<' in section
    response = client.get(reverse("pricing:round_blind_spots_download", args=[sample_round.pk, "csv"]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {r["挂网编号"]: r["原因代码"] for r in rows} == SAMPLE_BLIND
    hn23 = next(r for r in rows if r["挂网编号"] == "HN0023")
    assert (hn23["挂网状态"], hn23["规格"], hn23["挂网价格"]) == ("暂停", "20mg", "84.0000")
    response = client.get(reverse("pricing:round_blind_spots_download", args=[sample_round.pk, "xlsx"]))
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.get_sheet_by_index(0).to_python()
    assert len(sheet) == 1 + len(SAMPLE_BLIND) and sheet[0][0] == "挂网编号"


def test_why_is_this_drug_not_flagged(sample_round):
    def verdict(code):
        (v,) = explain_listings(sample_round, search_listings(sample_round, code))
        return v

    v = verdict("HN0071")  # 未过评 0.5g × 60 at 30.00; benchmark HN0070 0.5g × 30 at 15.00 → limit 30.00
    assert (v.form_group, v.reason_code) == ("缓释片", "")
    assert v.reason == "挂网价格不高于各规则的纠偏限价"
    (rule,) = v.rules
    assert (rule.rule_code, rule.benchmark, str(rule.limit_price), rule.flagged) == (
        "TIER_UNEVALUATED",
        "HN0070",
        "30.00",
        False,
    )
    assert verdict("HN0012").reason_code == "VBP" and verdict("HN0023").reason_code == "INACTIVE"
    flagged = verdict("HN0001")
    assert flagged.flags and flagged.reason.startswith("已纠偏")
    assert {r.rule_code: str(r.limit_price) for r in flagged.rules}["TIER_UNEVALUATED"] == "30.96"
    by_name = explain_listings(sample_round, search_listings(sample_round, "二甲双胍"))
    assert [v.code for v in by_name] == ["HN0070", "HN0071"]


def test_why_page_shows_the_reason(client, regulator, sample_round):
    client.force_login(regulator)
    page = client.get(reverse("pricing:round_why_not_flagged", args=[sample_round.pk]), {"q": "HN0062"})
    html = page.content.decode()
    assert page.status_code == 200 and 'data-listing="HN0062"' in html
    assert "同组没有可与之比较的药品" in html
    assert (
        "本批次目录中没有匹配的药品"
        in client.get(
            reverse("pricing:round_why_not_flagged", args=[sample_round.pk]), {"q": "不存在的药"}
        ).content.decode()
    )
