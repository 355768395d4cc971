"""Review API: staff only, same filters as the page, decide with 409 on conflict, mass assignment
ignored, publish admin only, documented in the OpenAPI schema."""

import datetime as dt

import time_machine
from rest_framework.test import APIClient

from pricing.models import Flag, FlagDecision, RoundStatus

BASE = "/api/pricing/review"


def _client(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_manufacturers_and_anonymous_are_refused(maker_a, flag_a):
    for client in (_client(), _client(maker_a)):
        assert client.get(f"{BASE}/rounds/").status_code in (401, 403)
        assert client.get(f"{BASE}/flags/{flag_a.pk}/").status_code in (401, 403)
        response = client.post(f"{BASE}/flags/{flag_a.pk}/decide/", {"action": "confirm", "expected_version": 0})
        assert response.status_code in (401, 403)
    assert not FlagDecision.objects.exists()


def test_flag_list_filters_and_detail_explains(regulator, flag_a, flag_b):
    client = _client(regulator)
    assert client.get(f"{BASE}/flags/").status_code == 400  # round is required
    data = client.get(f"{BASE}/flags/", {"round": flag_a.round_id, "severity": "红★★★"}).json()
    assert data["count"] == 1 and data["results"][0]["listing_code"] == flag_a.listing.listing_code
    data = client.get(f"{BASE}/flags/", {"round": flag_a.round_id, "q": "头孢"}).json()
    assert [r["id"] for r in data["results"]] == [flag_b.pk]
    detail = client.get(f"{BASE}/flags/{flag_a.pk}/").json()
    assert detail["effective_limit_price"] == "30.96"
    assert any("纠偏限价" in step["label"] for step in detail["explanation"])
    rnd = client.get(f"{BASE}/rounds/{flag_a.round_id}/").json()
    assert rnd["counts"]["total"] == 2 and rnd["counts"]["by_severity"]["红★★★"] == 1


def test_decide_conflict_409_and_mass_assignment_ignored(regulator, admin_user, flag_a, company_b, draft_round):
    other_round_id = draft_round.pk + 1000
    body = {
        "action": "confirm",
        "expected_version": 0,
        "status": "dismissed",
        "manufacturer": company_b.pk,
        "round": other_round_id,
        "lock_version": 99,
    }
    response = _client(regulator).post(f"{BASE}/flags/{flag_a.pk}/decide/", body, format="json")
    assert response.status_code == 200
    flag = Flag.objects.get(pk=flag_a.pk)
    assert (flag.status, flag.manufacturer_id, flag.round_id, flag.lock_version) == (
        "confirmed",
        flag_a.manufacturer_id,
        flag_a.round_id,
        1,
    )
    second = _client(admin_user).post(
        f"{BASE}/flags/{flag_a.pk}/decide/",
        {"action": "dismiss", "expected_version": 0, "reason": "不同意"},
        format="json",
    )
    assert second.status_code == 409
    assert second.json()["current"]["status"] == "confirmed"
    assert second.json()["current"]["decided_by"] == "regulator"
    assert FlagDecision.objects.filter(flag=flag_a).count() == 1
    # no write methods besides the documented actions
    assert (
        _client(regulator).patch(f"{BASE}/flags/{flag_a.pk}/", {"status": "pending"}, format="json").status_code == 405
    )
    missing = _client(regulator).post(
        f"{BASE}/flags/{flag_a.pk}/decide/", {"action": "adjust", "expected_version": 1, "reason": "x"}, format="json"
    )
    assert missing.status_code == 400


def test_bulk_decide(regulator, flag_a, flag_b):
    versions = {str(flag_a.pk): flag_a.lock_version, str(flag_b.pk): flag_b.lock_version}
    unversioned = _client(regulator).post(
        f"{BASE}/flags/bulk-decide/", {"action": "confirm", "flag_ids": [flag_a.pk, flag_b.pk]}, format="json"
    )
    assert unversioned.status_code == 400 and "expected_versions" in unversioned.json()  # issue 11
    partial = _client(regulator).post(
        f"{BASE}/flags/bulk-decide/",
        {"action": "confirm", "flag_ids": [flag_a.pk, flag_b.pk], "expected_versions": {str(flag_b.pk): 0}},
        format="json",
    )
    assert partial.status_code == 400 and str(flag_a.pk) in str(partial.json()["expected_versions"])
    response = _client(regulator).post(
        f"{BASE}/flags/bulk-decide/",
        {"action": "dismiss", "flag_ids": [flag_a.pk, flag_b.pk], "expected_versions": versions},
        format="json",
    )
    assert response.status_code == 400 and "必须填写理由" in response.json()["detail"]
    response = _client(regulator).post(
        f"{BASE}/flags/bulk-decide/",
        {"action": "confirm", "flag_ids": [flag_a.pk, flag_b.pk], "expected_versions": {**versions, str(flag_b.pk): 3}},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["done"] == [flag_a.pk]
    assert str(flag_b.pk) in response.json()["skipped"]


@time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC), tick=False)
def test_publish_admin_only_and_date_deadline(regulator, admin_user, flag_a):
    url = f"{BASE}/rounds/{flag_a.round_id}/publish/"
    assert _client(regulator).post(url, {"deadline": "2026-03-15"}, format="json").status_code == 403
    _client(regulator).post(f"{BASE}/flags/{flag_a.pk}/decide/", {"action": "confirm", "expected_version": 0})
    assert _client(admin_user).post(url, {"deadline": "15/03/2026"}, format="json").status_code == 400
    response = _client(admin_user).post(url, {"deadline": "2026-03-15", "status": "final"}, format="json")
    assert response.status_code == 200
    assert response.json()["appeal_deadline"] == "2026-03-15T23:59:59.999999+08:00"
    flag_a.round.refresh_from_db()
    assert flag_a.round.status == RoundStatus.PUBLISHED
    assert flag_a.round.appeal_deadline == dt.datetime(2026, 3, 15, 15, 59, 59, 999999, tzinfo=dt.UTC)


def test_endpoints_documented_in_openapi(client, regulator):
    assert client.get("/api/schema/", {"format": "json"}).status_code == 403  # issue 11: staff only
    client.force_login(regulator)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert "409" in paths["/api/pricing/review/flags/{id}/decide/"]["post"]["responses"]
    assert "post" in paths["/api/pricing/review/rounds/{id}/publish/"]
    params = {p["name"] for p in paths["/api/pricing/review/flags/"]["get"]["parameters"]}
    assert {"round", "severity", "rule", "q", "sort"} <= params


@time_machine.travel(dt.datetime(2026, 9, 30, 2, 0, tzinfo=dt.UTC), tick=False)  # Wednesday 10:00 in Beijing
def test_publish_with_a_working_day_window_skips_national_day(regulator, admin_user, flag_a):
    """ "3 个工作日" from 30 Sep 2026: 1–7 Oct are holidays, 10 Oct (a Saturday) is a make-up working day."""
    url = f"{BASE}/rounds/{flag_a.round_id}/publish/"
    _client(regulator).post(f"{BASE}/flags/{flag_a.pk}/decide/", {"action": "confirm", "expected_version": 0})
    admin = _client(admin_user)
    both = admin.post(url, {"deadline": "2026-10-20", "deadline_working_days": 3}, format="json")
    neither = admin.post(url, {"notice_text": "x"}, format="json")
    assert both.status_code == neither.status_code == 400 and "二选一" in both.json()["deadline"][0]
    assert admin.post(url, {"deadline_working_days": 0}, format="json").status_code == 400
    response = admin.post(url, {"deadline_working_days": 3}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["appeal_deadline"] == "2026-10-10T23:59:59.999999+08:00"
