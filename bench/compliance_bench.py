"""Compliance classification benchmark (pure, no database): N listings in each version.

    .venv/bin/python bench/compliance_bench.py 200000 1000000

A synthetic earlier version of N listings (groups of 4 strengths per maker and generic), 10% of them
with a binding limit; the later version keeps most codes, re-codes 2% (same 医保药品编码), re-codes
1% without one (found by the product), drops 1%, suspends 1%, changes the pack of 1% and adds 1%
new strengths; 30% come down to the limit and 10% half-way. Reports the wall time of
`compliance.classify.check` and the peak RSS.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from compliance.classify import check  # noqa: E402
from compliance.matching import LISTING_COLUMNS  # noqa: E402
from pricing.engine.ruleset import RuleParams  # noqa: E402

STRENGTHS = [(Decimal(5), "5mg"), (Decimal(10), "10mg"), (Decimal(20), "20mg"), (Decimal(40), "40mg")]


def frames(n: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n + 1)
    k = ids % 4
    cents = rng.integers(100, 100_000, n)
    prices = [Decimal(int(c)).scaleb(-2) for c in cents]
    old = pd.DataFrame(
        {
            "id": ids,
            "code": [f"C{i:08d}" for i in ids],
            "nhsa": [f"N{i:08d}" if i % 3 == 0 else "" for i in ids],
            "generic": [f"药{i // 40}" for i in ids],
            "form_group": "片剂",
            "spec": [STRENGTHS[j][1] for j in k],
            "n": 10,
            "maker": (ids // 4) % 5000,
            "price": prices,
            "active": True,
            "content": [STRENGTHS[j][0] for j in k],
            "unit": "mg",
            "volume": None,
        },
        columns=LISTING_COLUMNS,
    )
    in_scope = old.sample(frac=0.10, random_state=seed)
    binding = pd.DataFrame(
        {
            "listing_id": in_scope["id"].to_numpy(),
            "limit": [(p * Decimal("0.6")).quantize(Decimal("0.01")) for p in in_scope["price"]],
            "rules": [["TIER_UNEVALUATED"]] * len(in_scope),
        }
    )
    new = old.copy()
    new["id"] = new["id"] + n
    r = rng.random(n)
    new.loc[r < 0.3, "price"] = [(p * Decimal("0.6")).quantize(Decimal("0.01")) for p in new.loc[r < 0.3, "price"]]
    half = (r >= 0.3) & (r < 0.4)
    new.loc[half, "price"] = [(p * Decimal("0.8")).quantize(Decimal("0.01")) for p in new.loc[half, "price"]]
    recode = (r > 0.95) & (r <= 0.97) & (new["nhsa"] != "")
    new.loc[recode, "code"] = "R" + new.loc[recode, "code"]
    product = (r > 0.97) & (r <= 0.98)
    new.loc[product, "code"] = "P" + new.loc[product, "code"]
    new.loc[product, "nhsa"] = ""
    new.loc[(r > 0.98) & (r <= 0.99), "active"] = False
    new.loc[(r > 0.90) & (r <= 0.91), "n"] = 20
    new = new[~((r > 0.99) & (r <= 1.0))]
    extra = new.sample(frac=0.01, random_state=seed + 1).copy()
    extra["id"] = np.arange(3 * n, 3 * n + len(extra))
    extra["code"] = "X" + extra["code"]
    extra["spec"], extra["content"] = "80mg", Decimal(80)
    extra["price"] = [p * 3 for p in extra["price"]]
    return old, pd.concat([new, extra], ignore_index=True), binding


def main(sizes: list[int]) -> None:
    params = RuleParams.from_dict({})
    for n in sizes:
        old, new, binding = frames(n)
        start = time.perf_counter()
        outcome = check(old, new, binding, params)
        took = time.perf_counter() - start
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{n:>9,} listings, {len(binding):,} in scope: {took:.2f} s, peak RSS {rss:.0f} MiB, {outcome.counts}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [200_000])
