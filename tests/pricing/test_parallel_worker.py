"""Detection in a REAL Celery worker with the 四同 rule forked to a second process (PostgreSQL + Redis):
the worker's task forks, the child's flags come back, and the round holds exactly the sample's flags."""

import subprocess
import time
from pathlib import Path

import pytest

from catalogue import services
from config.celery import app as celery_app
from pricing.engine.rounds import create_round
from pricing.models import Flag, JobStatus
from tests.conftest import celery_worker_command, requires_postgres, requires_redis, worker_env
from tests.pricing.sample_util import expected_rows

ROOT = Path(__file__).resolve().parents[2]


@requires_postgres
@requires_redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_forks_the_four_same_rule_and_stores_the_same_flags(settings, samples_dir):
    version = services.import_catalogue(samples_dir / "catalogue_sample.csv", province="湖南", label="样例")
    refs = services.import_reference_prices(samples_dir / "reference_prices_sample.csv", label="样例")
    env = worker_env(settings.PRIVATE_ROOT, DETECTION_PARALLEL_MIN_ROWS="0")  # fork even for 32 listings
    proc = subprocess.Popen(
        celery_worker_command(loglevel="info"), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        rnd = create_round(catalogue_version=version, title="并行", user=None, reference_set=refs)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            rnd.refresh_from_db()
            if rnd.detection_status in (JobStatus.DONE, JobStatus.FAILED):
                break
            if proc.poll() is not None:
                pytest.fail(f"worker exited: {proc.stdout.read().decode(errors='replace')}")
            time.sleep(0.2)
    finally:
        celery_app.conf.task_always_eager = eager
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log = proc.stdout.read().decode(errors="replace")
    assert rnd.detection_status == JobStatus.DONE, log[-2000:]
    assert "computing in child process" in log  # the 四同 rule really ran in a forked child
    assert "failed in the child" not in log
    flags = Flag.objects.filter(round=rnd)
    assert flags.count() == len(expected_rows(samples_dir))
    assert flags.filter(rule_code="FOUR_SAME_NATIONAL").exists()
