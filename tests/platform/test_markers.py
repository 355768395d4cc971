"""The pytest markers select what `make test-fast` and `make e2e` promise.

One collection of the whole suite in a subprocess, with a small plugin that writes each test's markers.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PLUGIN = """
import json, os

def pytest_collection_finish(session):
    marks = {item.nodeid: sorted({m.name for m in item.iter_markers()}) for item in session.items}
    with open(os.environ["MARKERS_OUT"], "w") as out:
        json.dump(marks, out)
"""


@pytest.fixture(scope="module")
def markers(tmp_path_factory) -> dict[str, set[str]]:
    folder = tmp_path_factory.mktemp("markers")
    (folder / "dump_markers.py").write_text(PLUGIN)
    out = folder / "markers.json"
    env = {**os.environ, "PYTHONPATH": f"{folder}:{os.environ.get('PYTHONPATH', '')}", "MARKERS_OUT": str(out)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "dump_markers"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return {test: set(names) for test, names in json.loads(out.read_text()).items()}


def test_fast_selection_leaves_out_browsers_workers_and_slow_tests(markers):
    fast = [test for test, names in markers.items() if not names & {"e2e", "slow", "redis"}]
    assert len(fast) > 200
    assert not [test for test in fast if test.startswith("tests/e2e/")]
    for real_services in ("tests/catalogue/test_worker.py", "tests/platform/test_compose_stack.py"):
        assert not [test for test in fast if test.startswith(real_services)], real_services
    assert any(test.startswith("tests/platform/test_compose_file.py") for test in fast)
    assert not [test for test in fast if test.startswith("tests/platform/test_api_contract.py")]


def test_markers_name_browser_postgres_and_redis_tests(markers):
    e2e = [test for test, names in markers.items() if "e2e" in names]
    assert e2e and all(test.startswith("tests/e2e/") for test in e2e)
    assert all("e2e" in markers[test] for test in markers if test.startswith("tests/e2e/"))
    postgres = [test for test, names in markers.items() if "postgres" in names]
    assert any(test.startswith("tests/catalogue/test_parallel_copy.py") for test in postgres)
    assert any(test.startswith("tests/platform/test_compose_stack.py") for test in postgres)
    redis = [test for test, names in markers.items() if "redis" in names]
    assert any(test.startswith("tests/catalogue/test_worker.py") for test in redis)
    assert all("slow" in markers[test] for test in redis)
