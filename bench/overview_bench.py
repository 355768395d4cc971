"""Round overview latency on a seeded round (≈ 100,000 flags), in one process, before/after caching.

    BENCH_DB=jiupian_b12_load .venv/bin/python bench/overview_bench.py [--requests 60] [--decide-every 10]

Needs the database seeded by `bench/load_review.py seed 1000000 --overpriced 0.042` and migrated.
Prints, with the 1-minute load average:
- `uncached`: the work every overview request did before the cache (counts, top manufacturers by
  count and by amount, the ratio histogram, four plotly charts), timed directly;
- `page`: GET of the overview page through Django's test client (the whole view and template), where
  every `--decide-every`-th request follows a real decision (`decide(…, "confirm")` then back to
  pending with a raw UPDATE), so the cache is recomputed as often as that; p50/p95/max and the CPU
  time of this process per request (the database's own CPU is not included).
Decisions made here are undone (raw UPDATEs back to the seeded state; the audit rows remain).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = os.environ.get("BENCH_DB", "jiupian_bench_load")


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _line(label: str, wall: list[float], cpu: list[float]) -> str:
    return (
        f"{label:9s} n={len(wall):3d}  p50 {statistics.median(wall) * 1000:6.0f} ms  "
        f"p95 {_pct(wall, 0.95) * 1000:6.0f} ms  max {max(wall) * 1000:6.0f} ms  "
        f"cpu/request {statistics.mean(cpu) * 1000:5.0f} ms  (load {os.getloadavg()[0]:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--uncached", type=int, default=5)
    parser.add_argument("--decide-every", type=int, default=10, help="0: never")
    args = parser.parse_args()
    _django()
    from django.contrib.auth.hashers import make_password
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User
    from pricing.models import CorrectionRound, Flag, FlagStatus
    from pricing.review import charts, selectors
    from pricing.review.decisions import decide

    rnd = CorrectionRound.objects.filter(flag_count__gt=0).order_by("-pk").first()
    if rnd is None:
        sys.exit("no seeded round: run `load_review.py seed SIZE` first")
    user, _created = User.objects.update_or_create(
        username="bench_overview", defaults={"role": "regulator", "password": make_password("x")}
    )
    print(f"round {rnd.pk}: {rnd.flag_count:,} flags")

    wall, cpu = [], []
    for _ in range(args.uncached):
        t0, c0 = time.perf_counter(), time.process_time()
        counts = selectors.round_counts(rnd.pk)
        by_count = selectors.top_manufacturers(rnd.pk, "n")
        by_amount = selectors.top_manufacturers(rnd.pk, "amount")
        edges, hist = selectors.ratio_histogram(rnd.pk)
        charts.rule_severity_chart(counts.rule_severity)
        charts.ratio_histogram_chart(edges, hist)
        charts.top_manufacturers_chart(by_count, "n", "t", "a")
        charts.top_manufacturers_chart(by_amount, "amount", "t", "a")
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    if wall:
        print(_line("uncached", wall, cpu))

    client = Client()
    client.force_login(user)
    url = reverse("pricing:round_overview", args=[rnd.pk])
    pending = list(
        Flag.objects.filter(round_id=rnd.pk, status=FlagStatus.PENDING).values_list("pk", "lock_version")[:1000]
    )
    decided: list[int] = []
    wall, cpu, after_decision = [], [], []
    try:
        for i in range(args.requests):
            if args.decide_every and i % args.decide_every == 0 and pending:
                flag_id, version = pending.pop()
                decide(flag_id, "confirm", user=user, expected_version=version, reason="bench")
                decided.append(flag_id)
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            if args.decide_every and i % args.decide_every == 0:
                after_decision.append(wall[-1])
    finally:  # back to the seeded state (raw UPDATE: the trigger bumps the version again)
        Flag.objects.filter(pk__in=decided).update(status=FlagStatus.PENDING)
    print(_line("page", wall, cpu))
    if after_decision:
        print(f"          first request after a decision: mean {statistics.mean(after_decision) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
