"""Fixtures shared by the pricing tests."""

import os

import pytest

from pricing.engine import parallel
from tests.factories import UserFactory


def make_sample_round(samples_dir):
    """The sample catalogue and reference prices imported, and a round on them (detection not run)."""
    from catalogue import services
    from pricing.engine.rounds import create_round

    user = UserFactory(role="admin")
    version = services.import_catalogue(samples_dir / "catalogue_sample.csv", province="湖南", label="样例")
    refs = services.import_reference_prices(samples_dir / "reference_prices_sample.csv", label="样例")
    return create_round(catalogue_version=version, title="样例", user=user, reference_set=refs, enqueue=False)


@pytest.fixture
def sample_round(db, samples_dir):
    return make_sample_round(samples_dir)


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
