"""Detection benchmark: N generated listings → flags stored in PostgreSQL (time and peak RSS).

    .venv/bin/python bench/detect_bench.py 200000 1000000
    .venv/bin/python bench/detect_bench.py 1000000 --reference-share 0.34   # ≈ 600,000 reference prices

For each size: generate a catalogue (catalogue.demo_data), import it into the database
`jiupian_bench_pricing` (setup, not timed as detection), then run `run_detection` in a FRESH child
process and report its wall time and peak RSS (ru_maxrss of that process only), the largest peak RSS
of its forked children (the reference-price reader and the 四同 rule), and the peak of the summed PSS
of the process and its children (sampled every 0.1 s from /proc: pages shared copy-on-write are split
between them, so the sum is the memory they really hold).
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = os.environ.get("BENCH_DB", "jiupian_bench_pricing")
DB_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"


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


def setup(size: int, reference_share: float = 0.05) -> int:
    """Generate and import a catalogue of `size` listings; create a round. Returns the round id."""
    _ensure_db()
    _django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from catalogue import services
    from catalogue.demo_data import generate_catalogue, write_frame
    from catalogue.ingest.errors import DuplicateImport
    from catalogue.models import CatalogueVersion, ReferencePriceSet
    from pricing.engine.rounds import create_round

    t0 = time.perf_counter()
    files = generate_catalogue(size, seed=size, reference_share=reference_share)
    with tempfile.TemporaryDirectory() as tmp:
        cat_path = write_frame(files.catalogue, Path(tmp) / f"bench_{size}_{time.time_ns()}.csv")
        ref_path = write_frame(files.reference, Path(tmp) / f"bench_ref_{size}_{time.time_ns()}.csv")
        try:
            version = services.import_catalogue(cat_path, province=f"基准{size}", label="bench")
            what = "generate + import"
        except DuplicateImport:  # same seed, same file: detect again on the catalogue imported before
            version = CatalogueVersion.objects.filter(source_hash=services.file_sha256(cat_path), status="active").get()
            what = "generate; catalogue already imported"
        ref = (
            ReferencePriceSet.objects.filter(source_hash=services.file_sha256(ref_path), status="active")
            .order_by("-id")
            .first()
        ) or services.import_reference_prices(ref_path, label="bench")
    print(f"  setup ({what} {size:,} listings, {ref.row_count:,} reference prices): {time.perf_counter() - t0:.1f} s")
    rnd = create_round(catalogue_version=version, title=f"bench {size}", user=None, reference_set=ref, enqueue=False)
    return rnd.pk


def _pss_kib(pid: int) -> int:
    """Proportional set size: shared pages split between the processes sharing them (Linux only)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            return next((int(line.split()[1]) for line in fh if line.startswith("Pss:")), 0)
    except OSError:
        return 0


class _PssSampler(threading.Thread):
    """Every 0.1 s: PSS of this process plus its forked children; keeps the peak."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop, self.peak_kib = threading.Event(), 0

    def run(self) -> None:
        me = os.getpid()
        while not self.stop.wait(0.1):
            kids = []
            for task in os.listdir(f"/proc/{me}/task"):
                with contextlib.suppress(OSError), open(f"/proc/{me}/task/{task}/children") as fh:
                    kids += [int(k) for k in fh.read().split()]
            self.peak_kib = max(self.peak_kib, _pss_kib(me) + sum(_pss_kib(k) for k in kids))


def detect(round_id: int) -> None:
    _django()
    from pricing.engine.rounds import run_detection

    sampler = _PssSampler()
    if os.path.exists("/proc/self/smaps_rollup"):
        sampler.start()
    t0 = time.perf_counter()
    count = run_detection(round_id)
    elapsed = time.perf_counter() - t0
    sampler.stop.set()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # KiB → GiB
    # the forked children (pricing.engine.parallel), if any ran: the largest peak, shared pages included
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 / 1024
    print(
        f"RESULT flags={count} seconds={elapsed:.2f} peak_rss_gib={peak:.2f} child_peak_rss_gib={child:.2f} "
        f"peak_pss_sum_gib={sampler.peak_kib / 1024 / 1024:.2f}",
        flush=True,
    )


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--detect":
        detect(int(argv[1]))
        return
    share = 0.05
    if "--reference-share" in argv:
        at = argv.index("--reference-share")
        share = float(argv[at + 1])
        argv = argv[:at] + argv[at + 2 :]
    sizes = [int(a) for a in argv] or [200_000, 1_000_000]
    for size in sizes:
        print(f"== {size:,} listings", flush=True)
        round_id = setup(size, share)
        out = subprocess.run(
            [sys.executable, __file__, "--detect", str(round_id)], capture_output=True, text=True, check=True
        )
        print("  " + out.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
