"""API contract against a LIVE server (SECURITY.md #24, issue 11 item 4).

The in-process run (test_api_contract.py) calls the WSGI app under the test settings. This one starts
gunicorn with config.production (HTTPS-only cookies, HSTS, CSP, DEBUG off) on the test database, as
nginx would see it: X-Forwarded-Proto https, the `__Host-` cookies, an Origin header for CSRF. Then
schemathesis runs every operation of the served schema per role over real HTTP. Needs PostgreSQL
(gunicorn is another process, so the data must be committed); bounded: a few examples per operation.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from django.conf import settings as dj_settings
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from schemathesis.core.failures import Failure, FailureGroup

from tests.conftest import requires_postgres
from tests.platform.test_api_contract import (
    CHECKS,
    _real_path_parameters,
    _short,
    contract_world,  # noqa: F401  (fixture)
)

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PORT = int(os.environ.get("LIVE_CONTRACT_PORT", "8611"))
BASE = f"http://127.0.0.1:{PORT}"
EXAMPLES = 3
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.10", "Origin": f"https://127.0.0.1:{PORT}",
                 "Referer": f"https://127.0.0.1:{PORT}/"}  # fmt: skip


def _wait_for(port: int, proc: subprocess.Popen, seconds: float = 30) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


@pytest.fixture(scope="module")
def live_production_server(django_db_setup, tmp_path_factory):
    """One gunicorn for the module; every test commits its own data (transaction=True) before calling it."""
    from django.db import connection

    tmp_path = tmp_path_factory.mktemp("live")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.production",
        "DJANGO_SECRET_KEY": dj_settings.SECRET_KEY,  # the sessions made here must verify there
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": "",  # tasks in-process: the contract is about the web tier
        "VAR_DIR": str(tmp_path / "var"),
        "PRIVATE_ROOT": str(tmp_path / "private"),
        "TRUSTED_PROXY_COUNT": "1",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log = (tmp_path / "gunicorn.log").open("wb")
    proc = subprocess.Popen(
        [str(gunicorn), "config.wsgi:application", "-b", f"127.0.0.1:{PORT}", "-w", "2", "--timeout", "60"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_for(PORT, proc)
        yield BASE
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
        errors = (tmp_path / "gunicorn.log").read_text(errors="replace")
        assert "Traceback" not in errors, errors[-4000:]


def _cookies(role: str, world: dict[str, Any]) -> dict[str, str]:
    csrf = _get_new_csrf_string()
    cookies = {"__Host-csrftoken": csrf}
    if role != "anonymous":
        client = Client()
        client.force_login(world["users"][role])
        cookies["__Host-sessionid"] = client.cookies[dj_settings.SESSION_COOKIE_NAME].value
    return cookies


def _run_live(operation, real, base: str, cookies, headers, failures: list[str], statuses: dict) -> None:
    label = f"{operation.method.upper()} {operation.path}"

    @hsettings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
               phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=operation.as_strategy(path_parameters=real or None))
    def run(case) -> None:
        response = case.call(base_url=base, cookies=cookies, headers=headers, timeout=60)
        statuses.setdefault(label, set()).add(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Failure, FailureGroup) as exc:
            for failure in exc.exceptions if isinstance(exc, FailureGroup) else [exc]:
                failures.append(f"{label}: {failure.title} [{response.status_code}] {_short(failure, case)}")

    run()


@pytest.mark.parametrize("role", ["anonymous", "regulator", "admin", "maker_a"])
def test_live_api_contract(role: str, contract_world: dict[str, Any], live_production_server: str) -> None:  # noqa: F811
    admin_cookies = _cookies("admin", contract_world)
    schema = schemathesis.openapi.from_url(
        f"{live_production_server}/api/schema/?format=json", headers=PROXY_HEADERS, cookies=admin_cookies, timeout=30
    )
    cookies = _cookies(role, contract_world)
    headers = {**PROXY_HEADERS, "X-CSRFToken": cookies["__Host-csrftoken"]}
    failures: list[str] = []
    statuses: dict[str, set[int]] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        names = [p.name for p in operation.path_parameters]
        real = _real_path_parameters(operation.path, names, contract_world)
        _run_live(operation, real, live_production_server, cookies, headers, failures, statuses)
    assert operations >= 20
    assert not failures, f"{len(failures)} live contract failures as {role}:\n" + "\n\n".join(failures[:30])
    ok = {op for op, codes in statuses.items() if any(200 <= c < 300 for c in codes)}
    if role == "anonymous":
        assert not ok, f"anonymous got 2xx from {sorted(ok)}"
    else:
        assert "GET /api/appeals/flags/{id}/" in ok, statuses


def test_live_server_sends_the_production_headers(live_production_server: str) -> None:
    # a request through the proxy (/healthz answers before the security middleware: it is the probe's, not a
    # user's); an API answer, since this server has no collected static files for the HTML pages
    response = requests.get(f"{live_production_server}/api/appeals/flags/", headers=PROXY_HEADERS, timeout=30)
    assert response.status_code in (401, 403)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    plain = requests.get(f"{live_production_server}/api/appeals/flags/", allow_redirects=False, timeout=30)
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
