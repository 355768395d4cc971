"""E-mail is configured from the environment: console by default, SMTP settings read when given."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.platform.compose_native import ENV_EXAMPLE, read_env_file

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, "
    "s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.DEFAULT_FROM_EMAIL]))"
)


def _mail_settings(tmp_path: Path, **env: str) -> list:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "DEFAULT_FROM"))}
    full = {**clean, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path), **env}
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=full, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_console_backend_without_configuration(tmp_path):
    assert _mail_settings(tmp_path)[0] == "django.core.mail.backends.console.EmailBackend"


def test_smtp_settings_of_env_example_are_read(tmp_path):
    example = read_env_file(ENV_EXAMPLE)
    backend, host, port, user, password, tls, sender = _mail_settings(tmp_path, **example)
    assert backend == "django.core.mail.backends.smtp.EmailBackend"
    assert (host, port, user, password, tls) == ("smtp.example.gov.cn", 587, "jiupian", "change-me", True)
    assert sender == example["DEFAULT_FROM_EMAIL"]
