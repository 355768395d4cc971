"""API contract (SECURITY.md #24): schemathesis against the served OpenAPI schema, per role.

The schema is loaded in-process from `/api/schema/` (drf-spectacular) and every operation is called
through the WSGI application with generated data, as anonymous, regulator, admin and manufacturer A,
with a small published round (flags, a submitted and a draft appeal, an export job) in the database.
Path parameters are drawn twice per operation: bound to the real objects (so the 2xx/409 paths are
reached) and free (mostly 404). Unsafe methods carry a valid CSRF token, as the browser's would.

Checks: no 5xx, every status code is documented, JSON bodies and content types match the schema.
Bounded for CI: a few derandomized examples per operation (the whole file runs in well under 60 s).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.conf import settings as dj_settings
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application

pytestmark = pytest.mark.django_db(transaction=False)

ROLES = ("anonymous", "regulator", "admin", "maker_a")
EXAMPLES = 6
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def contract_world(db, settings, regulator, admin_user, maker_a, company_a) -> dict[str, Any]:
    from appeals.models import Appeal, AppealFlag
    from pricing.models import ExportJob, RoundStatus
    from tests.factories import FlagFactory

    flag = FlagFactory(listing__manufacturer=company_a, status="confirmed")
    rnd = flag.round
    other = FlagFactory(round=rnd, listing__manufacturer=company_a, status="confirmed")
    rnd.status = RoundStatus.PUBLISHED
    rnd.published_at = timezone.now()
    rnd.appeal_deadline = timezone.now() + timezone.timedelta(days=10)
    rnd.save()
    submitted = Appeal.objects.create(
        round=rnd, company=company_a, grounds="cost", statement="成本上涨", created_by=maker_a, status="submitted"
    )
    AppealFlag.objects.create(appeal=submitted, flag=flag)
    draft = Appeal.objects.create(
        round=rnd, company=company_a, grounds="cost", statement="原料涨价", created_by=maker_a
    )
    AppealFlag.objects.create(appeal=draft, flag=other)
    job = ExportJob.objects.create(round=rnd, format="csv", requested_by=regulator)
    return {
        "users": {"regulator": regulator, "admin": admin_user, "maker_a": maker_a},
        "round": rnd.pk,
        "flag": flag.pk,
        "appeal": draft.pk,
        "export_job": job.pk,
        "catalogue_version": rnd.catalogue_version_id,
    }


@pytest.fixture
def keep_test_connection():
    """Calls go through the real WSGI handler, whose request_started/finished signals close the DB
    connection (and with it the test's transaction on PostgreSQL); Django's test Client detaches
    the same receiver for the same reason."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _real_path_parameters(path: str, names: list[str], objects: dict[str, Any]) -> dict[str, Any]:
    """The real object behind each path parameter of `path`."""
    out: dict[str, Any] = {}
    for name in names:
        if name == "round_id":
            out[name] = objects["round"]
        elif name == "job_id":
            out[name] = objects["export_job"]
        elif name == "id":
            if path.startswith("/api/catalogue/"):
                out[name] = objects["catalogue_version"]
            elif "/rounds/" in path:
                out[name] = objects["round"]
            elif "/flags/" in path:
                out[name] = objects["flag"]
            elif "/appeals/appeals/" in path:
                out[name] = objects["appeal"]
    return out


def _login_cookies(role: str, objects: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    csrf = _get_new_csrf_string()
    cookies = {dj_settings.CSRF_COOKIE_NAME: csrf}
    if role != "anonymous":
        client = Client()
        client.force_login(objects["users"][role])
        cookies[dj_settings.SESSION_COOKIE_NAME] = client.cookies[dj_settings.SESSION_COOKIE_NAME].value
    return cookies, {"X-CSRFToken": csrf}


def _short(failure: Failure, case) -> str:
    query = f" query={case.query}" if case.query else ""
    body = f" body={str(case.body)[:200]}" if case.body is not None else ""
    return f"{str(failure.message)[:400]}{query}{body}"


def _run_operation(operation, path_parameters, cookies, headers, failures: list[str], statuses: dict) -> int:
    calls = 0
    seen: set[str] = set()
    label = f"{operation.method.upper()} {operation.path}"

    @hsettings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(path_parameters=path_parameters or None))
    def run(case) -> None:
        nonlocal calls
        calls += 1
        response = case.call(cookies=cookies, headers=headers)
        statuses.setdefault(label, set()).add(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Failure, FailureGroup) as exc:  # collected and reported together below
            for failure in exc.exceptions if isinstance(exc, FailureGroup) else [exc]:
                key = f"{operation.method.upper()} {operation.path}: {failure.title}"
                if key not in seen:
                    seen.add(key)
                    failures.append(f"{key} [{response.status_code}] {_short(failure, case)}")

    run()
    return calls


def _served_schema():
    """The schema /api/schema/ serves (to staff only since issue 11), generated in-process: a Django test
    Client request here would reconnect the connection-closing signal that keep_test_connection removed."""
    import json

    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    raw = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(raw, renderer_context={})))
    schema.app = application  # calls go through the WSGI application, as from_wsgi would
    schema.location = "/api/schema/"
    return schema


@pytest.mark.parametrize("role", ROLES)
def test_api_contract(role: str, contract_world: dict[str, Any], keep_test_connection: None) -> None:
    schema = _served_schema()
    cookies, headers = _login_cookies(role, contract_world)
    failures: list[str] = []
    statuses: dict[str, set[int]] = {}
    calls = 0
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        names = [p.name for p in operation.path_parameters]
        real = _real_path_parameters(operation.path, names, contract_world)
        calls += _run_operation(operation, real, cookies, headers, failures, statuses)
        if names:
            calls += _run_operation(operation, None, cookies, headers, failures, statuses)
    assert operations >= 20
    assert calls >= operations * 2
    assert not failures, f"{len(failures)} contract failures as {role}:\n" + "\n\n".join(failures)
    # The run reached past the door: real objects were served, and writes got past CSRF.
    ok = sorted(op for op, codes in statuses.items() if any(200 <= c < 300 for c in codes))
    unsafe_past_csrf = [op for op, codes in statuses.items() if not op.startswith("GET ") and codes - {403}]
    if role == "anonymous":
        assert not ok, f"anonymous got 2xx from {ok}"
    else:
        assert "GET /api/appeals/flags/{id}/" in ok and "GET /api/appeals/appeals/{id}/" in ok, ok
        assert unsafe_past_csrf, statuses
    if role in ("regulator", "admin"):
        assert {"GET /api/pricing/review/flags/{id}/", "GET /api/catalogue/versions/{id}/"} <= set(ok), ok


def test_out_of_range_ids_are_refused_not_crashing(regulator, maker_a) -> None:
    """Found by the contract run: an id beyond BIGINT in a JSON body was a 500 (SQLite OverflowError)."""
    client = Client()
    client.force_login(regulator)
    response = client.post(
        "/api/pricing/review/flags/bulk-decide/",
        {"action": "confirm", "flag_ids": [2**70], "reason": "", "expected_versions": {str(2**70): 0}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "flag_ids" in response.json()
    maker = Client()
    maker.force_login(maker_a)
    response = maker.post(
        "/api/appeals/appeals/",
        {"round": 2**70, "flags": [2**70], "grounds": "cost", "statement": "x"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert {"round", "flags"} <= set(response.json())
