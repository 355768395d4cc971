"""Deployment wiring: security headers, health check, audit immutability, docker-compose, broker outage."""

import re
from pathlib import Path

import pytest
import yaml
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from kombu.exceptions import OperationalError

from audit.models import AuditEvent
from audit.services import record

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.django_db
def test_pages_carry_security_headers(client):
    response = client.get(reverse("login"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp


@pytest.mark.django_db
def test_health_check_reports_database(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_audit_events_cannot_be_changed_or_deleted(regulator):
    event = record(actor=regulator, action="test.action", object_type="x", object_id=1, reason="why")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.reason == "why"
    assert event.actor_name == "regulator" and event.role == "regulator"


def test_docker_compose_defines_the_deployment():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    assert "gunicorn config.wsgi:application" in services["web"]["command"]
    assert services["worker"]["command"].startswith("celery -A config worker")
    assert services["beat"]["command"].startswith("celery -A config beat")
    for name in ("web", "worker", "beat", "postgres", "redis"):
        assert "healthcheck" in services[name], name
    assert services["web"]["environment"]["DJANGO_SETTINGS_MODULE"] == "config.production"
    assert (ROOT / "Dockerfile").exists()
    assert "client_max_body_size" in (ROOT / "deploy" / "nginx.conf").read_text()


def test_no_template_links_a_cdn():
    for template in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in template.parts:
            continue
        text = template.read_text(encoding="utf-8")
        assert "cdn." not in text and "unpkg.com" not in text and "//fonts.googleapis" not in text, template


@pytest.mark.django_db
def test_broker_outage_answers_503_not_500(rf):
    from config.middleware import BrokerUnavailableMiddleware

    middleware = BrokerUnavailableMiddleware(lambda request: None)
    response = middleware.process_exception(rf.get("/"), OperationalError("redis down"))
    assert response.status_code == 503
    assert "稍后" in response.content.decode()


@pytest.mark.django_db
def test_favicon_is_linked_and_served(client):
    page = client.get(reverse("login")).content.decode()
    icon = re.search(r'<link rel="icon" href="([^"]+)"', page)
    assert icon and icon.group(1).endswith("favicon.ico")
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == icon.group(1)
    from django.contrib.staticfiles import finders

    data = Path(finders.find("favicon.ico")).read_bytes()
    assert data[:4] == b"\x00\x00\x01\x00"  # an ICO header, one 32×32 image


@pytest.mark.django_db
def test_health_check_is_exempt_from_host_and_https_checks(client, settings):
    """A container probe calls http://127.0.0.1:8000/healthz: no public Host, no X-Forwarded-Proto."""
    settings.ALLOWED_HOSTS = ["jiupian.example.gov.cn"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    health = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    # every other page still refuses the unknown host and redirects plain HTTP
    assert client.get("/accounts/login/", HTTP_HOST="127.0.0.1:8000").status_code == 400
    assert client.get("/accounts/login/", HTTP_HOST="jiupian.example.gov.cn").status_code == 301


def test_production_keeps_database_connections_between_requests(monkeypatch):
    """A new PostgreSQL backend per request (Django's default CONN_MAX_AGE=0) costs more than most pages'
    queries; production keeps connections for a minute and checks them before reuse."""
    import runpy

    monkeypatch.setenv("DJANGO_SECRET_KEY", "x" * 50)
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "testserver")
    monkeypatch.delenv("DB_CONN_MAX_AGE", raising=False)
    production = runpy.run_path(str(ROOT / "config" / "production.py"), run_name="config.production_")
    assert production["DATABASES"]["default"]["CONN_MAX_AGE"] == 60
    assert production["DATABASES"]["default"]["CONN_HEALTH_CHECKS"] is True
