"""Round comparison defaults to the previous round, is paged and exportable; 403/404 in Chinese."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import FlagFactory, ListingFactory, RoundFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_rounds(db):
    old = RoundFactory(title="第一批", province="湖南")
    new = RoundFactory(title="第二批", province="湖南", catalogue_version=old.catalogue_version)
    for i in range(60):  # 60 flags only in the new round (same catalogue: two rounds still differ)
        listing = ListingFactory(version=new.catalogue_version, listing_code=f"C{i:04d}", quality_tier="未过评")
        FlagFactory(round=new, listing=listing)
    kept = ListingFactory(version=old.catalogue_version, listing_code="K0001", quality_tier="未过评")
    FlagFactory(round=old, listing=kept, limit_price=Decimal("4.00"))
    FlagFactory(round=new, listing=kept, limit_price=Decimal("3.50"))
    return old, new


def test_comparison_defaults_to_the_previous_round_and_is_paged(client, regulator, two_rounds):
    old, new = two_rounds
    client.force_login(regulator)
    url = reverse("pricing:round_comparison", args=[new.pk])
    html = client.get(url).content.decode()
    assert "当前对比：第一批" in html and f'<option value="{old.pk}" selected>' in html
    section = html[html.index('id="section-new"') : html.index('id="section-disappeared"')]
    assert "新增纠偏（60）" in section and section.count('<td class="code">C0') == 50 and "第 1 / 2 页" in section
    page2 = client.get(url, {"new_page": 2}).content.decode()
    page2 = page2[page2.index('id="section-new"') : page2.index('id="section-disappeared"')]
    assert page2.count('<td class="code">C0') == 10
    changed = html[html.index('id="section-limit_changed"') :]
    assert "K0001" in changed and "4.00" in changed and "3.50" in changed


def test_comparison_csv_holds_every_changed_flag(client, regulator, two_rounds):
    old, new = two_rounds
    client.force_login(regulator)
    response = client.get(reverse("pricing:round_comparison_csv", args=[new.pk]), {"old": old.pk})
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("变化,挂网编号") and len(lines) == 1 + 60 + 1
    assert any(line.startswith("限价变化,K0001") for line in lines)


def test_403_and_404_pages_are_in_chinese(client, maker_a, regulator):
    client.force_login(maker_a)
    html = client.get(reverse("pricing:round_list")).content.decode()
    assert 'id="error-403"' in html and "无权访问" in html and "Forbidden" not in html
    client.force_login(regulator)
    response = client.get(reverse("pricing:flag_detail", args=[999999]))
    assert response.status_code == 404 and 'id="error-404"' in response.content.decode()
    assert "页面不存在" in response.content.decode() and "Not Found" not in response.content.decode()
