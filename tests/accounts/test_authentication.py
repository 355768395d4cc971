"""Login, passwords, lockout and session lifetime (SECURITY.md 3–6)."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

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


@pytest.mark.django_db
def test_account_locks_after_five_failures_even_from_rotating_ips(client, regulator):
    for i in range(5):
        _login(client, "regulator", "wrong-password", REMOTE_ADDR=f"10.0.0.{i}")
    response = _login(client, "regulator", PASSWORD, REMOTE_ADDR="10.0.0.99")
    assert response.status_code == 429
    assert "锁定" in response.content.decode()


@pytest.mark.django_db
def test_spoofed_forwarded_for_header_does_not_escape_lockout(client, regulator):
    for i in range(5):
        _login(client, "regulator", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    response = _login(client, "regulator", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 429


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
