"""Export benchmark: 100,000 flags → XLSX (target ≤ 30 s) and CSV (target ≤ 5 s).

    .venv/bin/python bench/export_bench.py [N_FLAGS]

Uses the database `jiupian_bench_pricing` (run bench/detect_bench.py first so it holds a catalogue
of ≥ N listings). Creates a round with N synthetic flags (COPY), then times pricing.exports.
"""

from __future__ import annotations

import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from detect_bench import _django, _ensure_db


def main(n: int) -> None:
    _ensure_db()
    _django()
    from django.db import transaction
    from django.db.models import Count

    from catalogue.models import CatalogueVersion, Listing
    from pricing.engine.flag_store import store_flags
    from pricing.engine.rounds import create_round
    from pricing.review.exports import flags_for_export, write_csv, write_xlsx

    version = (
        CatalogueVersion.objects.filter(status="active")
        .annotate(n=Count("listings"))
        .filter(n__gte=n)
        .order_by("-id")
        .first()
    )
    if version is None:
        sys.exit(f"no active catalogue with ≥ {n} listings in the bench database: run bench/detect_bench.py first")
    rnd = create_round(catalogue_version=version, title=f"export bench {n}", user=None, enqueue=False)
    # read before the COPY starts: a server-side cursor cannot be fetched from while the same
    # connection is busy with COPY FROM STDIN (that deadlocked the first version of this script)
    rows = list(
        Listing.objects.filter(version=version).values_list(
            "id", "manufacturer_id", "generic_name", "form_group", "listed_price", "unit_price", "pack_quantity"
        )[:n]
    )
    bench_id = Listing.objects.filter(version=version).values_list("id", flat=True).first()

    def flag_rows():
        for lid, maker, generic, form, price, unit, _pack in rows:
            limit = (price * Decimal("0.8")).quantize(Decimal("0.01"))
            yield {
                "round_id": rnd.pk,
                "listing_id": lid,
                "rule_code": "TIER_UNEVALUATED",
                "manufacturer_id": maker,
                "generic_name": generic,
                "form_group": form,
                "benchmark_listing_id": bench_id,
                "benchmark_reference_id": None,
                "benchmark_province": "",
                "target_price": price,
                "target_unit_price": unit,
                "benchmark_price": price,
                "benchmark_unit_price": unit,
                "benchmark_converted": (unit * Decimal("0.8")).quantize(Decimal("0.0000000001")),
                "factors": {"kind": "identical"},
                "ratio": (price / limit).quantize(Decimal("0.0001")) if limit else Decimal(0),
                "severity": "黄",
                "limit_price": limit,
                "overcharge": price - limit,
                "rule_set_version": 1,
            }

    with transaction.atomic():
        count = store_flags(flag_rows())
    print(f"== {count:,} flags in round {rnd.pk}")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with open(Path(tmp) / "out.csv", "w", encoding="utf-8", newline="") as fh:
            write_csv(flags_for_export(rnd), fh)
        print(f"CSV : {time.perf_counter() - t0:.2f} s ({(Path(tmp) / 'out.csv').stat().st_size / 1e6:.1f} MB)")
        t0 = time.perf_counter()
        write_xlsx(flags_for_export(rnd), Path(tmp) / "out.xlsx")
        print(f"XLSX: {time.perf_counter() - t0:.2f} s ({(Path(tmp) / 'out.xlsx').stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
