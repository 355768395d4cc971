"""Classifying each listing of a round against a later catalogue version (合规状态). Pure pandas.

For every listing with a binding limit (执行限价) L and listed price P, found (pricing.matching) in
the later version at price P' (converted to the old spec's terms when the pack or spec changed):

    WITHDRAWN     not found, or found but not active (暂停 / 撤网)
    COMPLIED      P' ≤ L
    PARTIAL       L < P' < P
    NOT_ADJUSTED  P' ≥ P

and for every active listing that is new in the later version, of the same 生产企业 + 通用名 + 剂型组
as a listing with a binding limit: NEW_SPEC_ABOVE when its price is above the lowest of those
limits converted to its spec (compliance.conversion). Price comparisons are exact integers in
1/10000 yuan, vectorised; only rows whose spec or pack changed are converted one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from compliance.conversion import convert_price
from compliance.matching import match_listings, unmatched_new
from pricing.engine.ruleset import RuleParams

COMPLIED, PARTIAL, NOT_ADJUSTED, WITHDRAWN, NEW_SPEC_ABOVE = (
    "COMPLIED",
    "PARTIAL",
    "NOT_ADJUSTED",
    "WITHDRAWN",
    "NEW_SPEC_ABOVE",
)
STATUSES = (COMPLIED, PARTIAL, NOT_ADJUSTED, WITHDRAWN, NEW_SPEC_ABOVE)
RESULT_COLUMNS = [
    "listing_id",
    "new_listing_id",
    "how",
    "status",
    "listed_price",
    "binding_limit",
    "compared_limit",
    "new_price",
    "saving",
    "rules",
]
BINDING_COLUMNS = ["listing_id", "limit", "rules"]
SIBLING_KEY = ["maker", "generic", "form_group"]


@dataclass(frozen=True)
class Outcome:
    rows: pd.DataFrame  # RESULT_COLUMNS, in-scope listings first (by code), then new specs
    counts: dict[str, int]
    savings: Decimal  # Σ (old − new) over COMPLIED rows, per pack


def _e4(values: pd.Series) -> np.ndarray:
    """Decimals (or None) as ints in 1/10000 yuan; -1 for None. Converted once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.array([int(Decimal(v).scaleb(4)) for v in uniques] + [-1], dtype=np.int64)
    return table[codes]


def _convert_rows(frame: pd.DataFrame, price_col: str, params: RuleParams) -> list[Decimal | None]:
    """`price_col` of each row (an old listing's pack price) converted to the row's new listing."""
    out: list[Decimal | None] = []
    for row in frame.to_dict("records"):
        source = {k: row[k] for k in ("spec", "n", "content", "unit", "volume")}
        target = {k: row[f"{k}_new"] for k in ("spec", "n", "content", "unit", "volume")}
        out.append(convert_price(row[price_col], source, target, params))
    return out


def classify_matched(scope: pd.DataFrame, new: pd.DataFrame, matches: pd.DataFrame, params: RuleParams) -> pd.DataFrame:
    """Statuses of the in-scope listings (old columns + limit, rules)."""
    df = scope.copy()
    df["new_id"] = matches.loc[df["id"].to_numpy(), "new"].to_numpy()
    df["how"] = matches.loc[df["id"].to_numpy(), "how"].to_numpy()
    df = df.merge(new.add_suffix("_new"), left_on="new_id", right_on="id_new", how="left")
    found = (df["new_id"] >= 0).to_numpy()
    df["compared_limit"] = df["limit"]
    df["compared_price"] = df["price"]
    changed = found & ((df["spec"] != df["spec_new"]) | (df["n"] != df["n_new"])).to_numpy()
    if changed.any():
        part = df[changed]
        limits = _convert_rows(part, "limit", params)
        prices = _convert_rows(part, "price", params)
        idx = df.index[changed]
        # not comparable (None): the pack prices are compared as they stand
        df.loc[idx, "compared_limit"] = [c if c is not None else o for c, o in zip(limits, part["limit"], strict=True)]
        df.loc[idx, "compared_price"] = [c if c is not None else o for c, o in zip(prices, part["price"], strict=True)]
    new_e4 = _e4(df["price_new"].where(found, None))
    limit_e4, old_e4 = _e4(df["compared_limit"]), _e4(df["compared_price"])
    active = df["active_new"].fillna(False).astype(bool).to_numpy()
    df["status"] = np.select(
        [~found | ~active, new_e4 <= limit_e4, new_e4 < old_e4],
        [WITHDRAWN, COMPLIED, PARTIAL],
        NOT_ADJUSTED,
    )
    complied = df["status"] == COMPLIED
    df["saving"] = None
    df.loc[complied, "saving"] = [
        o - n for o, n in zip(df.loc[complied, "compared_price"], df.loc[complied, "price_new"], strict=True)
    ]
    return pd.DataFrame(
        {
            "listing_id": df["id"].to_numpy(),
            "new_listing_id": np.where(found, df["new_id"], -1),
            "how": df["how"].to_numpy(),
            "status": df["status"].to_numpy(),
            "listed_price": df["price"].to_numpy(),
            "binding_limit": df["limit"].to_numpy(),
            "compared_limit": df["compared_limit"].to_numpy(),
            "new_price": df["price_new"].where(found, None).to_numpy(),
            "saving": df["saving"].to_numpy(),
            "rules": df["rules"].to_numpy(),
            "_code": df["code"].to_numpy(),
        }
    )


def new_specs_above(scope: pd.DataFrame, new: pd.DataFrame, matches: pd.DataFrame, params: RuleParams) -> pd.DataFrame:
    """NEW_SPEC_ABOVE rows: active listings new in the later version priced above the lowest binding
    limit of their maker + generic + 剂型组 siblings, converted to their spec."""
    fresh = unmatched_new(new, matches)
    fresh = fresh[fresh["active"]]
    pairs = fresh.merge(scope, on=SIBLING_KEY, suffixes=("_new", ""))
    if pairs.empty:
        return pd.DataFrame(columns=[*RESULT_COLUMNS, "_code"])
    pairs = pairs.rename(columns={"id": "old_id", "id_new": "new_id"})
    pairs["converted"] = _convert_rows(pairs, "limit", params)
    pairs = pairs[pairs["converted"].notna()]
    if pairs.empty:
        return pd.DataFrame(columns=[*RESULT_COLUMNS, "_code"])
    pairs["conv_e4"] = _e4(pairs["converted"])
    pairs = pairs.sort_values(["new_id", "conv_e4", "code"], kind="stable").drop_duplicates("new_id")
    above = pairs[_e4(pairs["price_new"]) > pairs["conv_e4"].to_numpy()]
    return pd.DataFrame(
        {
            "listing_id": above["old_id"].to_numpy(),
            "new_listing_id": above["new_id"].to_numpy(),
            "how": "",
            "status": NEW_SPEC_ABOVE,
            "listed_price": None,
            "binding_limit": above["limit"].to_numpy(),
            "compared_limit": above["converted"].to_numpy(),
            "new_price": above["price_new"].to_numpy(),
            "saving": None,
            "rules": above["rules"].to_numpy(),
            "_code": above["code_new"].to_numpy(),
        }
    )


def check(old: pd.DataFrame, new: pd.DataFrame, binding: pd.DataFrame, params: RuleParams) -> Outcome:
    """Every in-scope listing of `old` (those in `binding`) classified against `new`."""
    matches = match_listings(old, new)
    scope = old.merge(binding, left_on="id", right_on="listing_id").drop(columns="listing_id")
    matched = classify_matched(scope, new, matches, params).sort_values("_code", kind="stable")
    fresh = new_specs_above(scope, new, matches, params).sort_values("_code", kind="stable")
    rows = pd.concat([matched, fresh], ignore_index=True) if len(fresh) else matched.reset_index(drop=True)
    rows = rows.drop(columns="_code")
    counts = {s: int((rows["status"] == s).sum()) for s in STATUSES}
    savings = sum((s for s in rows["saving"] if s is not None), Decimal(0))
    return Outcome(rows=rows[RESULT_COLUMNS], counts=counts, savings=savings)
