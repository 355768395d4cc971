"""Dialect import benchmark (FORMATS.md §5): the same generated catalogue as a §1 file and as a
provincial export, imported end to end; the dialect must stay within 1.5× of the §1 time.

    nice -n 10 env DATABASE_URL=postgres://postgres@127.0.0.1:5432/jiupian_w10 \
        .venv/bin/python bench/dialect_bench.py --rows 200000 --repeat 3

The dialect file is GB18030 with a title row, header synonyms, one combined 规格包装 column
(`10mg×7片×2板/盒` style, counts factorised), 质量层次 / 是否集采中选 / 挂网状态 synonyms, `2 ML : 30 MG`
spec noise and `¥1,234.50` prices. Each import runs in a fresh child process (peak RSS per run);
runs alternate §1 / dialect so a change in machine load hits both. Also prints the load average.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent

TIER_SYNONYMS = {"过评": "过评药品", "未过评": "非过评", "原研": "原研药品", "参比制剂": "参比药品"}
TIER_SYNONYMS["视同过评"] = "视同通过一致性评价"
VBP_SYNONYMS = {"是": "中选", "否": "未中选", "": "N"}
STATUS_SYNONYMS = {"挂网": "正常挂网", "": "正常", "暂停": "暂停挂网", "撤网": "已撤网"}
HEADERS = {
    "挂网编号": "药品流水号",
    "医保药品编码": "国家医保药品编码",
    "通用名": "药品通用名",
    "商品名": "商品名",
    "剂型": "实际剂型",
    "生产企业": "生产企业名称",
    "上市许可持有人": "上市许可持有人名称",
    "质量层次": "一致性评价情况",
    "是否集采中选": "是否中选",
    "挂网价格": "挂网价(元)",
    "挂网状态": "状态",
}


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _spec_noise(spec: str) -> str:
    return spec.replace(":", " : ").upper() if ":" in spec else spec.upper()


def _spec_pack(spec: str, n: str, unit: str, pack: str, i: int) -> str:
    count = int(n)
    sep = "*×xX"[i % 4]
    if count % 2 == 0 and count > 2 and i % 3 == 0:
        counts = f"{count // 2}{unit}{sep}2板"
    else:
        counts = f"{count}{unit}"
    return f"{_spec_noise(spec) if i % 5 == 0 else spec}{sep}{counts}/{pack}" if pack else f"{spec}{sep}{counts}"


def _price(text: str, i: int) -> str:
    value = float(text)
    return [text, f"¥{text}", f"{text}元", f"￥{value:,.2f}"][i % 4]


def dialect_frame(canonical: pd.DataFrame) -> pd.DataFrame:
    """The same catalogue written the way a provincial platform exports it."""
    out = pd.DataFrame({HEADERS[c]: canonical[c] for c in HEADERS if c in canonical.columns})
    index = np.arange(len(canonical))
    out["规格包装"] = [
        _spec_pack(s, n, u, p, i)
        for s, n, u, p, i in zip(
            canonical["规格"], canonical["转换比"], canonical["最小制剂单位"], canonical["包装单位"], index, strict=True
        )
    ]
    tiers = out["一致性评价情况"]
    out["一致性评价情况"] = [TIER_SYNONYMS.get(t, t) if i % 2 else t for t, i in zip(tiers, index, strict=True)]
    out["是否中选"] = [VBP_SYNONYMS.get(v, v) for v in out["是否中选"]]
    out["状态"] = [STATUS_SYNONYMS.get(v, v) for v in out["状态"]]
    out["挂网价(元)"] = [_price(p, i) for p, i in zip(out["挂网价(元)"], index, strict=True)]
    return out


def write_files(rows: int, seed: int, workdir: Path) -> tuple[Path, Path]:
    from catalogue.demo_data import generate_catalogue, write_frame

    canonical_path = workdir / f"dialect_bench_{rows}_{seed}_s1.csv"
    dialect_path = workdir / f"dialect_bench_{rows}_{seed}_s5.csv"
    if not (canonical_path.exists() and dialect_path.exists()):
        frame = generate_catalogue(rows, seed, code_prefix="D").catalogue
        write_frame(frame, canonical_path, "csv")
        dialect = dialect_frame(frame)
        with dialect_path.open("w", encoding="gb18030", newline="") as fh:
            fh.write("湖南省挂网药品目录（2024年7月导出）\n")
            dialect.to_csv(fh, index=False)
    return canonical_path, dialect_path


def run_one(path: Path) -> dict:
    _setup_django()
    from django.db import connection

    from catalogue import services

    started = time.perf_counter()
    cpu_started = time.process_time()
    version = services.import_catalogue(path, province=f"BENCH-{time.time_ns()}", label="dialect bench")
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return {
        "cpu_s": round(cpu, 2),
        "file": path.name,
        "database": connection.vendor,
        "import_s": round(elapsed, 2),
        "rows": version.row_count,
        "warnings": version.warning_count,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "jiupian_bench")
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child), ensure_ascii=False))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    _setup_django()
    canonical, dialect = write_files(args.rows, args.seed, args.workdir)
    times: dict[str, list[float]] = {"§1": [], "§5": []}
    cpus: dict[str, list[float]] = {"§1": [], "§5": []}
    for _ in range(args.repeat):
        for label, path in (("§1", canonical), ("§5", dialect)):
            load = os.getloadavg()[0]
            cmd = [sys.executable, __file__, "--child", str(path)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            result = json.loads(out)
            times[label].append(result["import_s"])
            cpus[label].append(result["cpu_s"])
            print(
                f"{label} {result['rows']:>9,} rows → {result['database']:<10} import {result['import_s']:>6.2f} s "
                f"(CPU of the importing process {result['cpu_s']:.2f} s), "
                f"warnings {result['warnings']}, peak RSS {result['peak_rss_mib']:,.0f} MiB, load {load:.2f}"
            )
    for name, series in (("wall", times), ("CPU", cpus)):
        med = {k: statistics.median(v) for k, v in series.items()}
        best = {k: min(v) for k, v in series.items()}
        print(
            f"{name}: median §1 {med['§1']:.2f} s, §5 {med['§5']:.2f} s (ratio {med['§5'] / med['§1']:.2f}); "
            f"best §1 {best['§1']:.2f} s, §5 {best['§5']:.2f} s (ratio {best['§5'] / best['§1']:.2f})"
        )


if __name__ == "__main__":
    main()
