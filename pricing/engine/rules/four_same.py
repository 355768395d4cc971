"""FOUR_SAME_NATIONAL (四同药品高于省际最低价, RULES.md §5): a listing whose pack price is above the
lowest pack price of the same product in another province's reference file.

Same product = same 医保药品编码 when both rows have it, else the same normalised (通用名, 剂型组,
规格, 转换比, 生产企业). The benchmark is the province holding the minimum (ties: province name).
"""

import pandas as pd

from pricing.engine.benchmark import EPS, FLAG_COLUMNS
from pricing.engine.limits import Side, evaluate_reference
from pricing.engine.rules.common import active, targets_of
from pricing.engine.ruleset import RuleParams

CODE = "FOUR_SAME_NATIONAL"
TUPLE = ["generic", "form_group", "spec", "n", "maker"]


def matches(targets: pd.DataFrame, refs: pd.DataFrame) -> pd.DataFrame:
    """(target, reference row) pairs of the same product."""
    t = targets[TUPLE + ["nhsa"]].reset_index(names="target")
    r = refs[TUPLE + ["nhsa", "price_f"]].reset_index(names="ref")
    by_code = t[t["nhsa"] != ""].merge(r[r["nhsa"] != ""], on="nhsa", suffixes=("", "_r"))[["target", "ref"]]
    by_tuple = t.merge(r, on=TUPLE, suffixes=("", "_r"))
    by_tuple = by_tuple[(by_tuple["nhsa"] == "") | (by_tuple["nhsa_r"] == "")][["target", "ref"]]
    return pd.concat([by_code, by_tuple], ignore_index=True).drop_duplicates()


def find(listings: pd.DataFrame, refs: pd.DataFrame, params: RuleParams) -> pd.DataFrame:
    if refs is None or refs.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    targets = targets_of(active(listings), params)
    pairs = matches(targets, refs)
    if pairs.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    pairs["price_f"] = refs.loc[pairs["ref"].to_numpy(), "price_f"].to_numpy()
    pmin = pairs.groupby("target", sort=False)["price_f"].transform("min")
    pairs = pairs[pairs["price_f"] <= pmin * (1 + EPS)]
    target_price = listings.loc[pairs["target"].to_numpy(), "price_f"].to_numpy()
    rel = float(params.tolerance_rel)
    maybe = target_price > (pairs["price_f"].to_numpy() * (1 - 1e-9) - 0.0051) * (1 + rel) + float(params.tolerance_abs)
    pairs = pairs[maybe]
    ref_price, ref_prov, ref_n = refs["price"].tolist(), refs["province"].tolist(), refs["n"].tolist()
    ref_pos = {label: i for i, label in enumerate(refs.index.tolist())}
    t_price, t_n = listings["price"].tolist(), listings["n"].tolist()
    best: dict[int, tuple] = {}
    for target, ref in zip(pairs["target"].tolist(), pairs["ref"].tolist(), strict=True):
        i = ref_pos[ref]
        key = (ref_price[i], ref_prov[i], ref)
        if target not in best or key < best[target]:
            best[target] = key
    rows = []
    for target, (price, province, ref) in best.items():
        n_ref = ref_n[ref_pos[ref]]
        ev = evaluate_reference(
            target=Side(t_price[target], int(t_n[target])),
            min_price=price,
            province=province,
            n_reference=int(n_ref) or None,
            tolerance_abs=params.tolerance_abs,
            tolerance_rel=params.tolerance_rel,
            bands=params.bands,
        )
        if ev.flagged:
            rows.append((CODE, target, None, ref, province, ev))
    return pd.DataFrame(rows, columns=FLAG_COLUMNS)
