"""Helpers shared by the sample-based tests: read the samples and turn flags into expected rows."""

import csv
from pathlib import Path

import pandas as pd

from pricing.engine.conversion import round_half_up
from pricing.engine.frame import listings_from_raw, prepare, prepare_references, references_from_raw
from pricing.engine.rules import run_rules
from pricing.engine.ruleset import RuleParams


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def expected_rows(samples_dir: Path) -> set[tuple]:
    return {tuple(r.values()) for r in read_csv(samples_dir / "expected_flags_sample.csv")}


def pure_flags(samples_dir: Path, params: RuleParams | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    params = params or RuleParams.from_dict({})
    listings = prepare(listings_from_raw(read_csv(samples_dir / "catalogue_sample.csv"), params), params)
    refs = prepare_references(references_from_raw(read_csv(samples_dir / "reference_prices_sample.csv")), params)
    return run_rules(listings, refs, params), listings


def as_rows(flags: pd.DataFrame, listings: pd.DataFrame) -> set[tuple]:
    out = set()
    for f in flags.itertuples():
        t = listings.loc[f.target]
        ev = f.evaluation
        bench = f.province if f.rule_code == "FOUR_SAME_NATIONAL" else listings.loc[f.bench, "code"]
        out.add(
            (
                t["code"],
                f.rule_code,
                bench,
                str(round_half_up(t["price"] / t["n"], 4)),
                str(round_half_up(ev.converted, 4)),
                str(ev.ratio),
                ev.severity,
                str(ev.limit),
            )
        )
    return out
