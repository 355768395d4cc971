"""Coverage (盲区): which listings some rule could compare, and why the others could not. Pure.

A listing is *checked* when at least one enabled rule found a benchmark for it as a target (the
same pair search the rules use: pricing.engine.benchmark), or — for 四同 — a reference price of the
same product. Every other listing is a blind spot with one reason, the first that applies:

| code | meaning |
|---|---|
| INACTIVE | 暂停/撤网: neither target nor benchmark |
| VBP | 集采中选: never a target (only a benchmark) |
| UNKNOWN_FORM | the 剂型 is not in the alias table: the listing is a group of its own |
| UNPARSED_SPEC | a rule would compare it with a sibling, but its 规格 is not parsed (only identical text compares) |
| SIBLINGS_UNPARSED | a rule would compare it with a sibling, but the siblings' 规格 are not parsed |
| SPEC_FAMILY | a rule would compare it with a sibling, but their 规格 are in different unit families (mg / IU / ml) |
| ALONE | the only active listing of its group (通用名 + 剂型组) |
| NO_BENCHMARK | the group has others, but none a rule may compare it with (quality tier, maker) |

"A rule would compare it" is the same pair search with the 规格 left out (per group instead of per
comparison class), so a spec reason is only given when the spec is what stood in the way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.utils.translation import gettext_lazy as _

from catalogue.specs import normalise_text
from pricing.engine.benchmark import class_pairs, sibling_pairs
from pricing.engine.rules import four_same, same_maker_spec, tier_evaluated, tier_unevaluated
from pricing.engine.rules.common import active, targets_of
from pricing.engine.ruleset import RuleParams

REASONS: dict[str, object] = {
    "INACTIVE": _("未挂网（暂停/撤网），不参与比较"),
    "VBP": _("集采中选药品，不作为纠偏对象（仅作比价基准）"),
    "UNKNOWN_FORM": _("剂型不在剂型组对照表中，单独成组"),
    "UNPARSED_SPEC": _("规格无法解析，而同组有可解析规格的药品"),
    "SIBLINGS_UNPARSED": _("同组其他药品规格无法解析，无法换算比较"),
    "SPEC_FAMILY": _("规格与同组药品单位类别不同（含量/单位/装量），无法换算比较"),
    "ALONE": _("同组（通用名+剂型组）仅此一个挂网药品"),
    "NO_BENCHMARK": _("同组没有可与之比较的药品（质量层次、生产企业或规格类别不符）"),
}
REASON_ORDER = tuple(REASONS)


def rule_pairs(listings: pd.DataFrame, refs: pd.DataFrame | None, params: RuleParams) -> dict[str, pd.DataFrame]:
    """For each enabled rule, (target, bench) pairs — the benchmark a rule compared each target with
    (for 四同: target, ref = every reference row of the same product). No flag decision here."""
    pool = active(listings)
    targets = targets_of(pool, params)
    out: dict[str, pd.DataFrame] = {}
    for rule in (tier_unevaluated, tier_evaluated):
        if rule.CODE in params.rules_enabled:
            t = targets[targets["tier_class"].isin(rule.TARGET_CLASSES)]
            b = pool[pool["tier_class"].isin(rule.BENCHMARK_CLASSES)]
            out[rule.CODE] = class_pairs(listings, t, b, params)
    if same_maker_spec.CODE in params.rules_enabled:
        by, key = ["cid", "maker_code", "tier_class_code"], ["spec_code", "n"]
        out[same_maker_spec.CODE] = sibling_pairs(listings, targets, pool, by, key, params)
    if four_same.CODE in params.rules_enabled and refs is not None and not refs.empty and not targets.empty:
        out[four_same.CODE] = four_same.matches(targets, refs)
    return out


def known_forms(listings: pd.DataFrame, params: RuleParams) -> np.ndarray:
    """Is each listing's raw 剂型 in the rule set's alias table (else it forms a group of its own)?"""
    aliases = {normalise_text(k) for k in params.form_aliases}
    codes, uniques = pd.factorize(listings["dosage_form"].astype(str))
    return np.array([normalise_text(u) in aliases for u in uniques], dtype=bool)[codes]


def _pairs_ignoring_spec(listings: pd.DataFrame, params: RuleParams) -> np.ndarray:
    """Would an enabled listing rule find a benchmark for each row if every 规格 were comparable?"""
    n = len(listings)
    is_active = listings["active"].to_numpy(dtype=bool)
    target = is_active & (~listings["vbp"].to_numpy(dtype=bool) | params.vbp_winners_are_targets)
    tier = listings["tier_class"].to_numpy()
    gid = listings["gid"].to_numpy()
    out = np.zeros(n, dtype=bool)
    for rule in (tier_unevaluated, tier_evaluated):
        if rule.CODE in params.rules_enabled:
            has_bench = pd.Series(is_active & np.isin(tier, rule.BENCHMARK_CLASSES)).groupby(gid).transform("any")
            out |= target & np.isin(tier, rule.TARGET_CLASSES) & has_bench.to_numpy(dtype=bool)
    if same_maker_spec.CODE in params.rules_enabled:
        frame = pd.DataFrame(
            {"gid": gid, "maker": listings["maker_code"].to_numpy(), "tier": listings["tier_class_code"].to_numpy()}
        )
        frame["spec"], frame["n"], frame["one"] = listings["spec_code"].to_numpy(), listings["n"].to_numpy(), 1
        frame = frame[is_active]
        in_set = frame.groupby(["gid", "maker", "tier"])["one"].transform("sum")
        same_key = frame.groupby(["gid", "maker", "tier", "spec", "n"])["one"].transform("sum")
        others = np.zeros(n, dtype=bool)
        others[frame.index.to_numpy()] = (in_set - same_key).to_numpy() > 0
        out |= target & others
    return out


def blind_spots(listings: pd.DataFrame, pairs: dict[str, pd.DataFrame], params: RuleParams) -> pd.Series:
    """Reason code per listing row that no rule could compare ("" for a checked listing)."""
    n = len(listings)
    checked = np.zeros(n, dtype=bool)
    for frame in pairs.values():
        if not frame.empty:
            checked[frame["target"].to_numpy(dtype=np.int64)] = True
    is_active = listings["active"].to_numpy(dtype=bool)
    vbp = listings["vbp"].to_numpy(dtype=bool) & (not params.vbp_winners_are_targets)
    unparsed = listings["kind"].to_numpy() == "u"
    gid = listings["gid"].to_numpy()
    group = pd.DataFrame({"gid": gid, "active": is_active, "unparsed": is_active & unparsed})
    per_group = group.groupby("gid")[["active", "unparsed"]].sum()
    g_active = per_group["active"].reindex(gid).to_numpy()
    g_unparsed = per_group["unparsed"].reindex(gid).to_numpy()
    spec_in_the_way = _pairs_ignoring_spec(listings, params)
    reason = np.select(
        [
            checked,
            ~is_active,
            vbp,
            ~known_forms(listings, params),
            spec_in_the_way & unparsed,
            spec_in_the_way & (g_unparsed > 0),
            spec_in_the_way,
            g_active <= 1,
        ],
        ["", "INACTIVE", "VBP", "UNKNOWN_FORM", "UNPARSED_SPEC", "SIBLINGS_UNPARSED", "SPEC_FAMILY", "ALONE"],
        default="NO_BENCHMARK",
    )
    return pd.Series(reason, index=listings.index, dtype=object)


def reason_counts(reasons: pd.Series) -> list[tuple[str, str, int]]:
    """(code, label, count) for every reason that occurs, in REASON_ORDER."""
    counts = reasons[reasons != ""].value_counts()
    return [(code, str(REASONS[code]), int(counts[code])) for code in REASON_ORDER if code in counts.index]
