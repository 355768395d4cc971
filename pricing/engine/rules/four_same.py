"""FOUR_SAME_NATIONAL (四同药品高于省际最低价, RULES.md §5): a listing whose pack price is above the
lowest pack price of the same product in another province's reference file.

Same product = same 医保药品编码 when both rows have it, else the same normalised (通用名, 剂型组,
规格, 转换比, 生产企业). The benchmark is the province holding the minimum (ties: province name).
"""

from fractions import Fraction

import numpy as np
import pandas as pd

from pricing.engine.benchmark import EPS, FLAG_COLUMNS
from pricing.engine.limits import Side, evaluate_reference, evaluate_reference_e4
from pricing.engine.rules.common import active, targets_of
from pricing.engine.ruleset import RuleParams

CODE = "FOUR_SAME_NATIONAL"
TUPLE = ["generic", "form_group", "spec", "n", "maker"]


def matches(targets: pd.DataFrame, refs: pd.DataFrame) -> pd.DataFrame:
    """(target, reference row) pairs of the same product."""
    t = targets[TUPLE + ["nhsa"]].reset_index(names="target")
    r = refs[TUPLE + ["nhsa", "price_f"]].reset_index(names="ref")
    code_t, code_r = _product_keys(t[["nhsa"]], r[["nhsa"]])
    has_t, has_r = (t["nhsa"] != "").to_numpy(), (r["nhsa"] != "").to_numpy()
    by_code = pd.DataFrame({"target": t["target"].to_numpy()[has_t], "key": code_t[has_t]}).merge(
        pd.DataFrame({"ref": r["ref"].to_numpy()[has_r], "key": code_r[has_r]}), on="key"
    )[["target", "ref"]]
    key_t, key_r = _product_keys(t[TUPLE], r[TUPLE])
    by_tuple = pd.DataFrame({"target": t["target"], "key": key_t, "nhsa": t["nhsa"]}).merge(
        pd.DataFrame({"ref": r["ref"], "key": key_r, "nhsa_r": r["nhsa"]}), on="key"
    )
    by_tuple = by_tuple[(by_tuple["nhsa"] == "") | (by_tuple["nhsa_r"] == "")][["target", "ref"]]
    return pd.concat([by_code, by_tuple], ignore_index=True).drop_duplicates()


def _product_keys(left: pd.DataFrame, right: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One int64 per row, equal on both sides exactly when all the columns are equal: each column is
    factorised over both sides together and the codes folded in column by column (re-factorised after
    each step, so the key stays below the row count). Merging on it is several times faster than
    merging on five text columns, with the same matches (missing values match each other, as in merge)."""
    key = np.zeros(len(left) + len(right), dtype=np.int64)
    for col in left.columns:
        codes, uniques = pd.factorize(pd.concat([left[col], right[col]], ignore_index=True), use_na_sentinel=False)
        key = pd.factorize(key * len(uniques) + codes)[0]
    return key[: len(left)], key[len(left) :]


def find(listings: pd.DataFrame, refs: pd.DataFrame, params: RuleParams) -> pd.DataFrame:
    if refs is None or refs.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    targets = targets_of(active(listings), params)
    pairs = matches(targets, refs)
    if pairs.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    target = pairs["target"].to_numpy()
    ref_at = refs.index.get_indexer(pairs["ref"].to_numpy())  # reference row positions
    ref_price_f = refs["price_f"].to_numpy()[ref_at]
    pmin = pd.Series(ref_price_f).groupby(target, sort=False).transform("min").to_numpy()
    target_price = listings["price_f"].to_numpy()[target]
    rel = float(params.tolerance_rel)
    maybe = (ref_price_f <= pmin * (1 + EPS)) & (
        target_price > (ref_price_f * (1 - 1e-9) - 0.0051) * (1 + rel) + float(params.tolerance_abs)
    )
    target, ref_at = target[maybe], ref_at[maybe]
    if not len(target):
        return pd.DataFrame(columns=FLAG_COLUMNS)
    # the benchmark per target: lowest exact price, then province name, then reference row (one sort)
    price_rank = _exact_rank(refs["price"])[ref_at]
    province_rank = np.unique(refs["province"].to_numpy(dtype=str), return_inverse=True)[1][ref_at]
    order = np.lexsort((refs.index.to_numpy()[ref_at], province_rank, price_rank, target))
    first = order[np.r_[True, target[order][1:] != target[order][:-1]]]
    target, ref_at = target[first], ref_at[first]
    flagged = _certainly_flagged(listings, refs, target, ref_at, params)
    ref_label, ref_price = refs.index.to_numpy(), refs["price"].to_numpy()
    ref_prov, ref_n = refs["province"].to_numpy(), refs["n"].to_numpy()
    t_price, t_n = listings["price"].to_numpy(), listings["n"].to_numpy()
    t_e4, r_e4 = listings["p_e4"].to_numpy(), refs["p_e4"].to_numpy()
    bands = params.bands  # a fresh list per access: once, not once per flag
    rows = []
    for t, r, sure in zip(target.tolist(), ref_at.tolist(), flagged.tolist(), strict=True):
        if sure is not None and not sure:
            continue  # exactly not above the limit: no Decimal work for it
        if sure:  # above the limit, both prices exact in 1/10000 yuan: the integer evaluation
            ev = evaluate_reference_e4(
                target=Side(t_price[t], int(t_n[t])),
                target_e4=int(t_e4[t]),
                min_price=ref_price[r],
                min_e4=int(r_e4[r]),
                province=ref_prov[r],
                n_reference=int(ref_n[r]) or None,
                bands=bands,
            )
        else:
            ev = evaluate_reference(
                target=Side(t_price[t], int(t_n[t])),
                min_price=ref_price[r],
                province=ref_prov[r],
                n_reference=int(ref_n[r]) or None,
                tolerance_abs=params.tolerance_abs,
                tolerance_rel=params.tolerance_rel,
                bands=bands,
            )
        if ev.flagged:
            rows.append((CODE, t, None, ref_label[r], ref_prov[r], ev))
    return pd.DataFrame(rows, columns=FLAG_COLUMNS)


def _exact_rank(prices: pd.Series) -> np.ndarray:
    """Each row's rank among the distinct exact (Decimal) prices: equal prices share a rank."""
    codes, uniques = pd.factorize(prices)
    ranks = np.empty(len(uniques), dtype=np.int64)
    values = uniques.tolist()
    ranks[sorted(range(len(values)), key=values.__getitem__)] = np.arange(len(values))
    return ranks[codes]


def _certainly_flagged(
    listings: pd.DataFrame, refs: pd.DataFrame, target: np.ndarray, ref_at: np.ndarray, params: RuleParams
) -> np.ndarray:
    """Per (target, benchmark): True/False when integer arithmetic decides P_t > L_t·(1 + rel) + abs,
    None where it cannot (a price with more than 4 decimals, or huge values): those are evaluated exactly.

    L_t is the reference price rounded half-up to the cent; prices are exact ints in 1/10000 yuan.
    """
    out = np.full(len(target), None, dtype=object)
    t_e4 = listings["p_e4"].to_numpy()[target]
    r_e4 = refs["p_e4"].to_numpy()[ref_at]
    rel, tol = Fraction(params.tolerance_rel), Fraction(params.tolerance_abs)
    den = rel.denominator * tol.denominator
    known = (t_e4 >= 0) & (r_e4 >= 0)
    if max(den, rel.numerator, tol.numerator) > 10**4 or not known.any():
        return out
    known &= (t_e4 < _SAFE) & (r_e4 < _SAFE)
    cents = (2 * r_e4 + 100) // 200  # half-up to the cent
    limit_e4 = cents * 100
    # P·den > L·den + L·rel·den + abs·10⁴·den, all in 1/10000 yuan
    lhs = t_e4 * den
    rhs = limit_e4 * den + limit_e4 * (rel.numerator * tol.denominator) + tol.numerator * rel.denominator * 10_000
    decided = np.where(cents > 0, lhs > rhs, False)
    out[known] = decided[known]
    return out


_SAFE = 10**9  # 100,000 yuan in 1/10000: with tolerance terms up to 10⁴ every product stays below 10¹⁸ < 2⁶³
