"""审计日志 (issue 9): a Chinese, filterable, exportable timeline for regulators; Django admin
cannot add, change or delete audit rows."""

from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from pricing.review.decisions import adjust_limit, confirm_flag, dismiss_flag
from tests.factories import FlagFactory, RoundFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(regulator, company_a, company_b):
    one, two = RoundFactory(title="第一批"), RoundFactory(title="第二批")
    a = FlagFactory(round=one, listing__manufacturer=company_a, listing__listed_price=Decimal("45.00"))
    b = FlagFactory(round=one, listing__manufacturer=company_b)
    c = FlagFactory(round=two, listing__manufacturer=company_a)
    adjust_limit(a.pk, user=regulator, expected_version=0, new_limit="15.00", reason="成本核定")
    dismiss_flag(b.pk, user=regulator, expected_version=0, reason="规格不可比")
    confirm_flag(c.pk, user=regulator, expected_version=0)
    return {"one": one, "two": two, "a": a, "b": b, "c": c}


def test_timeline_in_chinese_in_time_order_and_filtered(client, regulator, history, company_a):
    client.force_login(regulator)
    url = reverse("pricing:audit")
    html = client.get(url).content.decode()
    assert 'id="audit-total">3<' in html
    html = html[html.index('id="audit-table"') :]
    assert html.index("调整限价") < html.index("不予纠偏") < html.index("确认纠偏</td>")  # oldest first
    assert "状态：待审核 → 确认纠偏" in html and "限价：" in html and "15.00" in html and "监管人员" in html
    assert "flag.adjust" not in html and "pending" not in html
    assert 'id="audit-total">2<' in client.get(url, {"round": history["one"].pk}).content.decode()
    assert 'id="audit-total">2<' in client.get(url, {"company": company_a.pk}).content.decode()
    by_listing = client.get(url, {"listing": history["b"].listing.listing_code}).content.decode()
    assert 'id="audit-total">1<' in by_listing and "规格不可比" in by_listing
    assert 'id="audit-total">0<' in client.get(url, {"user": "nobody"}).content.decode()


def test_timeline_csv_export_is_filtered_and_audited(client, regulator, history):
    client.force_login(regulator)
    response = client.get(reverse("pricing:audit_csv"), {"round": history["two"].pk})
    text = response.content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("时间,操作人,角色,操作,对象")
    assert len(lines) == 2 and "确认纠偏" in lines[1]
    assert AuditEvent.objects.filter(action="audit.export").count() == 1


def test_manufacturers_cannot_read_the_timeline(client, maker_a, history):
    client.force_login(maker_a)
    assert client.get(reverse("pricing:audit")).status_code == 403


def test_django_admin_cannot_add_change_or_delete_audit_rows(client, admin_user, history):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    event = AuditEvent.objects.first()
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    changelist = client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    assert "auditevent/add/" not in changelist
    response = client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"reason": "改写"})
    assert response.status_code == 403
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.reason != "改写" and AuditEvent.objects.filter(pk=event.pk).exists()
