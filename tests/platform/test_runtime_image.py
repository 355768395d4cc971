"""What the image's final stage gets: a virtualenv of requirements/runtime.txt only (installed with
--require-hashes, as the Dockerfile's builder does). In it every application module imports, the
production settings pass `check --deploy`, and no test tool is importable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.platform.test_requirements import APP_PACKAGES, TEST_TOOLS

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

IMPORT_ALL = f"""
import importlib, os, pkgutil, django
django.setup()
count = 0
for name in {APP_PACKAGES!r}:
    package = importlib.import_module(name)
    for module in pkgutil.walk_packages(package.__path__, name + "."):
        if module.name != "config.production":
            importlib.import_module(module.name)
            count += 1
print(count)
"""


@pytest.fixture(scope="module")
def runtime_python(tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("runtime") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "--require-hashes", "--no-deps",
         "--no-compile", "-r", str(ROOT / "requirements" / "runtime.txt")],  # the imports below compile what they use
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    return venv / "bin" / "python"


def _run(python: Path, *args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    full = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "VAR_DIR": str(tmp_path), **env}
    return subprocess.run([str(python), *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=300)


def test_every_application_module_imports_with_the_runtime_set_only(runtime_python, tmp_path):
    result = _run(runtime_python, "-c", IMPORT_ALL, tmp_path=tmp_path, DJANGO_SETTINGS_MODULE="config.settings")
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.split()[-1]) > 100


def test_production_settings_pass_the_deployment_checks(runtime_python, tmp_path):
    result = _run(
        runtime_python, "manage.py", "check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path,
        DJANGO_SETTINGS_MODULE="config.production", DJANGO_SECRET_KEY="runtime-" + os.urandom(32).hex(),
        DJANGO_ALLOWED_HOSTS="jiupian.example.gov.cn", STATIC_ROOT=str(tmp_path / "static"),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_test_tool_is_importable(runtime_python, tmp_path):
    probe = "import importlib.util, sys; print([m for m in sys.argv[1:] if importlib.util.find_spec(m)])"
    result = _run(runtime_python, "-c", probe, *TEST_TOOLS.values(), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
