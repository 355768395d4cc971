"""The command-line path against the baseline script, on the same generated files in one run.

    .venv/bin/python bench/cli_path_bench.py --size 200000 [--backends postgresql sqlite] \
        [--peer-python VENV/bin/python] --peer-script PATH_TO/peer_duckdb.py   (baseline kept outside the repo)

1. `manage.py generate_catalogue` writes a catalogue CSV and its reference-price CSV (not timed).
2. The baseline (a pandas + DuckDB script that computes the same flags from the two files, no database)
   is run from its own virtual environment (`python3.11 -m venv /work/peerenv &&
   /work/peerenv/bin/pip install duckdb pandas`); its wall time is the reference.
3. Per backend, on a FRESH migrated database (PostgreSQL `BENCH_DB`, default jiupian_b12_cli; SQLite a
   temporary file), the three commands a user runs are timed as separate processes, start-up included:
   `import_catalogue`, `import_reference_prices`, `detect`. The ratio (sum / baseline) is printed.

The project is byte-compiled first (as the production image is at build time), so no command
times compiling its modules. Each timing line carries the 1-minute load average, since the machine is
shared, the command's own CPU time (`cpu`: user + system of that process and its children; the database
server's CPU is not included), and the whole machine's busy CPU seconds while it ran (`machine`, from
/proc/stat: our processes and the database server together; meaningful on an otherwise idle machine).
The START-UP line gives the three commands' start-up alone (`COMMAND --help`: Python, Django and the
command's imports, median of three runs). `--repeat N` runs baseline + path + baseline N times on the same
files and prints the median ratio per backend (SUMMARY lines): single runs spread widely on a shared machine.
`--md5` prints an md5 of every stored flag column except id/round/updated_at, in (rule, listing code)
order, to check that an optimisation changed no stored value (compare it between runs on the same backend).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ROOT = "postgres://postgres@127.0.0.1:5432"


def _load() -> float:
    return os.getloadavg()[0]


def _env(database_url: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("CELERY_BROKER_URL", None)
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy so far (every core and process, the database server
    included), from Linux's /proc/stat; 0 where there is none. Meaningful on an otherwise idle machine."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0.0
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait


CPU: dict[str, float] = {}  # last command's own CPU seconds (the database server's work is not included)
MACHINE: dict[str, float] = {}  # the whole machine's busy CPU seconds during the last command


def _manage(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Run one manage.py command; returns (wall seconds, its last stdout line)."""
    t0, cpu0, busy0 = time.perf_counter(), _children_cpu(), _machine_busy()
    out = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, capture_output=True, text=True, cwd=ROOT
    )
    elapsed = time.perf_counter() - t0
    CPU["last"] = _children_cpu() - cpu0
    MACHINE["last"] = _machine_busy() - busy0
    if out.returncode != 0:
        raise SystemExit(f"manage.py {args[0]} failed:\n{out.stdout}\n{out.stderr}")
    return elapsed, out.stdout.strip().splitlines()[-1]


def _fresh_postgres(name: str) -> str:
    import psycopg

    with psycopg.connect(f"{PG_ROOT}/postgres", autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_ROOT}/{name}"


def _flags_md5(env: dict[str, str], round_id: str) -> str:
    """md5 over every stored flag column in (rule, listing code) order, ids replaced by what they
    point at (listing/benchmark codes, manufacturer name, reference row number): PostgreSQL's
    parallel COPY hands out listing ids in a different order on every import."""
    code = (
        "import django, hashlib; django.setup()\n"
        "from pricing.models import Flag\n"
        "swap = {'listing_id': 'listing__listing_code', 'manufacturer_id': 'manufacturer__name_norm',\n"
        "        'benchmark_listing_id': 'benchmark_listing__listing_code',\n"
        "        'benchmark_reference_id': 'benchmark_reference__row_number'}\n"
        "fields = [swap.get(f.attname, f.attname) for f in Flag._meta.concrete_fields\n"
        "          if f.attname not in ('id', 'round_id', 'updated_at')]\n"
        f"qs = Flag.objects.filter(round_id={int(round_id)}).order_by('rule_code', 'listing__listing_code')\n"
        "h = hashlib.md5()\n"
        "for row in qs.values_list(*fields).iterator(chunk_size=20000):\n"
        "    h.update(repr(row).encode())\n"
        "print(qs.count(), h.hexdigest())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT, check=True)
    return out.stdout.strip()


def run_baseline(python: str, script: Path, catalogue: Path, reference: Path, work: Path) -> float:
    load = _load()
    t0, cpu0, busy0 = time.perf_counter(), _children_cpu(), _machine_busy()
    out = subprocess.run(
        [python, str(script), str(catalogue), str(reference), str(work / "peer_flags.csv")],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - t0
    cpu = _children_cpu() - cpu0
    busy = _machine_busy() - busy0
    if out.returncode != 0:
        raise SystemExit(f"baseline failed:\n{out.stderr}")
    detail = out.stderr.strip().splitlines()[-1]
    print(
        f"baseline  {elapsed:6.2f} s  cpu {cpu:5.2f} s  machine {busy:5.2f} s  (load {load:.2f})  {detail}", flush=True
    )
    return elapsed


def startup_seconds(env: dict[str, str]) -> float:
    """The three commands' start-up (`manage.py COMMAND --help`: Python, Django set-up, the command's
    imports, no database work), median of three runs each, summed."""
    total = 0.0
    for command in ("import_catalogue", "import_reference_prices", "detect"):
        runs = sorted(_manage([command, "--help"], env)[0] for _ in range(3))
        total += runs[1]
        print(f"start-up  {command:24s} {runs[1]:6.2f} s  (median of 3)", flush=True)
    return total


def _print_step(backend: str, name: str, seconds: float, load: float, extra: str = "") -> None:
    """One command's timing line: wall, its own CPU, the whole machine's CPU (the last `_manage` call)."""
    print(
        f"{backend:10s} {name:24s} {seconds:6.2f} s  cpu {CPU['last']:5.2f} s  machine {MACHINE['last']:5.2f} s"
        f"  (load {load:.2f}){extra}",
        flush=True,
    )


def run_cli(backend: str, catalogue: Path, reference: Path, work: Path, md5: bool) -> float:
    if backend == "postgresql":
        url = _fresh_postgres(os.environ.get("BENCH_DB", "jiupian_b12_cli"))
    else:
        db = work / "cli_bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{db}"
    env = _env(url)
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)
    total = 0.0
    steps = [
        ("import_catalogue", ["import_catalogue", str(catalogue), "--label", "bench"]),
        ("import_reference_prices", ["import_reference_prices", str(reference), "--label", "bench"]),
    ]
    ids: dict[str, str] = {}
    for name, args in steps:
        load = _load()
        seconds, last = _manage(args, env)
        ids[name] = last
        total += seconds
        _print_step(backend, name, seconds, load)
    load = _load()
    seconds, round_id = _manage(
        ["detect", ids["import_catalogue"], "--reference-set", ids["import_reference_prices"]], env
    )
    total += seconds
    _print_step(backend, "detect", seconds, load, f"  round {round_id}")
    if md5:
        print(f"{backend:10s} flags md5: {_flags_md5(env, round_id)}", flush=True)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=200_000)
    parser.add_argument("--reference-share", default="0.34", help="≈ 120,000 reference prices per 200,000 listings")
    parser.add_argument("--backends", nargs="+", default=["postgresql", "sqlite"], choices=["postgresql", "sqlite"])
    parser.add_argument("--peer-python", default="/work/peerenv/bin/python")
    parser.add_argument(
        "--peer-script",
        type=Path,
        required=True,
        help="the pandas + DuckDB baseline script (not part of this repository)",
    )
    parser.add_argument("--md5", action="store_true", help="print an md5 of the stored flags")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="repetitions of baseline + path + baseline on the same files; the SUMMARY lines give the median "
        "ratio (single runs on a shared 2-core machine spread by up to ±20%%)",
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    with tempfile.TemporaryDirectory(prefix="cli_bench_") as tmp:
        work = Path(tmp)
        catalogue, reference = work / "catalogue.csv", work / "reference_prices.csv"
        t0 = time.perf_counter()
        _manage(
            [
                "generate_catalogue",
                "--size",
                str(args.size),
                "--seed",
                str(args.seed),
                "--output",
                str(catalogue),
                "--reference-output",
                str(reference),
                "--reference-share",
                args.reference_share,
            ],
            _env(os.environ.get("DATABASE_URL", f"sqlite:///{work / 'unused.sqlite3'}")),
        )
        # byte-compiled as the production image is (Dockerfile): the commands do not time compiling
        # the project's modules, whatever PYTHONDONTWRITEBYTECODE says
        compile_args = ["-m", "compileall", "-q", "-x", r"/(tests|bench|\.venv)/", str(ROOT)]
        subprocess.run([sys.executable, *compile_args], check=True)
        refs = sum(1 for _ in reference.open(encoding="utf-8-sig")) - 1
        print(f"generated {args.size:,} listings, {refs:,} reference prices ({time.perf_counter() - t0:.1f} s)")
        ratios: dict[str, list[float]] = {backend: [] for backend in args.backends}
        for repetition in range(1, args.repeat + 1):
            if args.repeat > 1:
                print(f"--- repetition {repetition} of {args.repeat}", flush=True)
            baseline = run_baseline(args.peer_python, args.peer_script, catalogue, reference, work)
            results = {}
            for backend in args.backends:
                results[backend] = run_cli(backend, catalogue, reference, work, args.md5)
                ratio = results[backend] / baseline
                print(f"{backend:10s} total {results[backend]:6.2f} s  ratio {ratio:.1f}x baseline")
            baseline_after = run_baseline(args.peer_python, args.peer_script, catalogue, reference, work)
            mean = (baseline + baseline_after) / 2
            for backend, total in results.items():
                ratios[backend].append(total / mean)
                print(
                    f"RESULT {backend} cli {total:.2f} s  baseline {baseline:.2f}/{baseline_after:.2f} s  "
                    f"ratio {total / mean:.2f}x (against the mean baseline)",
                    flush=True,
                )
        startup = startup_seconds(_env(f"sqlite:///{work / 'unused.sqlite3'}"))
        print(f"START-UP the three commands alone {startup:.2f} s = {startup / mean:.2f}x the last mean baseline")
        if args.repeat > 1:
            for backend, values in ratios.items():
                print(
                    f"SUMMARY {backend} median ratio {statistics.median(values):.2f}x over {len(values)} repetitions "
                    f"(min {min(values):.2f}x, max {max(values):.2f}x)"
                )


if __name__ == "__main__":
    main()
