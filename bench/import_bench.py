"""Catalogue import benchmark: generate N listings, import end to end (service call), time + peak RSS.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jiupian_bench_ingest \
        .venv/bin/python bench/import_bench.py --rows 200000 1000000 --format csv
    … --rows 200000 --format xlsx

Runs against whatever DATABASE_URL is set (migrate first). Each run prints one line; the generation
time is reported separately and is not part of the import time. Peak RSS is the process maximum
(resource.getrusage), measured in a fresh child process per run so runs do not mask each other.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def run_one(rows: int, fmt: str, seed: int, workdir: Path) -> dict:
    """Generate and import once, in this process; returns the measurements."""
    _setup_django()
    from catalogue import services
    from catalogue.demo_data import generate_catalogue, write_frame

    path = workdir / f"bench_{rows}_{seed}.{fmt}"
    started = time.perf_counter()
    if not path.exists():
        write_frame(generate_catalogue(rows, seed, code_prefix="B").catalogue, path, fmt)
    generated = time.perf_counter() - started
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    version = services.import_catalogue(path, province=f"BENCH-{time.time_ns()}", label=f"bench {rows} {fmt}")
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from django.db import connection

    return {
        "rows": rows,
        "format": fmt,
        "database": connection.vendor,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "generate_s": round(generated, 2),
        "import_s": round(elapsed, 2),
        "rows_per_s": int(rows / elapsed),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "rss_before_import_mib": round(rss_before / 1024, 1),
        "version": version.pk,
        "status": version.status,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000])
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "jiupian_bench")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.child:
        print(json.dumps(run_one(args.rows[0], args.format, args.seed, args.workdir), ensure_ascii=False))
        return
    for rows in args.rows:
        cmd = [sys.executable, __file__, "--child", "--rows", str(rows), "--format", args.format,
               "--seed", str(args.seed), "--workdir", str(args.workdir)]  # fmt: skip
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        result = json.loads(out)
        print(
            f"{result['rows']:>9,} rows {result['format']:<4} → {result['database']:<10} "
            f"import {result['import_s']:>6.2f} s ({result['rows_per_s']:,} rows/s), "
            f"peak RSS {result['peak_rss_mib']:,.0f} MiB, file {result['file_mb']} MB "
            f"(generated in {result['generate_s']} s)"
        )


if __name__ == "__main__":
    main()
