"""The appeals API: drafts, evidence, submit, withdraw, decide; 409s, mass assignment, deadline."""

import datetime as dt
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from appeals.models import Appeal, AppealStatus
from audit.models import AuditEvent
from tests.appeals import files
from tests.conftest import requires_postgres

LIST = reverse("appeals_api:appeal-list")


def act(name, pk):
    return reverse(f"appeals_api:appeal-{name}", args=[pk])


def create(client, flags, **extra):
    body = {"round": flags[0].round_id, "flags": [f.pk for f in flags], "grounds": "cost", "statement": "成本", **extra}
    return client.post(LIST, body, content_type="application/json")


@pytest.mark.django_db
def test_manufacturer_journey_over_api(client, maker_a, regulator, flag_a):
    client.force_login(maker_a)
    response = create(client, [flag_a], proposed_price="5.50")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "draft" and data["flags"] == [flag_a.pk] and data["proposed_price"] == "5.50"
    pk = data["id"]
    up = client.post(act("evidence", pk), {"file": SimpleUploadedFile("c.pdf", files.pdf_bytes())})
    assert up.status_code == 201 and up.json()["content_type"] == "application/pdf"
    bad = client.post(act("evidence", pk), {"file": SimpleUploadedFile("c.pdf", files.HTML, "application/pdf")})
    assert bad.status_code == 400 and "HTML" in bad.json()["detail"]
    sub = client.post(act("submit", pk), {"lock_version": data["lock_version"]}, content_type="application/json")
    assert sub.status_code == 200 and sub.json()["status"] == "submitted"
    assert (
        client.post(
            act("decide", pk), {"outcome": "upheld", "lock_version": 2}, content_type="application/json"
        ).status_code
        == 403
    )
    client.force_login(regulator)
    queue = client.get(LIST, {"status": "submitted"}).json()["results"]
    assert [a["id"] for a in queue] == [pk]
    version = sub.json()["lock_version"]
    ok = client.post(
        act("decide", pk),
        {"outcome": "partial", "reason": "部分属实", "new_limit_price": "6.00", "lock_version": version},
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json()["status"] == "partial"
    stale = client.post(
        act("decide", pk),
        {"outcome": "accepted", "reason": "x", "lock_version": version},
        content_type="application/json",
    )
    assert stale.status_code == 409
    assert stale.json()["current"]["status"] == "partial" and stale.json()["current"]["new_limit_price"] == "6.00"
    assert AuditEvent.objects.filter(action__startswith="appeal.decide", object_id=str(pk)).count() == 1
    client.force_login(maker_a)
    mine = client.get(reverse("appeals_api:flag-detail", args=[flag_a.pk])).json()
    assert mine["effective_limit_price"] == "6.00" and mine["explanation"]


@pytest.mark.django_db
def test_mass_assignment_ignored(client, maker_a, company_b, flag_a, deadline):
    from tests.factories import RoundFactory

    other_round = RoundFactory(status="published", appeal_deadline=deadline, evidence_required=False)
    client.force_login(maker_a)
    response = create(client, [flag_a], company=company_b.pk, status="accepted", lock_version=99)
    assert response.status_code == 201
    appeal = Appeal.objects.get()
    assert appeal.company_id == maker_a.company_id and appeal.status == "draft" and appeal.lock_version == 0
    patch = client.patch(
        reverse("appeals_api:appeal-detail", args=[appeal.pk]),
        {"grounds": "other", "statement": "新说明", "lock_version": 0, "company": company_b.pk,
         "status": "accepted", "round": other_round.pk, "decision_reason": "x", "new_limit_price": "1"},
        content_type="application/json",
    )  # fmt: skip
    assert patch.status_code == 200
    appeal.refresh_from_db()
    assert (appeal.company_id, appeal.status, appeal.round_id) == (maker_a.company_id, "draft", flag_a.round_id)
    assert appeal.statement == "新说明" and appeal.decision_reason == "" and appeal.new_limit_price is None


@pytest.mark.django_db
def test_duplicate_appeal_409_and_deadline_400(client, maker_a, flag_a, published_round):
    client.force_login(maker_a)
    assert create(client, [flag_a]).status_code == 201
    dup = create(client, [flag_a])
    assert dup.status_code == 409 and "已有进行中的申诉" in dup.json()["detail"]
    appeal = Appeal.objects.get()
    published_round.appeal_deadline = timezone.now() - dt.timedelta(seconds=1)
    published_round.save()
    late = client.post(act("submit", appeal.pk), {"lock_version": 0}, content_type="application/json")
    assert late.status_code == 400 and "申诉期已于" in late.json()["detail"]
    assert Appeal.objects.get().status == AppealStatus.DRAFT


def _parallel(n, fn):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_parallel_identical_appeals_one_201_one_409(maker_a, flag_a):
    from django.test import Client

    def post(_):
        c = Client()
        c.force_login(maker_a)
        return create(c, [flag_a]).status_code

    assert sorted(_parallel(2, post)) == [201, 409]
    assert Appeal.objects.count() == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_one_200_one_409_single_audit(maker_a, regulator, admin_user, flag_a):
    from django.test import Client

    from appeals import services

    a = services.create_draft(
        user=maker_a, round_id=flag_a.round_id, flag_ids=[flag_a.pk], grounds="cost", statement="s"
    )
    a = services.submit(a.pk, user=maker_a, expected_version=a.lock_version)
    users = [regulator, admin_user]
    bodies = [
        {"outcome": "partial", "reason": "r", "new_limit_price": "3.00", "lock_version": a.lock_version},
        {"outcome": "accepted", "reason": "r", "lock_version": a.lock_version},
    ]

    def post(i):
        c = Client()
        c.force_login(users[i])
        r = c.post(act("decide", a.pk), bodies[i], content_type="application/json")
        return r.status_code, r.json()

    results = _parallel(2, post)
    codes = sorted(code for code, _ in results)
    assert codes == [200, 409]
    loser = next(body for code, body in results if code == 409)
    a.refresh_from_db()
    assert loser["current"]["status"] == a.status and a.status in ("partial", "accepted")
    assert AuditEvent.objects.filter(action__startswith="appeal.decide", object_id=str(a.pk)).count() == 1


FLAGS = reverse("appeals_api:flag-list")


@pytest.mark.django_db
def test_flags_api_gives_each_flag_its_listings_binding_limit(client, maker_a, admin_user, flag_a, flag_b):
    """执行限价 over the API: two confirmed flags on one listing both report the lower limit; once the
    final list is published, the value the final list froze (an adjusted limit included)."""
    from decimal import Decimal

    from appeals.publication import publish_final_list
    from pricing.models import CorrectionRound, Flag
    from tests.factories import FlagFactory

    Flag.objects.filter(pk=flag_a.pk).update(limit_price=Decimal("5.70"))
    second = FlagFactory(
        round=flag_a.round, listing=flag_a.listing, rule_code="SAME_MAKER_SPEC", status="confirmed",
        limit_price=Decimal("2.96"),
    )  # fmt: skip
    client.force_login(maker_a)
    rows = {r["id"]: r for r in client.get(FLAGS).json()["results"]}
    assert set(rows) == {flag_a.pk, second.pk}  # 乙's flag is not 甲's business
    assert {r["binding_limit_price"] for r in rows.values()} == {"2.96"}
    assert (rows[flag_a.pk]["limit_price"], rows[second.pk]["limit_price"]) == ("5.70", "2.96")

    Flag.objects.filter(pk=flag_a.pk).update(adjusted_limit_price=Decimal("4.00"))  # a decided value binds
    assert {r["binding_limit_price"] for r in client.get(FLAGS).json()["results"]} == {"4.00"}

    CorrectionRound.objects.filter(pk=flag_a.round_id).update(status="closed")
    publish_final_list(flag_a.round_id, user=admin_user)
    Flag.objects.filter(pk=flag_a.pk).update(adjusted_limit_price=Decimal("3.00"))  # after publication: frozen
    final_rows = client.get(FLAGS).json()["results"]
    assert {r["binding_limit_price"] for r in final_rows} == {"4.00"}
