"""--output errors end the command with one Chinese line and exit code 1, never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parents[2]


def test_export_to_a_missing_folder_is_one_line_and_exit_code_1(tmp_path):
    missing = tmp_path / "no" / "such" / "dir" / "x.csv"
    env = {**os.environ, "VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = subprocess.run(
        [sys.executable, "manage.py", "export_round", "1", "--format", "csv", "--output", str(missing)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [f"CommandError: 输出目录不存在：{missing.parent}"]


@pytest.mark.django_db
def test_export_to_a_directory_names_the_problem(tmp_path):
    with pytest.raises(CommandError, match="输出路径是一个目录"):
        call_command("export_round", "1", "--format", "csv", "--output", str(tmp_path))


def test_generate_catalogue_to_a_directory_is_refused_before_generating(tmp_path):
    with pytest.raises(CommandError, match="输出路径是一个目录"):
        call_command("generate_catalogue", "--size", "10", "--output", str(tmp_path))
    with pytest.raises(CommandError, match="输出路径是一个目录"):
        call_command("generate_catalogue", "--output", str(tmp_path / "a.csv"), "--reference-output", str(tmp_path))
    assert not (tmp_path / "a.csv").exists()


def test_generate_catalogue_creates_a_missing_folder(tmp_path):
    target = tmp_path / "new" / "folder" / "c.csv"
    call_command("generate_catalogue", "--size", "10", "--output", str(target))
    assert len(target.read_text(encoding="utf-8-sig").splitlines()) == 11  # header + 10 listings
