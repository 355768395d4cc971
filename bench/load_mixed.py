"""Mixed load during an import (SECURITY.md #25, scaled to the 2-core machine; issue 11 item 6).

    .venv/bin/python bench/load_mixed.py seed            # once: 20,000-listing round, published, users
    .venv/bin/python bench/load_mixed.py run --reviewers 40 --makers 100 --seconds 60 --think 2 --import-rows 200000

`seed` fills `$BENCH_DB` (default `jiupian_w11`) with a detected round whose flags are confirmed and
published, 40 regulators and one manufacturer user for each of up to 100 companies with flags. `run`
starts gunicorn (config.production, as behind nginx) and a Celery worker on Redis (`$BENCH_BROKER`),
uploads a generated catalogue through the API (the import runs on the worker meanwhile), and lets the
reviewers browse the flag list and details while each manufacturer files one appeal draft (a write)
and then reads its own flags and appeal pages. It prints p50/p95/max and 5xx per page type, checks
that every accepted appeal is in the database once (no lost writes) and that the import finished
ACTIVE with every row. Standard library client (threads + urllib), reused from load_review.py.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DB", "jiupian_w11")

from bench import load_review as lr  # noqa: E402

BROKER = os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/11")


def seed(size: int, makers: int, reviewers: int) -> None:
    lr._ensure_db()
    lr._django()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db.models import Count
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from accounts.models import User
    from catalogue import services
    from catalogue.demo_data import generate_catalogue, write_frame
    from pricing.engine.rounds import create_round, run_detection
    from pricing.models import Flag, FlagStatus, RoundStatus

    files = generate_catalogue(size, seed=size + 7)
    with tempfile.TemporaryDirectory() as tmp:
        version = services.import_catalogue(write_frame(files.catalogue, Path(tmp) / f"mixed_{time.time_ns()}.csv"),
                                            province="压测省", label="mixed load")  # fmt: skip
    rnd = create_round(catalogue_version=version, title="混合压测批次", user=None, enqueue=False)
    run_detection(rnd.pk)
    rnd.refresh_from_db()
    Flag.objects.filter(round=rnd).update(status=FlagStatus.CONFIRMED)
    rnd.status, rnd.published_at = RoundStatus.PUBLISHED, timezone.now()
    rnd.appeal_deadline = timezone.now() + timezone.timedelta(days=30)
    rnd.save()
    hashed = make_password(lr.PASSWORD)
    for i in range(reviewers):
        User.objects.update_or_create(username=f"bench_reg{i:02d}", defaults={"role": "regulator", "password": hashed})
    companies = Flag.objects.filter(round=rnd).values("manufacturer_id").annotate(n=Count("id")).order_by("-n")[:makers]
    for i, row in enumerate(companies):
        User.objects.update_or_create(
            username=f"bench_maker{i:03d}",
            defaults={"role": "manufacturer", "company_id": row["manufacturer_id"], "password": hashed},
        )
    User.objects.update_or_create(username="bench_admin", defaults={"role": "admin", "password": hashed})
    print(f"round {rnd.pk}: {rnd.flag_count} flags, {len(companies)} manufacturer users", flush=True)


class Maker(lr.Session):
    def login(self, username: str) -> None:
        _status, body, _ = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        data = f"username={username}&password={lr.PASSWORD}&csrfmiddlewaretoken={token}".encode()
        request = urllib.request.Request(self.base + "/accounts/login/", data=data, method="POST")
        request.add_header("Referer", self.base.replace("http://", "https://") + "/accounts/login/")
        with self.opener.open(request, timeout=30) as resp:
            resp.read()
        if "__Host-sessionid" not in self.proxy.cookies:
            raise RuntimeError(f"login failed for {username}")

    def post_json(self, path: str, body: dict) -> tuple[int, dict, float]:
        request = urllib.request.Request(self.base + path, data=json.dumps(body).encode(), method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("X-CSRFToken", self.proxy.cookies.get("__Host-csrftoken", ""))
        request.add_header("Referer", self.base.replace("http://", "https://") + "/")
        t0 = time.perf_counter()
        try:
            with self.opener.open(request, timeout=60) as resp:
                return resp.status, json.loads(resp.read() or b"{}"), time.perf_counter() - t0
        except urllib.error.HTTPError as exc:
            return exc.code, {}, time.perf_counter() - t0
        except OSError:
            return 0, {}, time.perf_counter() - t0

    def upload(self, path: str, file: Path) -> tuple[int, dict]:
        boundary = secrets.token_hex(8)
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="province"\r\n\r\n压测省二\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file.name}"\r\n'
                "Content-Type: text/csv\r\n\r\n").encode()  # fmt: skip
        data = head + file.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(self.base + path, data=data, method="POST")
        request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
        request.add_header("X-CSRFToken", self.proxy.cookies.get("__Host-csrftoken", ""))
        request.add_header("Referer", self.base.replace("http://", "https://") + "/")
        with self.opener.open(request, timeout=300) as resp:
            return resp.status, json.loads(resp.read())


def maker_loop(session: Maker, round_id: int, until: float, samples: list, lock, think: float, filed: list) -> None:
    rng = random.Random()
    status, body, seconds = session.get(f"/api/appeals/flags/?round={round_id}")
    with lock:
        samples.append(("maker_api", seconds, status))
    flags = [row["id"] for row in json.loads(body or "{}").get("results", [])] if status == 200 else []
    if flags:
        status, created, seconds = session.post_json(
            "/api/appeals/appeals/", {"round": round_id, "flags": flags[:1], "grounds": "cost", "statement": "压测申诉"}
        )
        with lock:
            samples.append(("appeal_write", seconds, status))
            if status == 201:
                filed.append(created["id"])
    while time.time() < until:
        time.sleep(rng.uniform(0, 2 * think))
        path = rng.choice(["/appeals/"] + [f"/appeals/flags/{f}/" for f in flags[:3]])
        status, _body, seconds = session.get(path)
        with lock:
            samples.append(("maker_page", seconds, status))


def run(reviewers: int, makers: int, seconds: int, think: float, import_rows: int, port: int) -> None:
    lr._django()
    from accounts.models import User
    from appeals.models import Appeal
    from catalogue.demo_data import generate_catalogue, write_frame
    from catalogue.models import CatalogueVersion
    from pricing.models import CorrectionRound

    rnd = CorrectionRound.objects.filter(title="混合压测批次").order_by("-pk").first()
    maker_names = sorted(User.objects.filter(username__startswith="bench_maker").values_list("username", flat=True))
    maker_names = maker_names[:makers]
    tmp = Path(tempfile.mkdtemp())
    big = write_frame(generate_catalogue(import_rows, seed=int(time.time())).catalogue, tmp / "并发导入.csv")
    env = dict(os.environ, DATABASE_URL=lr.DB_URL, DJANGO_SETTINGS_MODULE="config.production",
               DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_ALLOWED_HOSTS="127.0.0.1", DB_CONN_MAX_AGE="600",
               LOG_LEVEL="WARNING", CELERY_BROKER_URL=BROKER, PRIVATE_ROOT=str(tmp / "private"),
               VAR_DIR=str(tmp / "var"))  # fmt: skip
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    bin_ = ROOT / ".venv" / "bin"
    server = subprocess.Popen([str(bin_ / "gunicorn"), "config.wsgi:application", "-b", f"127.0.0.1:{port}",
                               "--workers", "3", "--threads", "4", "--timeout", "300", "--log-level", "warning"],
                              cwd=ROOT, env=env)  # fmt: skip
    worker_cmd = [str(bin_ / "celery"), "-A", "config", "worker", "-P", "solo", "-l", "warning", "--without-gossip",
                  "--without-mingle", "--without-heartbeat"]  # fmt: skip
    worker = subprocess.Popen(worker_cmd, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        probe = urllib.request.build_opener(lr._BehindTLSProxy())
        for _ in range(150):
            try:
                probe.open(base + "/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        admin = Maker(base)
        admin.login("bench_admin")
        reviewers_s = []
        for i in range(reviewers):
            s = lr.Session(base)
            s.login(f"bench_reg{i:02d}")
            reviewers_s.append(s)
        makers_s = []
        for name in maker_names:
            s = Maker(base)
            s.login(name)
            makers_s.append(s)
        samples: list = []
        filed: list[int] = []
        lock = threading.Lock()
        t0 = time.perf_counter()
        status, version = admin.upload("/api/catalogue/versions/upload/", big)
        print(f"upload of {import_rows:,} rows: HTTP {status} in {time.perf_counter() - t0:.1f} s", flush=True)
        until = time.time() + seconds
        threads = [
            threading.Thread(target=lr.browse, args=(s, rnd.pk, until, samples, lock, think)) for s in reviewers_s
        ]
        threads += [threading.Thread(target=maker_loop, args=(s, rnd.pk, until, samples, lock, think, filed))
                    for s in makers_s]  # fmt: skip
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        deadline = time.time() + 600
        while CatalogueVersion.objects.get(pk=version["id"]).status in ("pending", "importing"):
            if time.time() > deadline:
                break
            time.sleep(1)
        imported = CatalogueVersion.objects.get(pk=version["id"])
        done_at = imported.activated_at
        import_seconds = (done_at - imported.uploaded_at).total_seconds() if done_at else None
    finally:
        for proc in (server, worker):
            proc.send_signal(signal.SIGTERM)
        for proc in (server, worker):
            proc.wait(timeout=60)
    print(f"{reviewers} reviewers + {len(makers_s)} manufacturers, {wall:.0f} s, think {think:g} s; "
          f"1-min load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (2 cores, shared)")  # fmt: skip
    print(f"import: {imported.status}, {imported.row_count:,} rows, upload→active {import_seconds} s")
    stored = Appeal.objects.filter(pk__in=filed).count()
    print(f"appeal drafts: {len(filed)} accepted (201), {stored} in the database (lost writes: {len(filed) - stored})")
    for kind in ("list", "detail", "maker_api", "appeal_write", "maker_page", "all"):
        rows = [s for s in samples if kind == "all" or s[0] == kind]
        if not rows:
            continue
        times = [s[1] for s in rows]
        errors = sum(1 for s in rows if s[2] >= 500 or s[2] == 0)
        print(f"{kind:12s} n={len(times):5d} p50={lr._pct(times, 50):6.0f} ms p95={lr._pct(times, 95):6.0f} ms "
              f"max={max(times) * 1000:6.0f} ms 5xx/conn errors={errors} other non-2xx="
              f"{sum(1 for s in rows if 300 <= s[2] < 500)}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_seed = sub.add_parser("seed")
    p_seed.add_argument("--size", type=int, default=20_000)
    p_seed.add_argument("--makers", type=int, default=100)
    p_seed.add_argument("--reviewers", type=int, default=40)
    p_run = sub.add_parser("run")
    p_run.add_argument("--reviewers", type=int, default=40)
    p_run.add_argument("--makers", type=int, default=100)
    p_run.add_argument("--seconds", type=int, default=60)
    p_run.add_argument("--think", type=float, default=2.0)
    p_run.add_argument("--import-rows", type=int, default=200_000)
    p_run.add_argument("--port", type=int, default=8613)
    args = parser.parse_args()
    if args.cmd == "seed":
        seed(args.size, args.makers, args.reviewers)
    else:
        run(args.reviewers, args.makers, args.seconds, args.think, args.import_rows, args.port)


if __name__ == "__main__":
    main()
