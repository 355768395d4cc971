"""Load test of the review workspace: N concurrent logged-in regulators browsing list/detail pages.

    flock /tmp/bench.lock .venv/bin/python bench/load_review.py seed 1000000 --fresh --overpriced 0.042  # once
    flock /tmp/bench.lock .venv/bin/python bench/load_review.py run --users 20 --seconds 60 --think 2

`seed` fills the PostgreSQL database `$BENCH_DB` (default `jiupian_bench_load`) with the
catalogue.demo_data generator, the real import and `run_detection`. `run` collects static files and
starts gunicorn on a loopback port against that database with the production settings
(`config.production`: DEBUG off, secure cookies, manifest static storage; the client sends
`X-Forwarded-Proto: https` as nginx would), logs N regulators in, lets each browse for a bounded time
(flag list with random filters, sorts and pages, then two flag details from the page), stops the
server and prints p50/p95/p99/max and errors per page type. `--think` adds a random pause between
a user's requests (0 = back-to-back, the default: a stress test, not a realistic reading pace).
Standard library only (threads + urllib), so the client costs little CPU next to the server.
Run it under `flock /tmp/bench.lock` so no other benchmark shares the machine.
"""

from __future__ import annotations

import argparse
import http.cookies
import os
import random
import re
import secrets
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
DB_NAME = os.environ.get("BENCH_DB", "jiupian_bench_load")
DB_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
PASSWORD = "bench-review-password-2026"


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = DB_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()


def _ensure_db(fresh: bool = False) -> None:
    import psycopg

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as con:
        if fresh:
            con.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        if not con.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            con.execute(f'CREATE DATABASE "{DB_NAME}"')


def seed(size: int, overpriced: float, fresh: bool) -> None:
    """Generate `size` listings (`overpriced` share of rows priced above their level), import
    them, run detection."""
    _ensure_db(fresh)
    _django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from catalogue import services
    from catalogue.demo_data import generate_catalogue, write_frame
    from pricing.engine.rounds import create_round, run_detection

    t0 = time.perf_counter()
    files = generate_catalogue(size, seed=size, overpriced_share=overpriced)
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

    with connection.cursor() as cursor:  # what autovacuum does to freshly loaded tables, sooner
        cursor.execute("VACUUM ANALYZE")


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

    rnd = CorrectionRound.objects.filter(flag_count__gt=0).order_by("-pk").first()  # the latest seeded
    if rnd is None or not rnd.flag_count:
        sys.exit("no seeded round: run `load_review.py seed SIZE` first")
    return rnd.pk, rnd.flag_count, Listing.objects.filter(version_id=rnd.catalogue_version_id).count()


class _BehindTLSProxy(urllib.request.BaseHandler):
    """What nginx does in production: TLS is terminated in front of gunicorn, so requests arrive
    with `X-Forwarded-Proto: https` and the (Secure, __Host-) cookies travel. The standard cookie
    jar refuses Secure cookies over http://, so this keeps them itself."""

    handler_order = 400

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def http_request(self, request: urllib.request.Request) -> urllib.request.Request:
        request.add_unredirected_header("X-Forwarded-Proto", "https")
        if self.cookies:
            request.add_unredirected_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        return request

    def http_response(self, request: urllib.request.Request, response):
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = http.cookies.SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return response


class Session:
    """A logged-in browser: its own cookies + urllib opener."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.proxy = _BehindTLSProxy()
        self.opener = urllib.request.build_opener(self.proxy)

    def get(self, path: str) -> tuple[int, str, float]:
        """(status, body, seconds); status 0 for a connection error or timeout."""
        t0 = time.perf_counter()
        try:
            with self.opener.open(self.base + path, timeout=30) as resp:
                body = resp.read().decode("utf-8", "replace")
                status = resp.status
        except urllib.error.HTTPError as exc:
            body, status = "", exc.code
        except OSError:
            body, status = "", 0
        return status, body, time.perf_counter() - t0

    def login(self, username: str) -> None:
        _status, body, _ = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        data = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token})
        request = urllib.request.Request(self.base + "/accounts/login/", data=data.encode(), method="POST")
        # the CSRF check of an https request wants a same-origin Referer
        request.add_header("Referer", self.base.replace("http://", "https://") + "/accounts/login/")
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


def browse(
    session: Session, round_id: int, until: float, samples: list[tuple[str, float, int]], lock, think: float = 0.0
) -> None:
    rng = random.Random()

    def pause() -> None:
        if think:
            time.sleep(rng.uniform(0, 2 * think))

    while time.time() < until:
        pause()
        query = dict(rng.choice(FILTERS))
        query["page"] = str(rng.choice([1, 1, 1, 2, 3, 5, 10, 50]))
        status, body, seconds = session.get(f"/pricing/rounds/{round_id}/flags/?{urllib.parse.urlencode(query)}")
        with lock:
            samples.append(("list", seconds, status))
        ids = re.findall(r'href="/pricing/flags/(\d+)/', body)
        for flag_id in rng.sample(ids, min(2, len(ids))):
            pause()
            if time.time() >= until:
                break
            status, _body, seconds = session.get(f"/pricing/flags/{flag_id}/")
            with lock:
                samples.append(("detail", seconds, status))


def _cpu_seconds(match: str) -> float:
    """utime + stime of every process whose command line contains `match` (Linux /proc), so the
    server's cost per request can be told apart from time spent waiting for a shared CPU."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if match not in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace"):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


def run(users: int, seconds: int, port: int, workers: int, threads: int, think: float) -> None:
    names = _users(users)
    round_id, flag_count, listing_count = _round_id()
    env = dict(
        os.environ,
        DATABASE_URL=DB_URL,
        DJANGO_SETTINGS_MODULE="config.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DB_CONN_MAX_AGE="600",
        LOG_LEVEL="WARNING",
    )
    env.pop("CELERY_BROKER_URL", None)
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi:application", "-b", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--threads", str(threads), "--timeout", "120", "--log-level", "warning"]
    print(" ".join(command[1:]), flush=True)
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        probe = urllib.request.build_opener(_BehindTLSProxy())  # plain http would be redirected to https
        for _ in range(100):
            try:
                probe.open(base + "/healthz", timeout=2).read()
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
        clients = [threading.Thread(target=browse, args=(s, round_id, until, samples, lock, think)) for s in sessions]
        load_before = os.getloadavg()[0]
        cpu0 = _cpu_seconds(f"127.0.0.1:{port}"), _cpu_seconds(f"postgres {DB_NAME} ")
        t0 = time.perf_counter()
        for t in clients:
            t.start()
        for t in clients:
            t.join()
        wall = time.perf_counter() - t0
        cpu1 = _cpu_seconds(f"127.0.0.1:{port}"), _cpu_seconds(f"postgres {DB_NAME} ")
        load_after = os.getloadavg()[0]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(
        f"round {round_id}: {flag_count:,} flags over {listing_count:,} listings; {users} users, {wall:.0f} s, "
        f"think {think:g} s"
    )
    n = max(1, len(samples))
    app_ms, db_ms = (cpu1[0] - cpu0[0]) / n * 1000, (cpu1[1] - cpu0[1]) / n * 1000
    print(
        f"server CPU per request: gunicorn {app_ms:.0f} ms + PostgreSQL {db_ms:.0f} ms; "
        f"1-min load average {load_before:.1f} before, {load_after:.1f} after (2 cores, shared)"
    )
    for kind in ("list", "detail", "all"):
        rows = [s for s in samples if kind == "all" or s[0] == kind]
        times = [s[1] for s in rows]
        errors = sum(1 for s in rows if s[2] != 200)
        if not times:
            continue
        print(
            f"{kind:6s} n={len(times):5d} p50={_pct(times, 50):6.0f} ms p95={_pct(times, 95):6.0f} ms "
            f"p99={_pct(times, 99):6.0f} ms max={max(times) * 1000:6.0f} ms "
            f"mean={statistics.mean(times) * 1000:6.0f} ms errors={errors} "
            f"rps={len(times) / wall:5.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_seed = sub.add_parser("seed")
    p_seed.add_argument("size", type=int)
    p_seed.add_argument(
        "--overpriced", type=float, default=0.03, help="share of rows priced 5 %%–20× above level (generator default)"
    )
    p_seed.add_argument("--fresh", action="store_true", help=f"drop and recreate the database {DB_NAME} first")
    p_run = sub.add_parser("run")
    p_run.add_argument("--users", type=int, default=20)
    p_run.add_argument("--seconds", type=int, default=60)
    p_run.add_argument("--port", type=int, default=8765)
    p_run.add_argument("--workers", type=int, default=3, help="gunicorn workers (docker-compose: 3)")
    p_run.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    p_run.add_argument("--think", type=float, default=0.0, help="mean pause between a user's requests, s")
    args = parser.parse_args()
    if args.cmd == "seed":
        seed(args.size, args.overpriced, args.fresh)
    else:
        _django()
        run(args.users, args.seconds, args.port, args.workers, args.threads, args.think)


if __name__ == "__main__":
    main()
