"""Engine pages and API: permissions, round creation, comparison, what-if, rule-set admin."""

import json
from decimal import Decimal

from django.urls import reverse

from pricing.engine.ruleset import default_rule_set
from pricing.models import CorrectionRound, RuleSet
from tests.factories import CatalogueVersionFactory, ListingFactory, UserFactory


def _version():
    version = CatalogueVersionFactory()
    ListingFactory(version=version, listing_code="B", listed_price=Decimal("10.00"), quality_tier="过评")
    ListingFactory(version=version, listing_code="A", listed_price=Decimal("12.00"), quality_tier="未过评")
    return version


def test_round_create_page_creates_and_detects(client, regulator, django_capture_on_commit_callbacks):
    version = _version()
    client.force_login(regulator)
    assert client.get(reverse("pricing:round_create")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("pricing:round_create"), {"catalogue_version": version.pk, "title": "第一批"})
    rnd = CorrectionRound.objects.get(title="第一批")
    assert response.status_code == 302 and response["Location"] == reverse("pricing:round_overview", args=[rnd.pk])
    rnd.refresh_from_db()
    assert rnd.flag_count == 1
    progress = client.get(reverse("pricing:round_progress", args=[rnd.pk]))
    assert "已完成" in progress.content.decode()
    compare = client.get(reverse("pricing:round_comparison", args=[rnd.pk]))
    assert compare.status_code == 200 and "没有可比较的上一批次" in compare.content.decode()


def test_manufacturer_gets_403_everywhere(client, maker_a):
    client.force_login(maker_a)
    for url in [reverse("pricing:round_create"), reverse("pricing:whatif")]:
        assert client.get(url).status_code == 403
    assert client.get("/api/pricing/engine/rule-sets/").status_code == 403
    assert client.post("/api/pricing/engine/rounds/", {}).status_code == 403


def test_whatif_page_is_admin_only_and_shows_counts(client, regulator):
    version = _version()
    admin = UserFactory(username="boss", role="admin")
    client.force_login(regulator)
    assert client.get(reverse("pricing:whatif")).status_code == 403
    client.force_login(admin)
    query = {
        "catalogue_version": version.pk,
        "tolerance_abs": "2.5",
        "tolerance_rel": "0",
        "k_content": "1.7",
        "k_volume": "1.9",
        "k_pack": "2",
        "rules_enabled": ["TIER_UNEVALUATED"],
    }
    response = client.get(reverse("pricing:whatif"), query)
    assert response.status_code == 200
    rows = {r["code"]: r for r in response.context["rows"]}
    assert rows["TIER_UNEVALUATED"]["base"] == 1 and rows["TIER_UNEVALUATED"]["changed"] == 0
    assert CorrectionRound.objects.count() == 0


def test_api_create_round_progress_and_schema(client, regulator, django_capture_on_commit_callbacks):
    version = _version()
    client.force_login(regulator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/pricing/engine/rounds/", {"catalogue_version": version.pk, "title": "API批次"}, "application/json"
        )
    assert response.status_code == 201
    rid = response.json()["id"]
    progress = client.get(f"/api/pricing/engine/rounds/{rid}/progress/").json()
    assert progress["detection_status"] == "done" and progress["flag_count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        job = client.post(
            f"/api/pricing/engine/rounds/{rid}/exports/", {"format": "csv", "status": "all"}, "application/json"
        )
    assert job.status_code == 202
    status = client.get(f"/api/pricing/engine/exports/{job.json()['id']}/").json()
    assert status["state"] == "done" and status["row_count"] == 1
    download = client.get(f"/api/pricing/engine/exports/{job.json()['id']}/download/")
    assert download["Content-Disposition"].startswith("attachment")
    assert [r["version"] for r in client.get("/api/pricing/engine/rule-sets/").json()] == [1]
    schema = client.get("/api/schema/").content.decode()
    assert "/api/pricing/engine/rounds/" in schema and "/api/pricing/engine/whatif/" in schema


def test_admin_save_creates_new_rule_set_version(client, admin_user):
    client.force_login(admin_user)
    v1 = default_rule_set()
    params = dict(v1.params, tolerance_abs="0.10")
    response = client.post(
        reverse("admin:pricing_ruleset_change", args=[v1.pk]),
        {"name": "容差0.10", "params": json.dumps(params, ensure_ascii=False), "note": "试行"},
    )
    assert response.status_code == 302
    v1.refresh_from_db()
    assert v1.params["tolerance_abs"] == "0.00"
    v2 = RuleSet.objects.get(version=2)
    assert v2.params["tolerance_abs"] == "0.10" and v2.name == "容差0.10"
