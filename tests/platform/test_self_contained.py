"""The repository stands alone: a fresh clone has everything the tests, the demo and the docs need."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "catalogue" / "samples"
SHARED = "sha" + "red"  # built, so that this file (and repository-wide greps) do not match its own pattern
OUTSIDE = re.compile(rf"\.\./{SHARED}\b|{SHARED}/spec|/work/{SHARED}")


def _tracked(*patterns: str) -> list[Path]:
    out = subprocess.run(["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / line for line in out.stdout.splitlines()]


def test_sample_files_are_in_the_repository():
    names = {path.name for path in _tracked("catalogue/samples")}
    assert {
        "catalogue_sample.csv",
        "catalogue_sample_dialect.csv",
        "reference_prices_sample.csv",
        "expected_flags_sample.csv",
    } <= names


def test_nothing_reads_or_points_outside_the_repository():
    offenders = []
    for path in _tracked("*.py", "*.md", "*.html", "Makefile", ".ci/run", "*.yml", "*.toml", "*.cfg"):
        text = path.read_text(encoding="utf-8", errors="replace")
        if re.search(OUTSIDE, text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_documentation_links_resolve():
    broken = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path = (doc.parent / target).resolve()
            if not path.exists():
                broken.append(f"{doc.relative_to(ROOT)} → {target}")
    assert broken == []
    assert (ROOT / "docs" / "rules.md").exists() and (ROOT / "docs" / "formats.md").exists()
