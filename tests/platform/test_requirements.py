"""The production image installs the runtime set only: pinned, hash-checked, without test tools,
built in two stages so that the final image carries no compiler, from a context without .venv, var/,
.git or tests."""

import ast
import fnmatch
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "requirements" / "runtime.txt"
DEV = ROOT / "requirements" / "dev.txt"

# distribution name → the module it is imported as
TEST_TOOLS = {
    "pytest": "pytest", "pytest-django": "pytest_django", "hypothesis": "hypothesis", "playwright": "playwright",
    "ruff": "ruff", "schemathesis": "schemathesis", "factory-boy": "factory", "faker": "faker",
    "time-machine": "time_machine", "openpyxl": "openpyxl", "coverage": "coverage", "mutmut": "mutmut",
    "pip-tools": "piptools",
}  # fmt: skip
APP_PACKAGES = ("accounts", "appeals", "audit", "catalogue", "config", "pricing")
COMPILERS = ("gcc", "g++", "build-essential", "clang", "cc", "make")


def pins(path: Path) -> dict[str, str]:
    """name → version of every `name==version` line; asserts each carries at least one hash."""
    text = path.read_text(encoding="utf-8")
    entries = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)((?:\s*\\\n\s+--hash=sha256:[0-9a-f]{64})*)", text, re.M)
    result = {}
    for name, version, hashes in entries:
        assert hashes, f"{path.name}: {name}=={version} has no --hash"
        result[name.lower().replace("_", "-")] = version
    requirement_lines = [
        line for line in text.splitlines() if line and not line.startswith((" ", "#", "-")) and line.strip()
    ]
    assert len(requirement_lines) == len(entries), "every requirement is pinned with == and hashes"
    return result


def test_runtime_set_is_pinned_with_hashes_and_has_no_test_tools():
    runtime = pins(RUNTIME)
    assert {"django", "gunicorn", "celery", "psycopg", "pandas", "whitenoise"} <= runtime.keys()
    assert not (runtime.keys() & TEST_TOOLS.keys()), runtime.keys() & TEST_TOOLS.keys()


def test_dev_set_is_the_runtime_set_plus_test_tools_at_the_same_versions():
    runtime, dev = pins(RUNTIME), pins(DEV)
    assert {name: dev.get(name) for name in runtime} == runtime
    assert {"pytest", "pytest-django", "hypothesis", "playwright", "ruff"} <= dev.keys()


def test_requirements_txt_only_includes_the_dev_set():
    lines = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    stray = [line for line in lines if line and not line.startswith("#") and line != "-r requirements/dev.txt"]
    assert stray == [], f"move {stray} to requirements/runtime.in or dev.in, then `make requirements`"
    assert "-r requirements/dev.txt" in lines


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_application_code_imports_no_test_tool():
    offenders = {}
    for package in APP_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            used = _imported_modules(path) & set(TEST_TOOLS.values())
            if used:
                offenders[str(path.relative_to(ROOT))] = used
    assert offenders == {}


def _stages(dockerfile: str) -> list[list[str]]:
    """Dockerfile instructions (continuation lines joined), grouped by FROM."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    stages: list[list[str]] = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append(line)
    return stages


def test_final_image_has_no_compiler_and_installs_only_the_runtime_set():
    stages = _stages((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    assert len(stages) >= 2, "multi-stage build"
    builder, final = stages[0], stages[-1]
    final_text = "\n".join(final)
    for tool in COMPILERS:
        assert not re.search(rf"apt-get install[^\n]*\b{re.escape(tool)}\b", final_text), tool
    assert "requirements/runtime.txt" in "\n".join(builder)
    assert "--require-hashes" in "\n".join(builder)
    assert "requirements.txt" not in final_text and "dev.txt" not in final_text
    assert any(line.startswith("COPY --from=") for line in final)
    assert "collectstatic" in final_text and "STATIC_ROOT=/app/staticfiles" in final_text
    assert final[-1].startswith("CMD") and any(line.startswith("USER ") for line in final)


def _build_context() -> list[str]:
    """The files `docker build .` would send: tracked files minus the .dockerignore patterns."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()

    def ignored(path: str) -> bool:
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        return any(fnmatch.fnmatch(prefix, pattern.removeprefix("**/")) or fnmatch.fnmatch(prefix, pattern)
                   for pattern in patterns for prefix in prefixes)  # fmt: skip

    return [path for path in files if not ignored(path)]


def test_build_context_leaves_out_tests_venv_and_data():
    context = _build_context()
    assert "manage.py" in context and "deploy/probe.py" in context and "requirements/runtime.txt" in context
    assert any(path.startswith("static/vendor/") for path in context)
    assert any(path.startswith("catalogue/samples/") for path in context)  # the demo seeds from them
    for excluded in ("tests/", "bench/", ".ci/", "docs/", "requirements/dev."):
        assert not any(path.startswith(excluded) for path in context), excluded
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "var", ".git", ".env"} <= set(ignore)
