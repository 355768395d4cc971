"""CPU per request of the flag list and flag detail pages, in one process (Django test client).

    BENCH_DB=jiupian_w12_bench flock /tmp/bench.lock .venv/bin/python bench/review_cpu_bench.py [--reps 5]
    BENCH_DB=... .venv/bin/python bench/review_cpu_bench.py --profile list   # cProfile of one list scenario
    BENCH_DB=... .venv/bin/python bench/review_cpu_bench.py --dump DIR      # write the pages' HTML (to diff)

Needs the database seeded by `bench/load_review.py seed 1000000 --fresh --overpriced 0.042`.
Settings: config.settings with DEBUG off (as production; locmem cache). A regulator is logged in
(`force_login`); every request goes through the whole middleware stack, view and template.
`time.process_time()` around `client.get` is this process's CPU only — PostgreSQL's own work is not
in it. Scenarios: the load test's 8 list filters × pages 1, 3 and 50 (`--reps` requests each,
after one warm-up pass), and 30 flag detail pages taken from those lists. Prints the median and
p95 CPU ms per page type and per list filter, with the 1-minute load average.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = os.environ.get("BENCH_DB", "jiupian_bench_load")

FILTERS = [  # as bench/load_review.py
    {},
    {"severity": "红★★★"},
    {"rule": "TIER_UNEVALUATED"},
    {"rule": "SAME_MAKER_SPEC", "sort": "-overcharge"},
    {"status": "pending", "sort": "name"},
    {"ratio_min": "5", "sort": "ratio"},
    {"rule": "TIER_UNEVALUATED", "severity": "红★★★"},
    {"q": "注射"},
]
PAGES = (1, 3, 50)


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _ms(values: list[float]) -> str:
    return (
        f"median {statistics.median(values) * 1000:5.1f} ms  p95 {_pct(values, 0.95) * 1000:5.1f} ms  n={len(values)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--profile", choices=["list", "detail"], help="cProfile 20 requests of one page type")
    parser.add_argument("--dump", type=Path, help="write each page's HTML here (csrf tokens blanked)")
    args = parser.parse_args()
    _django()
    from django.contrib.auth.hashers import make_password
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User
    from pricing.models import CorrectionRound

    rnd = CorrectionRound.objects.filter(flag_count__gt=0).order_by("-pk").first()
    if rnd is None:
        sys.exit("no seeded round: run `load_review.py seed SIZE` first")
    user, _created = User.objects.update_or_create(
        username="bench_cpu", defaults={"role": "regulator", "password": make_password("x")}
    )
    client = Client()
    client.force_login(user)
    list_url = reverse("pricing:flag_list", args=[rnd.pk])
    scenarios = [(i, {**f, "page": str(p)}) for i, f in enumerate(FILTERS) for p in PAGES]
    detail_ids: list[int] = []

    def get(url: str) -> tuple[str, float]:
        c0 = time.process_time()
        response = client.get(url)
        cpu = time.process_time() - c0
        assert response.status_code == 200, (url, response.status_code)
        return response.content.decode(), cpu

    for _i, query in scenarios:  # warm-up, and the detail ids (2 per list page)
        body, _cpu = get(f"{list_url}?{urllib.parse.urlencode(query)}")
        ids = re.findall(r'href="/pricing/flags/(\d+)/', body)
        detail_ids += [int(x) for x in ids[:1] + ids[-1:]]
    detail_ids = list(dict.fromkeys(detail_ids))[:30]
    detail_urls = [reverse("pricing:flag_detail", args=[i]) for i in detail_ids]
    for url in detail_urls[:5]:
        get(url)

    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
        token = re.compile(r'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')
        for n, (_i, query) in enumerate(scenarios):
            body, _cpu = get(f"{list_url}?{urllib.parse.urlencode(query)}")
            (args.dump / f"list_{n:02d}.html").write_text(token.sub(r"\1", body))
        for flag_id, url in zip(detail_ids, detail_urls, strict=True):
            body, _cpu = get(url)
            (args.dump / f"detail_{flag_id}.html").write_text(token.sub(r"\1", body))
        print(f"wrote {len(scenarios)} list and {len(detail_urls)} detail pages to {args.dump}")
        return

    if args.profile:
        urls = (
            [f"{list_url}?{urllib.parse.urlencode(q)}" for _i, q in scenarios[:: max(1, len(scenarios) // 20)]]
            if args.profile == "list"
            else detail_urls[:20]
        )
        profiler = cProfile.Profile()
        profiler.enable()
        for url in urls:
            client.get(url)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
        return

    load_before = os.getloadavg()[0]
    per_filter: dict[int, list[float]] = {i: [] for i in range(len(FILTERS))}
    for _rep in range(args.reps):
        for i, query in scenarios:
            per_filter[i].append(get(f"{list_url}?{urllib.parse.urlencode(query)}")[1])
    detail: list[float] = []
    for _rep in range(max(1, args.reps // 2)):
        for url in detail_urls:
            detail.append(get(url)[1])
    all_list = [c for values in per_filter.values() for c in values]
    print(f"round {rnd.pk}: {rnd.flag_count:,} flags; load average {load_before:.2f} → {os.getloadavg()[0]:.2f}")
    print(f"list   {_ms(all_list)}")
    print(f"detail {_ms(detail)}")
    for i, values in per_filter.items():
        label = "&".join(f"{k}={v}" for k, v in FILTERS[i].items()) or "(no filter)"
        print(f"  list {label:40s} {_ms(values)}")


if __name__ == "__main__":
    main()
