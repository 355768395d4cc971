"""One computation on a second core (并行计算): a forked child computes, the parent goes on.

`start(fn)` forks; the child runs `fn()` on the frames it inherited (copy-on-write: nothing is
serialised on the way in), sends the pickled result back over a pipe and leaves with `os._exit` — it
never touches the parent's database connection, runs no cleanup and no atexit handler. `Pending.result`
reads it. By default pure computation only: `fn` must not do I/O.

With `fresh_database=True` the child may also read the database: Django gets new connections in the child
(the inherited ones wrap the parent's own socket or file handle and its open transaction: they are kept
referenced and never used, closed or finalised). Such a child sees what is committed, not the caller's
uncommitted work — the caller checks that what came back is what it would have read itself.

Where forking is not possible or not worth it (one core, no fork(), small input), or the child fails in
any way (an exception, killed, a truncated pipe), the computation runs in the calling process instead —
the result is the same value either way; only the time differs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)
_INHERITED: list = []  # in a forked child: the parent's database connections, never to be closed


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def min_rows() -> int:
    """Listings from which forking pays (settings.DETECTION_PARALLEL_MIN_ROWS): below it the fork and
    the pickling cost more than they save."""
    from django.conf import settings

    return settings.DETECTION_PARALLEL_MIN_ROWS


def worthwhile(rows: int) -> bool:
    return hasattr(os, "fork") and cores() > 1 and rows >= min_rows()


class Pending(Generic[T]):
    """A computation started in a child (or deferred to the parent when no child could run it)."""

    def __init__(self, fn: Callable[[], T], pid: int | None, fd: int | None) -> None:
        self._fn, self._pid, self._fd = fn, pid, fd
        self.from_child = False  # set by result(): the value was computed in the child

    def result(self) -> T:
        if self._pid is None:
            return self._fn()
        with os.fdopen(self._fd, "rb") as pipe:
            data = pipe.read()
        _pid, status = os.waitpid(self._pid, 0)
        self._pid = None  # reaped: a later cancel() has nothing to stop
        try:
            kind, value = pickle.loads(data)  # our own child's output, never outside input
        except Exception:  # killed before it finished writing
            kind, value = "failed", f"exit status {status}"
        if kind == "ok":
            self.from_child = True
            return value
        log.warning("parallel computation failed in the child (%s); computing it here", value)
        return self._fn()

    def cancel(self) -> None:
        """The caller no longer wants the result: stop and reap the child (nothing to do once `result`
        has been read, or when nothing was forked)."""
        if self._pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)
        os.waitpid(self._pid, 0)
        os.close(self._fd)
        self._pid = None


def _fresh_database_connections() -> None:
    """In a forked child: every database alias gets a new Django connection, opened on first use."""
    from django.db import connections

    for alias in connections:
        inherited = connections[alias]
        if inherited.settings_dict.get("OPTIONS", {}).get("pool"):  # a pool's threads do not survive fork()
            raise RuntimeError(f"database {alias!r} uses a connection pool: not reopened in a forked child")
        _INHERITED.append(inherited)  # a reference kept: no finaliser may close the parent's session
        connections[alias] = connections.create_connection(alias)


def start(fn: Callable[[], T], *, fresh_database: bool = False) -> Pending[T]:
    """Run `fn` in a forked child; the caller collects it with `.result()`. With `fresh_database`, `fn`
    may read the database through the child's own connections (see the module's docstring)."""
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError as exc:  # no memory for the child, too many processes
        os.close(read_fd)
        os.close(write_fd)
        log.warning("could not fork (%s); computing in this process", exc)
        return Pending(fn, None, None)
    if pid == 0:  # the child
        os.close(read_fd)
        status = 0
        try:
            if fresh_database:
                _fresh_database_connections()
            payload = pickle.dumps(("ok", fn()), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # reported to the parent, which recomputes
            payload, status = pickle.dumps(("error", repr(exc))), 1
        try:
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(payload)
        finally:
            os._exit(status)
    os.close(write_fd)
    log.info("computing in child process %d", pid)
    return Pending(fn, pid, read_fd)
