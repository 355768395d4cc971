"""Load test of the review workspace: N concurrent logged-in regulators browsing list/detail pages.

    .venv/bin/python bench/load_review.py seed 1000000          # generate + import + detect (once)
    .venv/bin/python bench/load_review.py run --users 20 --seconds 60

`seed` fills the PostgreSQL database `jiupian_bench_review` (catalogue.demo_data generator, the real
import and `run_detection`). `run` starts gunicorn on a spare loopback port against that database,
logs N regulators in, lets each browse for a bounded time (flag list with random filters, sorts and
pages, then two flag details from the page), stops the server and prints p50/p95/p99 and errors.
Standard library only (threads + urllib), so the client costs little CPU next to the server.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = os.environ.get("BENCH_DB", "jiupian_bench_review")
DB_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
PASSWORD = "bench-review-password-2026"


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = DB_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()


def _ensure_db() -> None:
    import psycopg

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as con:
        if not con.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            con.execute(f'CREATE DATABASE "{DB_NAME}"')


def seed(size: int) -> None:
    """Generate `size` listings, import them, run detection; create the bench users."""
    _ensure_db()
    _django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from catalogue import services
    from catalogue.demo_data import generate_catalogue, write_frame
    from pricing.services import create_round, run_detection

    t0 = time.perf_counter()
    files = generate_catalogue(size, seed=size)
    with tempfile.TemporaryDirectory() as tmp:
        cat_path = write_frame(files.catalogue, Path(tmp) / f"review_bench_{size}_{time.time_ns()}.csv")
        ref_path = write_frame(files.reference, Path(tmp) / f"review_bench_ref_{size}_{time.time_ns()}.csv")
        version = services.import_catalogue(cat_path, province=f"基准{size}", label="review bench")
        ref = services.import_reference_prices(ref_path, label="review bench")
    print(f"import {size:,} listings: {time.perf_counter() - t0:.0f} s", flush=True)
    rnd = create_round(
        catalogue_version=version, title=f"压测批次 {size:,}", user=None, reference_set=ref, enqueue=False
    )
    t0 = time.perf_counter()
    flags = run_detection(rnd.pk)
    print(f"detection: {flags:,} flags in {time.perf_counter() - t0:.0f} s (round {rnd.pk})", flush=True)
    _analyze()


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _users(n: int) -> list[str]:
    _django()
    from django.contrib.auth.hashers import make_password

    from accounts.models import User

    hashed = make_password(PASSWORD)
    names = [f"bench_reg{i:02d}" for i in range(n)]
    for name in names:
        User.objects.update_or_create(username=name, defaults={"role": "regulator", "password": hashed})
    return names


def _round_id() -> tuple[int, int, int]:
    from catalogue.models import Listing
    from pricing.models import CorrectionRound

    rnd = CorrectionRound.objects.order_by("-flag_count").first()
    if rnd is None or not rnd.flag_count:
        sys.exit("no seeded round: run `load_review.py seed SIZE` first")
    return rnd.pk, rnd.flag_count, Listing.objects.filter(version_id=rnd.catalogue_version_id).count()


class Session:
    """A logged-in browser: cookie jar + urllib opener."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str, float]:
        t0 = time.perf_counter()
        try:
            with self.opener.open(self.base + path, timeout=30) as resp:
                body = resp.read().decode("utf-8", "replace")
                status = resp.status
        except urllib.error.HTTPError as exc:
            body, status = "", exc.code
        return status, body, time.perf_counter() - t0

    def login(self, username: str) -> None:
        _status, body, _ = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        data = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token})
        request = urllib.request.Request(self.base + "/accounts/login/", data=data.encode(), method="POST")
        with self.opener.open(request, timeout=30) as resp:
            resp.read()
        status, body, _ = self.get("/pricing/rounds/")
        if status != 200 or "纠偏批次" not in body:
            raise RuntimeError(f"login failed for {username}: {status}")


FILTERS = [
    {},
    {"severity": "红★★★"},
    {"rule": "TIER_UNEVALUATED"},
    {"rule": "SAME_MAKER_SPEC", "sort": "-overcharge"},
    {"status": "pending", "sort": "name"},
    {"ratio_min": "5", "sort": "ratio"},
    {"rule": "TIER_UNEVALUATED", "severity": "红★★★"},
    {"q": "注射"},
]


def browse(session: Session, round_id: int, until: float, samples: list[tuple[str, float, int]], lock) -> None:
    rng = random.Random()
    while time.time() < until:
        query = dict(rng.choice(FILTERS))
        query["page"] = str(rng.choice([1, 1, 1, 2, 3, 5, 10, 50]))
        status, body, seconds = session.get(f"/pricing/rounds/{round_id}/flags/?{urllib.parse.urlencode(query)}")
        with lock:
            samples.append(("list", seconds, status))
        ids = re.findall(r'href="/pricing/flags/(\d+)/', body)
        for flag_id in rng.sample(ids, min(2, len(ids))):
            if time.time() >= until:
                break
            status, _body, seconds = session.get(f"/pricing/flags/{flag_id}/")
            with lock:
                samples.append(("detail", seconds, status))


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


def run(users: int, seconds: int, port: int, workers: int) -> None:
    names = _users(users)
    round_id, flag_count, listing_count = _round_id()
    env = dict(os.environ, DATABASE_URL=DB_URL, DJANGO_DEBUG="false", DB_CONN_MAX_AGE="60", LOG_LEVEL="WARNING")
    env.pop("CELERY_BROKER_URL", None)
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--threads",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        sessions = []
        for name in names:
            s = Session(base)
            s.login(name)
            sessions.append(s)
        # warm-up: one pass per session, not measured
        warm: list = []
        lock = threading.Lock()
        for s in sessions[:4]:
            browse(s, round_id, time.time() + 2, warm, lock)
        samples: list[tuple[str, float, int]] = []
        until = time.time() + seconds
        threads = [threading.Thread(target=browse, args=(s, round_id, until, samples, lock)) for s in sessions]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(f"round {round_id}: {flag_count:,} flags over {listing_count:,} listings; {users} users, {wall:.0f} s")
    for kind in ("list", "detail", "all"):
        rows = [s for s in samples if kind == "all" or s[0] == kind]
        times = [s[1] for s in rows]
        errors = sum(1 for s in rows if s[2] != 200)
        if not times:
            continue
        print(
            f"{kind:6s} n={len(times):5d} p50={_pct(times, 50):6.0f} ms p95={_pct(times, 95):6.0f} ms "
            f"p99={_pct(times, 99):6.0f} ms mean={statistics.mean(times) * 1000:6.0f} ms errors={errors} "
            f"rps={len(times) / wall:5.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_seed = sub.add_parser("seed")
    p_seed.add_argument("size", type=int)
    p_run = sub.add_parser("run")
    p_run.add_argument("--users", type=int, default=20)
    p_run.add_argument("--seconds", type=int, default=60)
    p_run.add_argument("--port", type=int, default=8765)
    p_run.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    if args.cmd == "seed":
        seed(args.size)
    else:
        _django()
        run(args.users, args.seconds, args.port, args.workers)


if __name__ == "__main__":
    main()
