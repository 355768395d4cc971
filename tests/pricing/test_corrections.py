"""Corrections (人工修正, issue 10 item 5): versioned, audited, applied at detection, written into the
flag's explanation, and the stored upload never changes."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from catalogue import services
from catalogue.corrections import CorrectionRefused, current_corrections, save_correction
from catalogue.models import Listing
from pricing.models import Flag
from pricing.review.explain import explain_flag

# Two packs of one maker: the platform typed 规格 "20mg" for the 10mg pack B2, so SAME_MAKER_SPEC
# compares B2 (20mg × 10 at 15.00) with B1 (10mg × 10 at 10.00) as if it were double strength:
# converted 10.00 × 1.7 = 17.00 ≥ 15.00, no flag. Corrected to 10mg, B2's limit is 10.00 → flagged.
CATALOGUE = """挂网编号,通用名,剂型,规格,转换比,生产企业,质量层次,挂网价格
B1,甲片,片剂,10mg,10,甲厂,过评,10.00
B2,甲片,片剂,20mg,10,甲厂,过评,15.00
B3,甲片,片剂,20mg,20,甲厂,过评,34.00
"""


def _detect(version) -> int:
    out = StringIO()
    call_command("detect", str(version.pk), stdout=out)
    return int(out.getvalue().strip().splitlines()[-1])


@pytest.fixture
def version(db, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(CATALOGUE, encoding="utf-8")
    return services.import_catalogue(path, province="测试省")


def test_correction_by_listing_code_changes_the_flags_and_explains_itself(version, regulator):
    before = _detect(version)
    assert not Flag.objects.filter(round_id=before, listing__listing_code="B2").exists()
    save_correction(
        province="测试省", listing_code="B2", strength="10mg", reason="平台录入错误，说明书为10mg", user=regulator
    )
    after = _detect(version)
    flag = Flag.objects.get(round_id=after, listing__listing_code="B2")
    assert (flag.rule_code, str(flag.limit_price)) == ("SAME_MAKER_SPEC", "10.00")
    (note,) = flag.factors["corrections"]
    assert note.startswith("规格按人工修正：20mg → 10mg") and "平台录入错误" in note and regulator.username in note
    assert any(step["value"] == note for step in explain_flag(flag))
    # the stored upload is untouched
    b2 = Listing.objects.get(version=version, listing_code="B2")
    assert (b2.strength, b2.strength_norm, b2.content_value) == ("20mg", "20mg", Decimal(20))


def test_correction_by_product_and_versioning(version, regulator):
    first = save_correction(
        province="测试省", product=("甲片", "甲厂", "20MG"), pack_quantity=5, reason="包装数量有误", user=regulator
    )
    assert first.product_key == "甲片|甲厂|20mg" and first.version == 1
    second = save_correction(
        province="测试省",
        product=("甲片", "甲厂", "20mg"),
        quality_tier="未通过一致性评价",
        reason="复核",
        user=regulator,
    )
    assert second.version == 2 and second.quality_tier == "未过评"
    assert current_corrections("测试省") == [second]
    assert AuditEvent.objects.filter(action="catalogue.correction").count() == 2
    save_correction(province="测试省", product=("甲片", "甲厂", "20mg"), active=False, reason="撤销", user=regulator)
    assert current_corrections("测试省") == []
    assert current_corrections("其他省") == []


def _flags(round_id: int) -> set[tuple]:
    return {(f.listing.listing_code, f.rule_code, str(f.limit_price)) for f in Flag.objects.filter(round_id=round_id)}


def test_tier_correction_by_product_moves_the_listing_to_another_rule(version, regulator):
    # B1 (10mg, 过评) is dearer than B2 converted to 10mg: 15.00 / 10 / 1.7 × 10 = 8.82
    assert _flags(_detect(version)) == {("B1", "SAME_MAKER_SPEC", "8.82"), ("B3", "SAME_MAKER_SPEC", "30.00")}
    save_correction(
        province="测试省", product=("甲片", "甲厂", "10 MG"), quality_tier="非过评", reason="未通过评价", user=regulator
    )
    round_id = _detect(version)
    # as 未过评, B1 is no longer B2/B3's sibling tier: compared with them by TIER_UNEVALUATED instead
    assert _flags(round_id) == {("B1", "TIER_UNEVALUATED", "8.82"), ("B3", "SAME_MAKER_SPEC", "30.00")}
    b1 = Flag.objects.get(round_id=round_id, listing__listing_code="B1")
    assert b1.factors["corrections"][0].startswith("质量层次按人工修正：过评 → 未过评")
    assert Listing.objects.get(version=version, listing_code="B1").quality_tier == "过评"


@pytest.mark.django_db
def test_bad_corrections_are_refused(regulator):
    with pytest.raises(CorrectionRefused, match="挂网编号或产品"):
        save_correction(province="p", strength="10mg", reason="r", user=regulator)
    with pytest.raises(CorrectionRefused, match="修正原因"):
        save_correction(province="p", listing_code="A", strength="10mg", reason=" ", user=regulator)
    with pytest.raises(CorrectionRefused, match="无法解析"):
        save_correction(province="p", listing_code="A", strength="复方", reason="r", user=regulator)
    with pytest.raises(CorrectionRefused, match="未知的质量层次"):
        save_correction(province="p", listing_code="A", quality_tier="很好", reason="r", user=regulator)


@pytest.mark.django_db
def test_corrections_page_saves_and_lists(client, regulator):
    from django.urls import reverse

    client.force_login(regulator)
    url = reverse("catalogue:corrections")
    page = client.post(url, {"province": "测试省", "listing_code": "B2", "strength": "10mg", "reason": "说明书为10mg"})
    assert page.status_code == 302
    html = client.get(url, {"province": "测试省"}).content.decode()
    assert 'data-correction="B2"' in html and "说明书为10mg" in html
    refused = client.post(url, {"province": "测试省", "strength": "10mg", "reason": "x"}).content.decode()
    assert "请填写挂网编号或产品" in refused
