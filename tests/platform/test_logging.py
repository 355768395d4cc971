"""Each log line is printed once; a refused request (403) is one line without a traceback."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import django
django.setup()
from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.test import Client, RequestFactory
Client().get("/no/such/page/")
response = response_for_exception(RequestFactory().get("/pricing/rounds/1/"), PermissionDenied("not yours"))
assert response.status_code == 403
import logging
logging.getLogger("catalogue.ingest").warning("import 7: 3 rows rejected")
try:
    raise ValueError("boom")
except ValueError:
    logging.getLogger("django.request").error("Internal Server Error: /x/", exc_info=True)
"""


def _stderr(tmp_path: Path) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}  # fmt: skip
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_every_line_once_and_403_without_traceback(tmp_path):
    err = _stderr(tmp_path)
    lines = err.splitlines()
    assert sum("Not Found: /no/such/page/" in line for line in lines) == 1
    assert sum("Forbidden (Permission denied): /pricing/rounds/1/" in line for line in lines) == 1
    assert sum("import 7: 3 rows rejected" in line for line in lines) == 1
    assert "PermissionDenied" not in err
    # a server error keeps its traceback, once
    assert err.count("Traceback") == 1 and "ValueError: boom" in err
