"""Shared fixtures: users of every role, factories, the real-service switches.

Tasks run eagerly in tests by default even when CELERY_BROKER_URL points at Redis (CI); tests
marked `redis` start a real worker and turn eager mode off themselves.
"""

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.celery import app as celery_app

SAMPLES = Path(__file__).resolve().parent.parent / "catalogue" / "samples"
DATA = Path(__file__).resolve().parent / "data"


def pytest_configure(config: pytest.Config) -> None:
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def _private_root(settings, tmp_path):
    """Every test writes uploads, evidence and exports under its own temporary folder."""
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = settings.PRIVATE_ROOT
    settings.PRIVATE_ROOT.mkdir()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def using_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def redis_url() -> str | None:
    url = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL")
    return url if url and url.startswith("redis://") else None


def worker_env(private_root: Path, **extra: str) -> dict[str, str]:
    """Environment for a worker subprocess: pytest-django's test_<name> database, the Redis broker."""
    from django.db import connection

    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": redis_url() or "",
        "PRIVATE_ROOT": str(private_root),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **extra,
    }


def celery_worker_command(*extra: str, loglevel: str = "warning") -> list[str]:
    """A solo Celery worker of this project (one task at a time in its main process)."""
    celery = Path(sys.executable).parent / "celery"
    return [str(celery), "-A", "config", "worker", "-P", "solo", "-c", "1", *extra,
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", loglevel]  # fmt: skip


@contextlib.contextmanager
def running_worker(private_root: Path, *, loglevel: str = "warning", **env: str) -> Iterator[subprocess.Popen]:
    """A solo worker subprocess on the test database (its output piped), with eager mode off in this
    process while it runs; stopped (terminate, then kill) on the way out."""
    proc = subprocess.Popen(
        celery_worker_command(loglevel=loglevel),
        cwd=Path(__file__).resolve().parents[1],
        env=worker_env(private_root, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield proc
    finally:
        celery_app.conf.task_always_eager = eager
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


POSTGRES_REASON = "needs PostgreSQL: set DATABASE_URL=postgres://… (CI does)"
REDIS_REASON = "needs a Redis broker: set CELERY_BROKER_URL=redis://… with Redis running (CI does)"
requires_postgres = pytest.mark.skipif(not using_postgres(), reason=POSTGRES_REASON)
requires_redis = pytest.mark.skipif(redis_url() is None or not _port_open("127.0.0.1", 6379), reason=REDIS_REASON)

E2E_DIR = Path(__file__).resolve().parent / "e2e"
# Tests that take tens of seconds on the 2-core machine (every URL × role, schemathesis per role).
SLOW_TESTS = ("tests/test_permission_matrix.py::test_permission_matrix", "tests/platform/test_api_contract.py::")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Apply the markers declared in pyproject.toml, so that `-m "not e2e and not slow and not redis"`
    (make test-fast) selects what it says: tests under tests/e2e/ are `e2e`, tests carrying
    `requires_postgres` / `requires_redis` are `postgres` / `redis`; a real-worker test and those in
    SLOW_TESTS are also `slow`."""
    for item in items:
        if E2E_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.slow)
        if item.nodeid.startswith(SLOW_TESTS):
            item.add_marker(pytest.mark.slow)
        reasons = {mark.kwargs.get("reason") for mark in item.iter_markers("skipif")}
        if POSTGRES_REASON in reasons:
            item.add_marker(pytest.mark.postgres)
        if REDIS_REASON in reasons:
            item.add_marker(pytest.mark.redis)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """On PostgreSQL the audit table refuses TRUNCATE (audit migration 0003), and pytest-django
    flushes tables with TRUNCATE between transactional tests: the TEST database allows it."""
    if using_postgres():
        from django.db import connection

        with django_db_blocker.unblock(), connection.cursor() as cur:
            name = connection.settings_dict["NAME"]
            cur.execute(f"ALTER DATABASE \"{name}\" SET jiupian.allow_audit_truncate = 'on'")
            cur.execute("SET jiupian.allow_audit_truncate = 'on'")


@pytest.fixture
def samples_dir() -> Path:
    """The sample files shipped in the repository: missing ones are a failure, never a skip."""
    assert SAMPLES.is_dir(), f"sample files missing from the repository: {SAMPLES}"
    return SAMPLES


@pytest.fixture
def regulator(db):
    from tests.factories import UserFactory

    return UserFactory(username="regulator", role="regulator")


@pytest.fixture
def admin_user(db):
    from tests.factories import UserFactory

    return UserFactory(username="admin", role="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def company_a(db):
    from tests.factories import ManufacturerFactory

    return ManufacturerFactory(name="甲药业有限公司")


@pytest.fixture
def company_b(db):
    from tests.factories import ManufacturerFactory

    return ManufacturerFactory(name="乙制药股份有限公司")


@pytest.fixture
def maker_a(company_a):
    from tests.factories import UserFactory

    return UserFactory(username="maker_a", role="manufacturer", company=company_a)


@pytest.fixture
def maker_b(company_b):
    from tests.factories import UserFactory

    return UserFactory(username="maker_b", role="manufacturer", company=company_b)
