"""Login, passwords, lockout and session lifetime (SECURITY.md 3–6)."""

import datetime as dt
import runpy
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

PRODUCTION_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


def _login(client: Client, username: str, password: str, **extra: str):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


@pytest.mark.django_db
def test_passwords_are_stored_with_argon2(settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    user = UserFactory(username="hash-check")
    user.set_password("a-long-enough-passphrase-2026")
    user.save()
    user.refresh_from_db()
    assert user.password.startswith("argon2")


@pytest.mark.parametrize("password", ["short-pw-1", "password123456", "12345678901234"])
def test_weak_passwords_are_rejected(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_long_uncommon_password_is_accepted():
    validate_password("药价纠偏-review-2026-steady")


@pytest.mark.django_db
def test_login_rotates_the_session_key(client, regulator):
    client.get(reverse("login"))
    client.cookies["sessionid"] = "anonymous-session-key"
    response = _login(client, "regulator", PASSWORD)
    assert response.status_code == 302
    assert client.cookies["sessionid"].value != "anonymous-session-key"


@pytest.mark.django_db
def test_session_expires_after_30_minutes_idle(client, regulator):
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC), tick=False) as traveller:
        _login(client, "regulator", PASSWORD)
        assert client.get(reverse("home")).status_code in (200, 302)
        assert "login" not in client.get(reverse("home")).get("Location", "")
        traveller.shift(dt.timedelta(minutes=31))
        response = client.get(reverse("home"))
        assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.django_db
def test_session_ends_after_12_hours_even_when_active(client, regulator):
    with time_machine.travel(dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC), tick=False) as traveller:
        _login(client, "regulator", PASSWORD)
        for _ in range(12 * 3):  # a request every 20 minutes keeps the idle timer fresh
            traveller.shift(dt.timedelta(minutes=20))
            client.get(reverse("home"))
        traveller.shift(dt.timedelta(seconds=1))
        response = client.get(reverse("home"))
        assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.django_db
def test_logged_out_session_cannot_be_reused(client, regulator):
    _login(client, "regulator", PASSWORD)
    old_key = client.cookies["sessionid"].value
    client.post(reverse("logout"))
    replay = Client()
    replay.cookies["sessionid"] = old_key
    response = replay.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


NGINX = "172.18.0.5"  # the proxy's own address: REMOTE_ADDR of every request in production


@pytest.fixture
def production_lockout(settings, monkeypatch):
    """The lockout-related settings exactly as config/production.py sets them (behind one nginx)."""
    monkeypatch.setenv("DJANGO_SECRET_KEY", "x" * 50)
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "testserver")
    monkeypatch.delenv("TRUSTED_PROXY_COUNT", raising=False)
    path = Path(settings.BASE_DIR) / "config" / "production.py"
    production = runpy.run_path(str(path), run_name="config.production_")
    for name, value in production.items():
        if name.startswith(("AXES_", "LOGIN_USERNAME_", "TRUSTED_PROXY")):
            setattr(settings, name, value)
    assert settings.TRUSTED_PROXY_COUNT == 1
    return settings


def _via_nginx(client_address: str, spoofed: str = "") -> dict[str, str]:
    """What gunicorn receives: nginx's address, and the client's appended to any header it sent."""
    chain = f"{spoofed}, {client_address}" if spoofed else client_address
    return {"REMOTE_ADDR": NGINX, "HTTP_X_FORWARDED_FOR": chain}


@pytest.mark.django_db
def test_failures_for_five_users_from_one_address_do_not_lock_out_anybody_else(production_lockout, client):
    for i in range(5):
        UserFactory(username=f"victim{i}")
    regulator = UserFactory(username="regulator", role="regulator")
    admin = UserFactory(username="admin", role="admin")
    for i in range(5):
        for _ in range(5):
            _login(client, f"victim{i}", "wrong-password", **_via_nginx("203.0.113.9"))
    # the attacker's own address is locked for those usernames …
    assert _login(Client(), "victim0", PASSWORD, **_via_nginx("203.0.113.9")).status_code == 429
    # … but another user behind the same nginx logs in, and so does the victim from their own desk
    for user in (regulator, admin):
        assert _login(Client(), user.username, PASSWORD, **_via_nginx("198.51.100.20")).status_code == 302
    assert _login(Client(), "victim0", PASSWORD, **_via_nginx("198.51.100.21")).status_code == 302


@pytest.mark.django_db
def test_pair_locks_after_five_failures_from_one_address(production_lockout, client, regulator):
    for _ in range(5):
        _login(client, "regulator", "wrong", **_via_nginx("203.0.113.9"))
    response = _login(Client(), "regulator", PASSWORD, **_via_nginx("203.0.113.9"))
    assert response.status_code == 429
    assert "锁定" in response.content.decode()


@pytest.mark.django_db
def test_spoofed_forwarded_for_header_does_not_escape_lockout(production_lockout, client, regulator):
    for i in range(5):
        _login(client, "regulator", "wrong", **_via_nginx("203.0.113.9", spoofed=f"192.0.2.{i}"))
    response = _login(Client(), "regulator", PASSWORD, **_via_nginx("203.0.113.9", spoofed="198.51.100.7"))
    assert response.status_code == 429


@pytest.mark.django_db
def test_forwarded_for_is_ignored_without_a_trusted_proxy(settings, client, regulator):
    settings.TRUSTED_PROXY_COUNT = 0
    for i in range(5):
        _login(client, "regulator", "wrong", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    assert _login(Client(), "regulator", PASSWORD, REMOTE_ADDR="10.0.0.1").status_code == 429


@pytest.mark.django_db
def test_rotating_addresses_hit_the_username_ceiling_and_admins_are_told(production_lockout, client, regulator):
    UserFactory(username="boss", role="admin", email="boss@yibao.example")
    ceiling = production_lockout.LOGIN_USERNAME_FAILURE_CEILING
    assert ceiling <= 100  # SECURITY.md 5: at most 100 failures per hour per account
    for i in range(ceiling - 1):
        assert _login(client, "regulator", "wrong", **_via_nginx(f"10.1.{i // 250}.{i % 250 + 1}")).status_code != 429
    assert not mail.outbox
    _login(client, "regulator", "wrong", **_via_nginx("10.2.0.1"))  # the ceiling-th failure
    response = _login(Client(), "regulator", PASSWORD, **_via_nginx("198.51.100.77"))
    assert response.status_code == 429
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["boss@yibao.example"]
    assert "regulator" in mail.outbox[0].subject
    assert AuditEvent.objects.filter(action="login.username_locked", object_id="regulator").count() == 1
    # further failures do not spam the admins
    _login(client, "regulator", "wrong", **_via_nginx("10.9.9.9"))
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_correct_password_resets_the_pair_count(production_lockout, client, regulator):
    for _ in range(4):
        _login(client, "regulator", "wrong", **_via_nginx("203.0.113.9"))
    assert _login(Client(), "regulator", PASSWORD, **_via_nginx("203.0.113.9")).status_code == 302
    for _ in range(4):
        _login(client, "regulator", "wrong", **_via_nginx("203.0.113.9"))
    assert _login(Client(), "regulator", PASSWORD, **_via_nginx("203.0.113.9")).status_code == 302


@pytest.mark.django_db
def test_login_requires_a_csrf_token(regulator):
    client = Client(enforce_csrf_checks=True)
    assert _login(client, "regulator", PASSWORD).status_code == 403
    page = client.get(reverse("login"))
    token = page.cookies["csrftoken"].value
    response = client.post(
        reverse("login"), {"username": "regulator", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def _session_writes(client: Client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("home"))
    return sum(1 for q in queries.captured_queries if q["sql"].startswith('UPDATE "django_session"'))


@pytest.mark.django_db
def test_the_session_row_is_written_at_most_once_a_minute(client, regulator):
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC), tick=False) as traveller:
        _login(client, "regulator", PASSWORD)
        client.get(reverse("home"))
        traveller.shift(dt.timedelta(seconds=30))
        assert _session_writes(client) == 0  # browsing does not write the session on every page
        traveller.shift(dt.timedelta(seconds=31))
        assert _session_writes(client) == 1  # a minute after the last write, the idle timeout slides


@pytest.mark.django_db
def test_idle_timeout_counts_from_the_last_refresh_at_most_a_minute_early(client, regulator):
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC), tick=False) as traveller:
        _login(client, "regulator", PASSWORD)  # written at 0
        traveller.shift(dt.timedelta(seconds=50))
        assert "login" not in client.get(reverse("home")).get("Location", "")  # not written: within the minute
        traveller.shift(dt.timedelta(minutes=29, seconds=11))  # 30 min 1 s after the write, 29 min 11 s idle
        response = client.get(reverse("home"))
        assert response.status_code == 302 and reverse("login") in response["Location"]
