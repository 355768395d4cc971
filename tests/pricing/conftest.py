"""Fixtures shared by the pricing tests."""

import os

import pytest

from pricing.engine import parallel


@pytest.fixture
def force_parallel(monkeypatch):
    """Forking forced on (2 cores, no size threshold); the list of the children's pids, as they start."""
    forks = []
    real_fork = os.fork

    def counting_fork():
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(parallel, "min_rows", lambda: 0)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    monkeypatch.setattr(parallel.os, "fork", counting_fork)
    return forks
