"""The 四同 rule on a second core gives the same flags, and a failing child costs time, not results."""

import os
import signal

import pandas as pd
import pytest

from pricing.engine import parallel
from tests.pricing.sample_util import pure_flags


def test_offloaded_four_same_gives_the_same_flags_in_the_same_order(samples_dir, force_parallel):
    parallel_flags, _ = pure_flags(samples_dir)
    assert len(force_parallel) == 1  # the 四同 rule really ran in a child
    force_parallel.clear()
    parallel.min_rows = lambda: 10**12  # restored by monkeypatch
    serial_flags, _ = pure_flags(samples_dir)
    assert force_parallel == []
    assert (parallel_flags["rule_code"] == "FOUR_SAME_NATIONAL").any()
    pd.testing.assert_frame_equal(parallel_flags, serial_flags)


def _only_in_child(parent: int, child_action):
    def fn():
        if os.getpid() != parent:
            child_action()
        return {"value": 42}

    return fn


def test_an_exception_in_the_child_is_recomputed_here(caplog):
    def boom():
        raise RuntimeError("child broke")

    pending = parallel.start(_only_in_child(os.getpid(), boom))
    assert pending.result() == {"value": 42}
    assert "child broke" in caplog.text


def test_a_killed_child_is_recomputed_here():
    pending = parallel.start(_only_in_child(os.getpid(), lambda: os.kill(os.getpid(), signal.SIGKILL)))
    assert pending.result() == {"value": 42}


def test_cancel_after_the_result_does_nothing():
    pending = parallel.start(lambda: {"value": 42})
    assert pending.result() == {"value": 42}
    pending.cancel()  # the child was reaped by result(): no error, no signal to a reused pid


def test_cancel_reaps_the_child():
    pending = parallel.start(_only_in_child(os.getpid(), lambda: signal.pause()))
    pid = pending._pid
    pending.cancel()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_small_inputs_and_single_cores_stay_in_process(monkeypatch):
    monkeypatch.setattr(parallel, "cores", lambda: 1)
    assert not parallel.worthwhile(10**9)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    assert parallel.min_rows() == 50_000  # the default setting
    assert not parallel.worthwhile(parallel.min_rows() - 1)
    assert parallel.worthwhile(parallel.min_rows())


def test_no_fork_means_computed_here(monkeypatch):
    def refuse():
        raise OSError("Cannot allocate memory")

    monkeypatch.setattr(parallel.os, "fork", refuse)
    before = len(os.listdir("/proc/self/fd"))
    pending = parallel.start(lambda: {"value": 42})
    assert len(os.listdir("/proc/self/fd")) == before  # the pipe was closed
    assert pending.result() == {"value": 42}


def test_a_pooled_database_is_not_reopened_in_the_child(monkeypatch, caplog):
    from django.db import connection

    options = {**connection.settings_dict.get("OPTIONS", {}), "pool": True}
    monkeypatch.setitem(connection.settings_dict, "OPTIONS", options)
    pending = parallel.start(lambda: {"value": 42}, fresh_database=True)
    assert pending.result() == {"value": 42}
    assert not pending.from_child  # computed here, after the child refused
    assert "connection pool" in caplog.text
