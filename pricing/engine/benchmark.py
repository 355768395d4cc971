"""The ONE benchmark chooser shared by the listing rules (比价药品, RULES.md §4, §7). Pure.

The benchmark of a target is the comparable active listing with the lowest converted unit price,
ties by the smallest 挂网编号. Conversion is multiplicative, so the ordering of converted prices is
the same for every target of a comparison class and equals the ordering of the normalised price v
(pricing.frame): one group-minimum finds it.

Floats only FIND candidates: every benchmark whose v is within a relative 1e-9 of its group
minimum is kept, and where a group has more than one such candidate they are ordered EXACTLY
(converted to a common spec as Fraction / 40-digit Decimal, then by code) — once per group, not
per target. `evaluate` then recomputes the chosen benchmark's limit price exactly and decides the
flag in exact decimals (pricing.limits); a float pre-filter with a safe margin skips the exact work
only where the flag is certainly not raised.
"""

from __future__ import annotations

import math
import weakref
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

import numpy as np
import pandas as pd

from pricing.engine.conversion import _dec, conversion_term, multiply
from pricing.engine.limits import Evaluation, Side, evaluate_pair
from pricing.engine.ruleset import RuleParams

EPS = 1e-9
FLAG_COLUMNS = ["rule_code", "target", "bench", "reference", "province", "evaluation"]


class Columns:
    """Plain Python lists of the frame's columns, for the few exact per-row computations."""

    def __init__(self, df: pd.DataFrame) -> None:
        assert isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1
        for name in ("price", "n", "q", "spec", "kind", "unit", "code", "v", "price_f", "p_e4"):
            setattr(self, name, df[name].tolist())


_COLUMNS: dict[int, tuple[weakref.ref, Columns]] = {}


def _columns(df: pd.DataFrame) -> Columns:
    """Columns of `df` as lists, built once per frame (kept while the frame lives)."""
    hit = _COLUMNS.get(id(df))
    if hit is not None and hit[0]() is df:
        return hit[1]
    cols = Columns(df)
    key = id(df)
    _COLUMNS[key] = (weakref.ref(df, lambda _ref: _COLUMNS.pop(key, None)), cols)
    return cols


@lru_cache(maxsize=200_000)
def _term(k: Decimal, q_to: Decimal, q_from: Decimal) -> Fraction | Decimal:
    """K^(log2(q_to / q_from)), exact when possible (cached per distinct spec pair)."""
    return conversion_term(Fraction(k), Fraction(q_to) / Fraction(q_from))


def _exact_value(cols: Columns, b: int, ref: int, params: RuleParams) -> Fraction | Decimal:
    """b's unit price (in 1/10000 yuan) converted exactly to ref's spec and pack (same comparison class)."""
    terms: list = []
    if cols.kind[b] in ("c", "v") and cols.q[b] != cols.q[ref]:
        k = params.k_content if cols.kind[b] == "c" else params.k_volume
        terms.append(_term(k, cols.q[ref], cols.q[b]))
    if params.k_pack != 2 and cols.n[b] != cols.n[ref]:
        terms.append(_term(params.k_pack / 2, Decimal(cols.n[ref]), Decimal(cols.n[b])))
    p = cols.p_e4[b]
    base = Fraction(p, cols.n[b]) if p >= 0 else Fraction(cols.price[b]) * 10_000 / cols.n[b]
    if all(isinstance(t, Fraction) for t in terms):
        for t in terms:
            base *= t
        return base
    return multiply(base, *terms)


@lru_cache(maxsize=200_000)
def _term_ratio(k: Decimal, q_to: Decimal, q_from: Decimal) -> tuple[int, int] | None:
    """_term as (numerator, denominator), or None when it is irrational."""
    t = _term(k, q_to, q_from)
    return (t.numerator, t.denominator) if isinstance(t, Fraction) else None


def _rational_value(cols: Columns, b: int, ref: int, params: RuleParams) -> tuple[int, int] | None:
    """_exact_value as an unreduced (numerator, denominator > 0) pair of ints — no Fraction objects —
    or None when a conversion term is irrational or the price has more than 4 decimals."""
    num, den = cols.p_e4[b], cols.n[b]
    if num < 0:
        return None
    if cols.kind[b] in ("c", "v") and cols.q[b] != cols.q[ref]:
        t = _term_ratio(params.k_content if cols.kind[b] == "c" else params.k_volume, cols.q[ref], cols.q[b])
        if t is None:
            return None
        num, den = num * t[0], den * t[1]
    if params.k_pack != 2 and cols.n[b] != cols.n[ref]:
        t = _term_ratio(params.k_pack / 2, Decimal(cols.n[ref]), Decimal(cols.n[b]))
        if t is None:
            return None
        num, den = num * t[0], den * t[1]
    return num, den


def exact_order(cols: Columns, rows: list[int], params: RuleParams) -> list[int]:
    """rows of one comparison class ordered by exact converted price, then by code."""
    ref = rows[0]
    pairs = [_rational_value(cols, b, ref, params) for b in rows]
    if None not in pairs:  # all rational: compare integer numerators over a common denominator
        common = math.lcm(*(d for _, d in pairs))
        keys = [num * (common // den) for num, den in pairs]
        return [b for _, _, b in sorted(zip(keys, (cols.code[b] for b in rows), rows, strict=True))]
    values = [_exact_value(cols, b, ref, params) for b in rows]
    if any(isinstance(v, Decimal) for v in values):
        values = [v if isinstance(v, Decimal) else _dec(v) for v in values]
    return [b for _, _, b in sorted(zip(values, (cols.code[b] for b in rows), rows, strict=True))]


def _group_starts(group_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by group id: start offset of each group and the group ids."""
    starts = np.flatnonzero(np.r_[True, group_ids[1:] != group_ids[:-1]])
    return starts, group_ids[starts]


def best_per_group(df: pd.DataFrame, bench: pd.DataFrame, gid: np.ndarray, params: RuleParams) -> pd.Series:
    """The exact best row (index) of each group of `bench` (group ids `gid`, aligned to bench).

    Near-tied groups whose rows share one spec are settled in exact int64 arithmetic (unit price
    p/n compared by cross-multiplication, then the code); other near-tied groups in Python.
    """
    v = bench["v"].to_numpy()
    order = np.lexsort((v, gid))
    g_sorted, v_sorted, idx_sorted = gid[order], v[order], bench.index.to_numpy()[order]
    starts, groups = _group_starts(g_sorted)
    sizes = np.diff(np.r_[starts, len(order)])
    vmin = np.repeat(v_sorted[starts], sizes)
    near = v_sorted <= vmin * (1 + EPS)
    near_count = np.add.reduceat(near.astype(np.int64), starts)
    best = idx_sorted[starts].copy()
    tied = near_count > 1  # groups with more than one candidate
    if not tied.any():
        return pd.Series(best, index=groups)
    # vectorised exact settlement for same-spec ties
    p_e4 = df["p_e4"].to_numpy()[idx_sorted]
    n = df["n"].to_numpy()[idx_sorted]
    qid = df["qid"].to_numpy()[idx_sorted]
    rank = df["code_rank"].to_numpy()[idx_sorted]
    first = np.repeat(starts, sizes)
    same_spec = (qid == qid[first]) & (p_e4 >= 0) & ((n == n[first]) | (params.k_pack == 2))
    cmp = p_e4 * n[first] - p_e4[first] * n  # < 0: truly cheaper than the float minimum
    in_near = near
    bad = in_near & (~same_spec | (cmp < 0))
    group_bad = np.add.reduceat(bad.astype(np.int64), starts) > 0
    tie = in_near & (cmp == 0)
    big = np.iinfo(np.int64).max
    tie_rank = np.where(tie, rank, big)
    min_rank = np.minimum.reduceat(tie_rank, starts)
    is_best = tie & (tie_rank == np.repeat(min_rank, sizes))
    best_pos = np.full(len(starts), -1)
    hit = np.flatnonzero(is_best)
    best_pos[np.searchsorted(starts, hit, side="right") - 1] = hit
    ok = tied & ~group_bad & (best_pos >= 0)
    best[ok] = idx_sorted[best_pos[ok]]
    cols = _columns(df)
    for i in np.flatnonzero(tied & ~ok):
        lo = starts[i]
        rows = [int(r) for r in idx_sorted[lo : lo + near_count[i]]]
        best[i] = exact_order(cols, rows, params)[0]
    return pd.Series(best, index=groups)


def class_pairs(df: pd.DataFrame, targets: pd.DataFrame, bench: pd.DataFrame, params: RuleParams) -> pd.DataFrame:
    """(target, bench) pairs: the exact cheapest benchmark of each comparison class (cid)."""
    if targets.empty or bench.empty:
        return pd.DataFrame({"target": [], "bench": []}, dtype=np.int64)
    best = best_per_group(df, bench, bench["cid"].to_numpy(), params)
    chosen = targets["cid"].map(best)
    ok = chosen.notna().to_numpy()
    return pd.DataFrame({"target": targets.index.to_numpy()[ok], "bench": chosen.to_numpy()[ok].astype(np.int64)})


def sibling_pairs(
    df: pd.DataFrame, targets: pd.DataFrame, pool: pd.DataFrame, by: list[str], key: list[str], params: RuleParams
) -> pd.DataFrame:
    """Like class_pairs inside sibling sets (`by`), never taking the target's own `key` (规格, 转换比).

    Per sibling set only the two lowest keys are needed (exactly ordered): the target takes the
    lowest key that is not its own.
    """
    if targets.empty:
        return pd.DataFrame({"target": [], "bench": []}, dtype=np.int64)
    sid = pool.groupby(by, sort=False).ngroup().to_numpy()
    kid = pool.groupby(by + key, sort=False).ngroup().to_numpy()
    best_of_key = best_per_group(df, pool, kid, params)  # kid → best row
    key_sid = pd.Series(sid, index=kid).groupby(level=0).first()
    keys = pd.DataFrame({"kid": best_of_key.index, "row": best_of_key.to_numpy()})
    keys["sid"] = key_sid.loc[keys["kid"]].to_numpy()
    keys["v"] = df["v"].to_numpy()[keys["row"].to_numpy()]
    keys = keys.sort_values(["sid", "v"])  # on several columns pandas sorts with np.lexsort (stable)
    s_sorted = keys["sid"].to_numpy()
    starts, sids = _group_starts(s_sorted)
    sizes = np.diff(np.r_[starts, len(keys)])
    v_sorted = keys["v"].to_numpy()
    rows_sorted = keys["row"].to_numpy()
    kids_sorted = keys["kid"].to_numpy()
    first_row = rows_sorted[starts].copy()
    first_kid = kids_sorted[starts].copy()
    has2 = sizes > 1
    second = np.minimum(starts + 1, len(keys) - 1)  # the second key of a set (kept in bounds)
    second_row = np.where(has2, rows_sorted[second], -1)
    # exact order where the top keys are within EPS of the second-lowest (ties or float noise)
    v2 = np.where(has2, v_sorted[second], np.inf)
    cols = _columns(df)
    # keys within EPS of the second-lowest, per set (v ascending inside a set; NaN sorts last)
    limit = np.repeat(v2 * (1 + EPS), sizes)
    within = (v_sorted <= limit) | np.isnan(limit)
    # (a set of two or more keys has at least its first two within; one-key sets are skipped: has2)
    near_count = np.add.reduceat(within.astype(np.int64), starts)
    clear = (near_count == 2) & (v_sorted[starts] < v2 * (1 - EPS))
    for i in np.flatnonzero(has2 & ~clear):
        lo, n_near = starts[i], int(near_count[i])
        rows = [int(r) for r in rows_sorted[lo : lo + n_near]]
        ordered = exact_order(cols, rows, params)
        first_row[i], first_kid[i] = ordered[0], kids_sorted[lo + rows.index(ordered[0])]
        second_row[i] = ordered[1]
    pos = pd.Series(np.arange(len(sids)), index=sids)
    t_index = targets.index.to_numpy()
    t_sid = sid[pool.index.get_indexer(t_index)]
    t_kid = kid[pool.index.get_indexer(t_index)]
    p = pos.loc[t_sid].to_numpy()
    own_is_first = first_kid[p] == t_kid
    bench = np.where(own_is_first, second_row[p], first_row[p])
    ok = bench >= 0
    return pd.DataFrame({"target": t_index[ok], "bench": bench[ok].astype(np.int64)})


def evaluate_one(
    cols: Columns, t: int, b: int, params: RuleParams, bands: list[tuple[Decimal, str]] | None = None
) -> Evaluation:
    """evaluate_pair for one (target, benchmark) of one comparison class; for identical specs
    evaluate_pair itself ignores K, the quantities and the unit. (Unparsed specs share a comparison
    class only with the same 规格 text, so they always compare as identical.)"""
    if cols.spec[t] == cols.spec[b]:
        kind = "identical"
    else:
        kind = "content" if cols.kind[t] == "c" else "volume"
    return evaluate_pair(
        kind=kind,
        target=Side(cols.price[t], int(cols.n[t]), cols.q[t]),
        bench=Side(cols.price[b], int(cols.n[b]), cols.q[b]),
        unit="ml" if kind == "volume" else cols.unit[t],
        k=params.k_content if kind == "content" else params.k_volume,
        k_pack=params.k_pack,
        tolerance_abs=params.tolerance_abs,
        tolerance_rel=params.tolerance_rel,
        bands=params.bands if bands is None else bands,
    )


_python_ints = np.frompyfunc(int, 1, 1)  # whole floats → exact Python ints (an object array)


def possibly_flagged(df: pd.DataFrame, pairs: pd.DataFrame, params: RuleParams) -> np.ndarray:
    """Vectorised pre-decision: False only where the flag is certainly not raised.

    The float limit price in cents is rounded half-up in floats unless it lies within 1e-4 cent of
    a half cent (then the row stays a candidate); the comparison with the (4-decimal) pack price
    is then done in exact integers. Rows that may be flagged get the full exact evaluation.
    """
    t = pairs["target"].to_numpy()
    b = pairs["bench"].to_numpy()
    n_t = df["n"].to_numpy(dtype=float)[t]
    a_pack = np.log2(float(params.k_pack)) - 1.0
    with np.errstate(all="ignore"):
        conv = df["v"].to_numpy()[b] * np.power(df["q_f"].to_numpy()[t], df["a"].to_numpy()[t]) * np.power(n_t, a_pack)
    cents_f = conv * n_t * 100.0
    p_e4 = df["p_e4"].to_numpy()[t] if "p_e4" in df else None
    rel = Fraction(params.tolerance_rel)
    abs_e4 = Fraction(params.tolerance_abs) * 10_000
    exact_ok = p_e4 is not None and abs_e4.denominator == 1  # any rational tolerance: Python integers
    if not exact_ok:
        threshold = (cents_f / 100 * (1 - 1e-9) - 0.0051) * (1 + float(rel)) + float(params.tolerance_abs)
        return df["price_f"].to_numpy()[t] > threshold
    frac = cents_f - np.floor(cents_f)
    ambiguous = (np.abs(frac - 0.5) < 1e-4) | ~np.isfinite(cents_f) | (p_e4 < 0)
    # compared as Python integers (object arrays, ≈ 0.2 µs a pair): with a six-decimal tolerance the
    # products pass 2^63 for prices of hundreds of millions of yuan, where int64 would wrap silently
    limit_c = _python_ints(np.floor(np.where(ambiguous, 0.0, cents_f) + 0.5))
    d, r = rel.denominator, rel.numerator
    lhs = p_e4.astype(object) * d
    rhs = limit_c * (100 * (d + r)) + int(abs_e4) * d
    return ambiguous | (lhs > rhs).astype(bool)


def evaluate(df: pd.DataFrame, pairs: pd.DataFrame, params: RuleParams, rule_code: str) -> pd.DataFrame:
    """Exact limit price and flag decision for each (target, chosen benchmark) pair."""
    if pairs.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    pairs = pairs[possibly_flagged(df, pairs, params)]
    cols = _columns(df)
    bands = params.bands  # a fresh list per access: once, not once per pair
    rows = []
    for t, b in zip(pairs["target"].tolist(), pairs["bench"].tolist(), strict=True):
        ev = evaluate_one(cols, t, b, params, bands)
        if ev.flagged:
            rows.append((rule_code, t, b, None, "", ev))
    return pd.DataFrame(rows, columns=FLAG_COLUMNS)
