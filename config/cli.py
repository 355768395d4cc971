"""Checks shared by the management commands that write a file (--output)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import CommandError


def output_path(value: str | Path, *, create_parent: bool = False) -> Path:
    """The --output path, checked before any work: a file name in a writable folder.

    A directory, a missing folder (unless `create_parent`) or an unwritable folder ends the command
    with one Chinese line and exit code 1 (CommandError), never a traceback.
    """
    path = Path(value)
    if path.is_dir():
        raise CommandError(f"输出路径是一个目录，请给出文件名：{path}")
    parent = path.parent
    if not parent.exists() and create_parent:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"无法创建输出目录 {parent}：{exc.strerror}") from exc
    if not parent.is_dir():
        raise CommandError(f"输出目录不存在：{parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CommandError(f"输出目录不可写：{parent}")
    return path


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an operating-system error while writing `path` (disk full, permissions) into one line."""
    try:
        yield
    except OSError as exc:
        raise CommandError(f"无法写入输出文件 {path}：{exc.strerror or exc}") from exc
