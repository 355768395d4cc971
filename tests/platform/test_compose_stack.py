"""The compose stack comes up: docker-compose.yml's own commands and health checks, run natively.

`migrate` runs once; web (gunicorn, production settings), worker and beat start after it and their
health checks pass; nginx (deploy/nginx.conf, Debian's nginx) terminates TLS in front of web. A
dedicated database <DATABASE_URL name>_compose is created and dropped; the broker is CELERY_BROKER_URL.
"""

import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import redis_url, requires_postgres, requires_redis
from tests.platform.compose_native import (
    PUBLIC_HOST,
    ROOT,
    NativeStack,
    database_url_beside,
    drop_database,
    recreate_database,
)

pytestmark = [requires_postgres, requires_redis, pytest.mark.slow]

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


@pytest.fixture(scope="module")
def stack() -> Iterator[NativeStack]:
    run_dir = Path(tempfile.mkdtemp(prefix="jiupian-compose-"))
    run_dir.chmod(0o755)  # nginx workers run as nobody and read the certificates below
    database_url = database_url_beside(os.environ["DATABASE_URL"], "_compose")
    recreate_database(database_url)
    stack = NativeStack(run_dir=run_dir, database_url=database_url, broker_url=redis_url() or "")
    try:
        yield stack
    finally:
        stack.stop()
        drop_database(database_url)
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def migrated(stack) -> NativeStack:
    result = stack.run_once("migrate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Applying accounts.0001" in result.stdout
    static = stack.collectstatic()
    assert static.returncode == 0, static.stderr
    return stack


@pytest.fixture(scope="module")
def running(migrated) -> NativeStack:
    for service in ("web", "worker", "beat"):
        migrated.start(service)
    return migrated


def _https(stack: NativeStack, path: str, host: str = PUBLIC_HOST) -> http.client.HTTPResponse:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
    conn = http.client.HTTPSConnection("127.0.0.1", stack.https_port, context=context, timeout=30)
    conn.request("GET", path, headers={"Host": host})
    response = conn.getresponse()
    response.body = response.read()
    conn.close()
    return response


def test_migrate_is_idempotent(migrated):
    again = migrated.run_once("migrate")
    assert again.returncode == 0 and "No migrations to apply" in again.stdout


def test_web_turns_healthy_with_production_settings(running):
    assert running.env("web")["DJANGO_SETTINGS_MODULE"] == "config.production"
    seconds = running.wait_healthy("web")
    assert seconds < 90
    # the same process refuses an unknown Host and redirects plain HTTP for every other page
    conn = http.client.HTTPConnection("127.0.0.1", running.web_port, timeout=10)
    conn.request("GET", "/accounts/login/", headers={"Host": PUBLIC_HOST})
    response = conn.getresponse()
    assert response.status == 301 and response.getheader("Location").startswith("https://")
    conn.close()


def test_worker_answers_its_health_check(running):
    running.wait_healthy("worker")


SEND_IMPORT = """
import django
django.setup()
from django.core.files import File
from catalogue.services import start_catalogue_import
with open("catalogue/samples/catalogue_sample.csv", "rb") as sample:
    print(start_catalogue_import(File(sample, name="catalogue_sample.csv"), province="湖南").pk)
"""
IMPORT_STATUS = """
import sys, django
django.setup()
from catalogue.models import CatalogueVersion
print(CatalogueVersion.objects.get(pk=int(sys.argv[1])).status)
"""


def test_worker_runs_a_catalogue_import_sent_by_the_app(running):
    """Web and worker share the private-data volume and the broker: an upload stored by the app is
    imported by the worker (the task is sent on commit, as the upload page does)."""
    running.wait_healthy("worker")
    env = running.env("web")
    sent = subprocess.run(["python", "-c", SEND_IMPORT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert sent.returncode == 0, sent.stderr[-3000:]
    version_id = sent.stdout.split()[-1]
    deadline, status = time.monotonic() + 90, "pending"
    while time.monotonic() < deadline and status in ("pending", "importing"):
        time.sleep(1)
        check = subprocess.run(["python", "-c", IMPORT_STATUS, version_id], cwd=ROOT, env=env, capture_output=True,
                               text=True, timeout=60)  # fmt: skip
        assert check.returncode == 0, check.stderr[-3000:]
        status = check.stdout.split()[-1]
    assert status == "active", running.log("worker")
    assert "catalogue.tasks.import_catalogue_version" in running.log("worker")


def test_beat_answers_its_health_check(running):
    running.wait_healthy("beat")
    deadline = time.monotonic() + 30
    while not any((running.run_dir / "var").glob("celerybeat-schedule*")) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert any((running.run_dir / "var").glob("celerybeat-schedule*")), running.log("beat")  # on the data volume
    assert "beat: Starting..." in running.log("beat")


@pytest.fixture(scope="module")
def behind_nginx(running) -> NativeStack:
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("nginx missing on CI: .ci/run installs Debian's nginx-light")
        pytest.skip("nginx not installed (apt-get install nginx-light)")
    running.write_certificate()
    config = running.nginx_config()
    checked = subprocess.run([NGINX, "-t", "-c", str(config), "-e", "stderr"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    running.wait_healthy("web")
    running.start("nginx", [NGINX, "-c", str(config), "-e", "stderr"], env={"PATH": os.environ["PATH"]})
    probe = ["python3", "-c", "import sys; sys.exit(0)"]
    if shutil.which("wget"):
        probe = running.healthcheck("nginx")
    running.wait_healthy("nginx", probe, timeout=30)
    return running


def test_nginx_serves_the_app_over_https(behind_nginx):
    health = _https(behind_nginx, "/healthz")
    assert health.status == 200 and json.loads(health.body) == {"status": "ok"}

    login = _https(behind_nginx, "/accounts/login/")
    assert login.status == 200, login.body[:500]
    html = login.body.decode()
    assert "登录" in html
    assert "max-age=31536000" in login.getheader("Strict-Transport-Security")
    assert "__Host-csrftoken=" in login.getheader("Set-Cookie") and "Secure" in login.getheader("Set-Cookie")

    # static files come from the collected, hashed set (the manifest of the image's build step)
    stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', html)
    assert stylesheet, "no hashed stylesheet link on the login page"
    css = _https(behind_nginx, stylesheet.group(1))
    assert css.status == 200 and "text/css" in css.getheader("Content-Type")
    favicon = _https(behind_nginx, "/favicon.ico")
    assert favicon.status == 302
    icon = _https(behind_nginx, favicon.getheader("Location"))
    assert icon.status == 200 and icon.body[:4] == b"\x00\x00\x01\x00"


def test_nginx_redirects_http_and_django_still_checks_the_host(behind_nginx):
    conn = http.client.HTTPConnection("127.0.0.1", behind_nginx.http_port, timeout=10)
    conn.request("GET", "/pricing/", headers={"Host": PUBLIC_HOST})
    response = conn.getresponse()
    assert response.status == 301
    assert response.getheader("Location") == f"https://{PUBLIC_HOST}/pricing/"
    conn.close()
    assert _https(behind_nginx, "/accounts/login/", host="evil.example").status == 400
