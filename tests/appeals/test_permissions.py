"""Permission matrix: every appeals URL (pages and API, read from the URL resolver) × method ×
role (anonymous, manufacturer A, manufacturer B = owner, regulator, admin), with objects of
company B. A must get 404 on B's objects and never see B's rows; B's data must not change.
A URL that is not in ACCESS fails the test, so a new endpoint has to be classified here."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from appeals import services
from appeals.models import Appeal, Evidence
from pricing.models import Flag
from tests.appeals import files

pytestmark = pytest.mark.django_db

# name -> (who may use it, object kind, methods)
#   manufacturer: manufacturer role, tenant-filtered (other company → 404); staff → 403
#   staff / admin: role-gated (others → 403)
#   tenant: any authenticated role, tenant-filtered (manufacturer of another company → 404)
#   tenant_maker: manufacturer role required and tenant-filtered
ACCESS = {
    "appeals:home": ("manufacturer", None, ["GET"]),
    "appeals:flag_detail": ("manufacturer", "flag", ["GET"]),
    "appeals:appeal_new": ("manufacturer", "flag_query", ["GET", "POST"]),
    "appeals:appeal_detail": ("manufacturer", "appeal", ["GET"]),
    "appeals:appeal_edit": ("manufacturer", "appeal", ["POST"]),
    "appeals:evidence_upload": ("manufacturer", "appeal", ["POST"]),
    "appeals:evidence_delete": ("manufacturer", "appeal_evidence", ["POST"]),
    "appeals:appeal_submit": ("manufacturer", "appeal", ["POST"]),
    "appeals:appeal_withdraw": ("manufacturer", "appeal", ["POST"]),
    "appeals:evidence_download": ("tenant", "evidence", ["GET"]),
    # the company's own list of a round both companies are in: tenant-filtered rows (see below)
    "appeals:my_export": ("manufacturer", "shared_round", ["GET"]),
    "appeals:queue": ("staff", None, ["GET"]),
    "appeals:review": ("staff", "appeal", ["GET"]),
    "appeals:decide": ("staff", "appeal", ["POST"]),
    "appeals:round_status": ("staff", "round", ["GET"]),
    "appeals:round_close": ("admin", "round", ["POST"]),
    "appeals:round_publish_final": ("admin", "round", ["POST"]),
    "appeals:final_export": ("admin", "round_fmt", ["GET"]),
    "appeals:final_print": ("admin", "round", ["GET"]),
    "appeals_api:flag-list": ("list", None, ["GET"]),
    "appeals_api:flag-detail": ("tenant", "flag", ["GET"]),
    "appeals_api:appeal-list": ("list", None, ["GET"]),
    "appeals_api:appeal-detail": ("tenant", "appeal", ["GET", "PATCH"]),
    "appeals_api:appeal-submit": ("tenant_maker", "appeal", ["POST"]),
    "appeals_api:appeal-withdraw": ("tenant_maker", "appeal", ["POST"]),
    "appeals_api:appeal-evidence": ("tenant_maker", "appeal", ["POST"]),
    "appeals_api:appeal-decide": ("staff", "appeal", ["POST"]),
}


def resolver_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and p.name and namespace in ("appeals", "appeals_api"):
                names.add(f"{namespace}:{p.name}")

    walk(get_resolver().url_patterns, None)
    return names


def test_every_appeals_url_is_classified():
    assert resolver_names() == set(ACCESS)


@pytest.fixture
def world(maker_a, maker_b, regulator, admin_user, flag_a, flag_b, published_round):
    a = services.create_draft(
        user=maker_a, round_id=flag_a.round_id, flag_ids=[flag_a.pk], grounds="cost", statement="A"
    )
    b = services.create_draft(
        user=maker_b, round_id=flag_b.round_id, flag_ids=[flag_b.pk], grounds="cost", statement="B"
    )
    ev = services.add_evidence(b.pk, user=maker_b, uploaded_file=SimpleUploadedFile("b.pdf", files.pdf_bytes()))
    return {"appeal_a": a, "appeal": b, "evidence": ev, "flag": flag_b, "round": published_round}


def url_for(name, kind, world):
    if kind is None:
        return reverse(name)
    if kind == "flag_query":
        return reverse(name) + f"?flag={world['flag'].pk}"
    if kind == "round_fmt":
        return reverse(name, args=[world["round"].pk, "xlsx"])
    if kind == "appeal_evidence":
        return reverse(name, args=[world["appeal"].pk, world["evidence"].pk])
    if kind == "shared_round":
        return reverse(name, args=[world["round"].pk])
    return reverse(name, args=[world[kind].pk])


def state(world):
    b = Appeal.objects.get(pk=world["appeal"].pk)
    f = Flag.objects.get(pk=world["flag"].pk)
    return (
        b.status, b.statement, b.lock_version, b.company_id, b.round_id, f.status, f.adjusted_limit_price,
        Evidence.objects.filter(appeal=b).count(), Appeal.objects.filter(company_id=b.company_id).count(),
        type(world["round"]).objects.get(pk=world["round"].pk).status,
    )  # fmt: skip


POST_BODY = {
    "version": 1, "lock_version": 1, "grounds": "other", "statement": "hijack", "outcome": "accepted",
    "reason": "x", "round": 0, "flags": [], "company": 0, "status": "accepted",
}  # fmt: skip


def call(client, method, url):
    if method == "GET":
        return client.get(url)
    if method == "PATCH":
        return client.patch(url, POST_BODY, content_type="application/json")
    return client.post(url, POST_BODY)


def is_login_redirect(response):
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", sorted(ACCESS))
def test_matrix(client, world, maker_a, maker_b, regulator, admin_user, name):
    access, kind, methods = ACCESS[name]
    url = url_for(name, kind, world)
    api = name.startswith("appeals_api:")
    before = state(world)
    for method in methods:
        # anonymous: login redirect (pages) or 403 (API)
        client.logout()
        response = call(client, method, url)
        assert (response.status_code == 403) if api else is_login_redirect(response), (method, "anonymous")
        # manufacturer A against company B's objects
        client.force_login(maker_a)
        response = call(client, method, url)
        if access in ("staff", "admin"):
            assert response.status_code == 403, (method, "maker_a")
        elif kind == "shared_round":
            assert response.status_code == 200, (method, "maker_a")  # A's own rows only: next test
        elif kind is not None:
            assert response.status_code == 404, (method, "maker_a")
        else:
            assert response.status_code in (200, 302), (method, "maker_a")
        # regulator: no access to manufacturer-only pages or admin actions
        if access in ("manufacturer", "tenant_maker", "admin"):
            client.force_login(regulator)
            assert call(client, method, url).status_code == 403, (method, "regulator")
    assert state(world) == before, "company B's data changed"
    # positive control: the owner and staff can read what they should
    if "GET" in methods and kind not in ("flag_query", "round_fmt", "shared_round"):
        who = {
            "manufacturer": maker_b,
            "tenant": maker_b,
            "list": maker_b,
            "staff": regulator,
        }  # admin: see test_publication
        if access in who:
            client.force_login(who[access])
            response = call(client, "GET", url)
            if name == "appeals:flag_detail":  # B's flag has B's draft appeal: opening it leads there
                assert response.status_code == 302
                assert response["Location"] == reverse("appeals:appeal_detail", args=[world["appeal"].pk])
            else:
                assert response.status_code == 200


def test_lists_never_contain_other_company_rows(client, world, maker_a):
    client.force_login(maker_a)
    flags = client.get(reverse("appeals_api:flag-list")).json()["results"]
    appeals = client.get(reverse("appeals_api:appeal-list")).json()["results"]
    assert [f["id"] for f in flags] == [world["appeal_a"].flags.get().pk]
    assert [a["id"] for a in appeals] == [world["appeal_a"].pk]
    # filtering by B's company or round does not widen the tenant filter
    assert (
        client.get(reverse("appeals_api:appeal-list"), {"company": world["appeal"].company_id}).json()["results"] == []
    )
    home = client.get(reverse("appeals:home")).content.decode()
    assert world["flag"].listing.listing_code not in home and world["flag"].manufacturer.name not in home


def test_company_excel_export_holds_only_the_own_company_rows(client, world, maker_a):
    import io

    import openpyxl

    client.force_login(maker_a)
    response = client.get(reverse("appeals:my_export", args=[world["round"].pk]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    codes = [r[3] for r in rows[1:]]
    assert codes == [world["appeal_a"].flags.get().listing.listing_code]
    assert rows[0][-2:] == ("执行限价", "执行价差倍数") and rows[1][-2] is not None
