"""Finding a round's listings in a later catalogue version (匹配). Pure pandas, no Django.

Frames have one row per listing with the columns of `LISTING_COLUMNS`. A listing of the earlier
version is found in the later one by 挂网编号, else by 医保药品编码, else by the normalised product
(通用名, 剂型组, 规格, 转换比, 生产企业). Each pass is a merge; a later row is claimed by at most one
earlier row, and where several rows share a key (two packs differing only in 包装单位, say) they
are paired in 挂网编号 order, so the result is one-to-one and does not depend on row order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LISTING_COLUMNS = [
    "id",
    "code",
    "nhsa",
    "generic",
    "form_group",
    "spec",
    "n",
    "maker",
    "price",
    "active",
    "content",
    "unit",
    "volume",
]
PRODUCT_KEY = ["generic", "form_group", "spec", "n", "maker"]
PASSES: tuple[tuple[str, list[str]], ...] = (("code", ["code"]), ("nhsa", ["nhsa"]), ("product", PRODUCT_KEY))


def _pair(old: pd.DataFrame, new: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """One-to-one pairs (old id, new id) sharing `key`, the k-th of each side in code order."""
    if old.empty or new.empty:
        return pd.DataFrame({"old": [], "new": []}, dtype=np.int64)
    left = old.sort_values("code", kind="stable")[["id", *key]].copy()
    right = new.sort_values("code", kind="stable")[["id", *key]].copy()
    left["k"] = left.groupby(key, sort=False).cumcount()
    right["k"] = right.groupby(key, sort=False).cumcount()
    merged = left.merge(right, on=[*key, "k"], suffixes=("_old", "_new"))
    return pd.DataFrame({"old": merged["id_old"].to_numpy(), "new": merged["id_new"].to_numpy()})


def match_listings(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Index: old listing id. Columns `new` (the later listing's id, -1 when not found) and `how`
    ("code" | "nhsa" | "product" | "")."""
    out = pd.DataFrame({"new": np.full(len(old), -1, dtype=np.int64), "how": ""}, index=old["id"].to_numpy())
    old_left, new_left = old, new
    for how, key in PASSES:
        o, n = old_left, new_left
        if how == "nhsa":  # an empty code matches nothing
            o, n = o[o["nhsa"] != ""], n[n["nhsa"] != ""]
        pairs = _pair(o, n, key)
        if pairs.empty:
            continue
        out.loc[pairs["old"].to_numpy(), "new"] = pairs["new"].to_numpy()
        out.loc[pairs["old"].to_numpy(), "how"] = how
        old_left = old_left[~old_left["id"].isin(pairs["old"])]
        new_left = new_left[~new_left["id"].isin(pairs["new"])]
    return out


def unmatched_new(new: pd.DataFrame, matches: pd.DataFrame) -> pd.DataFrame:
    """Rows of the later version no earlier listing was matched to: new in that version."""
    return new[~new["id"].isin(matches["new"][matches["new"] >= 0])]
