"""Untrusted spreadsheets are parsed in a child process with a memory and a time limit (沙箱解析).

A 1.5 KB XLSX with cells at A1 and XFD1048576 makes calamine allocate 512 GiB and abort the whole
process. Here the archive checks run first (readers.check_xlsx_archive), then every worksheet's
declared <dimension> is checked, then calamine runs in a forked child whose address space is capped
with resource.setrlimit and which is killed after a time limit. Whatever the child dies of — abort,
MemoryError, timeout — the upload is refused with a message; the worker (or web process) lives on.

The child hands the frame back column by column, each column one NUL-joined UTF-8 block (a few
C-level passes, far cheaper than pickling millions of str objects); that is only unambiguous
because cells with NUL or other control characters are refused first, with row and column.
"""

import faulthandler
import os
import pickle
import re
import resource
import signal
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.utils.translation import gettext as _

from .errors import IngestRejected, RowError

# C0 controls except tab, newline and carriage return (legitimate in quoted cells), plus DEL.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_CONTROL_ERRORS = 1000
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"')


@dataclass(frozen=True)
class SandboxLimits:
    memory_bytes: int  # address space the child may add on top of what it inherits
    seconds: float
    max_columns: int = 256
    max_rows: int = 1_048_576


def default_limits() -> SandboxLimits:
    return SandboxLimits(
        memory_bytes=int(getattr(settings, "INGEST_SANDBOX_MEMORY_MB", 4096)) << 20,
        seconds=float(getattr(settings, "INGEST_SANDBOX_SECONDS", 600)),
    )


# --- checks before any parser runs -------------------------------------------------------------------
def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def _sheet_heads(path: Path) -> list[bytes]:
    heads = []
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if re.fullmatch(r"xl/worksheets/[^/]+\.xml", info.filename):
                try:
                    with archive.open(info) as member:
                        heads.append(member.read(64 << 10))
                except Exception:  # zlib/CRC errors: reported by check_xlsx_archive
                    continue
    return heads


def check_sheet_dimensions(path: Path, limits: SandboxLimits) -> None:
    """Refuse a worksheet whose declared range is wider or longer than any catalogue. Reads at most
    64 KiB of each sheet; a damaged archive is left to the full archive check in the child."""
    try:
        heads = _sheet_heads(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestRejected(_("不是有效的 XLSX 文件（zip 结构损坏）")) from exc
    for head in heads:
        match = _DIMENSION.search(head)
        if not match:
            continue
        first_col, first_row, last_col, last_row = match.groups()
        last_col, last_row = last_col or first_col, last_row or first_row
        columns = _column_number(last_col.decode()) - _column_number(first_col.decode()) + 1
        rows = int(last_row) - int(first_row) + 1
        if columns > limits.max_columns or rows > limits.max_rows:
            ref = match.group(0).split(b'"')[1].decode()
            raise IngestRejected(
                _("XLSX 工作表范围 %(ref)s 过大（%(rows)d 行 × %(cols)d 列），疑似恶意文件，已拒绝")
                % {"ref": ref, "rows": rows, "cols": columns}
            )


def control_character_errors(frame: pd.DataFrame) -> list[RowError]:
    """Cells holding NUL or another control character, with row (as in the file) and column."""
    errors: list[RowError] = []
    for position, name in enumerate(frame.columns):
        cells = frame.iloc[:, position].to_numpy(dtype=object)
        try:
            joined = "\n".join(cells)
        except TypeError:
            cells = np.array([c if isinstance(c, str) else str(c) for c in cells], dtype=object)
            joined = "\n".join(cells)
        if not CONTROL.search(joined) and not CONTROL.search(str(name)):
            continue  # the usual case: one C-level scan per column
        if CONTROL.search(str(name)):
            errors.append(RowError(1, CONTROL.sub("?", str(name)), "", _("表头含有不允许的控制字符")))
        rows = frame.index.to_numpy()
        for i, cell in enumerate(cells):
            if CONTROL.search(cell):
                shown = CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", cell)
                errors.append(RowError(int(rows[i]) + 2, str(name), shown, _("含有不允许的控制字符（如 NUL）")))
                if len(errors) >= MAX_CONTROL_ERRORS:
                    return errors
    return errors


def refuse_control_characters(frame: pd.DataFrame) -> None:
    errors = control_character_errors(frame)
    if errors:
        raise IngestRejected(_("文件有 %(n)d 处错误，未导入；请修改后重新上传") % {"n": len(errors)}, errors)


# --- the child process -------------------------------------------------------------------------------
def _virtual_memory_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _encode(frame: pd.DataFrame) -> tuple[list[str], int, list[bytes], list[int]]:
    columns = [("\x00".join(frame.iloc[:, j].to_numpy(dtype=object))).encode() for j in range(frame.shape[1])]
    return [str(c) for c in frame.columns], len(frame), columns, frame.index.to_list() if len(frame) else []


def _decode(names: list[str], n: int, columns: list[bytes], index: list[int]) -> pd.DataFrame:
    data = {}
    for name, block in zip(names, columns, strict=True):
        out = np.empty(n, dtype=object)
        if n:
            out[:] = block.decode().split("\x00")
        data[name] = out
    return pd.DataFrame(data, index=pd.Index(index, dtype=np.int64) if n else None, dtype=object)


def _out_of_memory(exc: BaseException | None) -> bool:
    """A failed allocation under the cap: MemoryError, or pyo3's panic when calamine could not create
    a Python object ("PyObject pointer is null")."""
    return isinstance(exc, MemoryError) or type(exc).__name__ == "PanicException"


def _child(func: Callable[[], pd.DataFrame], result_path: str, limits: SandboxLimits) -> None:
    """Runs in the forked child; never returns."""
    code = 0
    faulthandler.disable()  # an abort here is expected and reported by the parent, not dumped
    os.environ["RUST_BACKTRACE"] = "0"  # a panic must not try to allocate a backtrace under the cap
    try:
        cap = _virtual_memory_bytes() + limits.memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        cpu = int(limits.seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        frame = func()
        refuse_control_characters(frame)
        payload: tuple[str, Any] = ("ok", _encode(frame))
    except IngestRejected as rejection:
        if _out_of_memory(rejection.__cause__):  # the reader wraps whatever calamine raised
            payload, code = ("memory", None), 3
        else:
            payload = ("rejected", (rejection.message, rejection.errors))
    except BaseException as exc:  # reported to the parent, which decides
        if _out_of_memory(exc):
            payload, code = ("memory", None), 3
        else:
            payload, code = ("error", f"{type(exc).__name__}: {exc}"[:2000]), 4
    try:
        with open(result_path, "wb") as fh:
            pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:
        code = code or 5
    os._exit(code)


def _too_big() -> IngestRejected:
    return IngestRejected(_("XLSX 解析超出内存限制（工作表过大或为恶意构造），已拒绝"))


def run_isolated(func: Callable[[], pd.DataFrame], limits: SandboxLimits | None = None) -> pd.DataFrame:
    """Run `func` (returning a frame of text cells) in a child with the limits; the frame comes back."""
    limits = limits or default_limits()
    fd, result_path = tempfile.mkstemp(prefix="sandbox-", suffix=".pickle")
    os.close(fd)
    try:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's coverage is not collected
            _child(func, result_path, limits)
        deadline = time.monotonic() + limits.seconds
        status = None
        while status is None:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = raw
            elif time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise IngestRejected(_("解析文件超时（超过 %(s)d 秒），已拒绝") % {"s": int(limits.seconds)})
            else:
                time.sleep(0.02)
        if os.WIFSIGNALED(status):
            raise _too_big()  # abort on a failed allocation, or the CPU limit
        with open(result_path, "rb") as fh:
            try:
                kind, value = pickle.load(fh)
            except (EOFError, pickle.UnpicklingError):
                raise _too_big() from None
    finally:
        Path(result_path).unlink(missing_ok=True)
    if kind == "ok":
        return _decode(*value)
    if kind == "rejected":
        message, errors = value
        raise IngestRejected(message, errors)
    if kind == "memory":
        raise _too_big()
    raise IngestRejected(_("无法读取 XLSX：%(error)s") % {"error": value})


def read_xlsx_isolated(path: Path, sheet: str | None, reader: Callable[..., pd.DataFrame]) -> pd.DataFrame:
    """The hook readers.read_table calls for XLSX: the declared dimensions, then `reader` (which checks
    the archive itself before calamine) in a child."""
    limits = default_limits()
    check_sheet_dimensions(path, limits)
    return run_isolated(lambda: reader(path, sheet), limits)
