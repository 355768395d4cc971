"""Detection in a REAL Celery worker with the 四同 rule forked to a second process (PostgreSQL + Redis):
the worker's task forks, the child's flags come back, and the round holds exactly the sample's flags."""

import time

import pytest

from catalogue import services
from pricing.engine.rounds import create_round
from pricing.models import Flag, JobStatus
from tests.conftest import requires_postgres, requires_redis, running_worker
from tests.pricing.sample_util import expected_rows


@requires_postgres
@requires_redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_forks_the_four_same_rule_and_stores_the_same_flags(settings, samples_dir):
    version = services.import_catalogue(samples_dir / "catalogue_sample.csv", province="湖南", label="样例")
    refs = services.import_reference_prices(samples_dir / "reference_prices_sample.csv", label="样例")
    # DETECTION_PARALLEL_MIN_ROWS=0: fork even for the sample's 32 listings
    with running_worker(settings.PRIVATE_ROOT, loglevel="info", DETECTION_PARALLEL_MIN_ROWS="0") as proc:
        rnd = create_round(catalogue_version=version, title="并行", user=None, reference_set=refs)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            rnd.refresh_from_db()
            if rnd.detection_status in (JobStatus.DONE, JobStatus.FAILED):
                break
            if proc.poll() is not None:
                pytest.fail(f"worker exited: {proc.stdout.read().decode(errors='replace')}")
            time.sleep(0.2)
    log = proc.stdout.read().decode(errors="replace")
    assert rnd.detection_status == JobStatus.DONE, log[-2000:]
    assert "computing in child process" in log  # the 四同 rule really ran in a forked child
    assert "failed in the child" not in log
    flags = Flag.objects.filter(round=rnd)
    assert flags.count() == len(expected_rows(samples_dir))
    assert flags.filter(rule_code="FOUR_SAME_NATIONAL").exists()
