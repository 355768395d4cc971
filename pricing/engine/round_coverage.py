"""A round's blind spots (盲区) and "why is this listing not flagged?" (为何未纠偏), read-only.

Both rebuild the round's listings frame exactly as detection does (same loader, same rule-set
parameters, same pair search) and ask pricing.engine.coverage which listing each rule could compare.
The summary is cached per round and detection run, so the overview page does not redo the work.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from django.core.cache import cache
from django.db.models import Q
from django.utils.translation import gettext as _

from catalogue.ingest.normalise import map_unique
from catalogue.models import Listing
from catalogue.specs import normalise_text
from pricing.engine import detection
from pricing.engine.benchmark import Columns, evaluate_one
from pricing.engine.corrections import apply_corrections, corrections_for
from pricing.engine.coverage import REASONS, blind_spots, reason_counts, rule_pairs
from pricing.engine.frame import prepare
from pricing.engine.limits import Side, evaluate_reference
from pricing.engine.ruleset import RuleParams
from pricing.models import CorrectionRound, Flag

EXPORT_HEADERS = (
    "挂网编号", "通用名", "剂型", "剂型组", "规格", "转换比", "生产企业", "质量层次", "是否集采中选",
    "挂网价格", "挂网状态", "原因代码", "未能比较的原因",
)  # fmt: skip


@dataclass
class Coverage:
    """The round's prepared listings with a `reason` column ("" = compared by at least one rule)."""

    listings: pd.DataFrame
    pairs: dict[str, pd.DataFrame]
    refs: pd.DataFrame | None
    params: RuleParams


def _params(round_: CorrectionRound) -> RuleParams:
    return RuleParams.from_rule_set(round_.rule_set)


def _coverage(round_: CorrectionRound, listings: pd.DataFrame, params: RuleParams) -> Coverage:
    if listings.empty:
        return Coverage(listings.assign(reason=pd.Series(dtype=object)), {}, None, params)
    listings, _notes = apply_corrections(listings, corrections_for(round_.catalogue_version_id), params)
    listings = prepare(listings.reset_index(drop=True), params)
    refs = None
    if "FOUR_SAME_NATIONAL" in params.rules_enabled:
        refs = detection.load_references(round_.reference_set_id, params)
    pairs = rule_pairs(listings, refs, params)
    listings["reason"] = blind_spots(listings, pairs, params)
    return Coverage(listings, pairs, refs, params)


def round_coverage(round_: CorrectionRound) -> Coverage:
    """Coverage of every listing of the round's catalogue version."""
    params = _params(round_)
    return _coverage(round_, detection.load_listings(round_.catalogue_version_id, params), params)


def _cache_key(round_: CorrectionRound) -> str:
    stamp = round_.detected_at.timestamp() if round_.detected_at else 0
    return f"round-coverage:v1:{round_.pk}:{stamp}:{round_.rule_set_id}"


def coverage_summary(round_: CorrectionRound) -> dict[str, Any]:
    """{listings, active, checked, blind, reasons: [(code, label, count)]} — cached per detection run."""
    key = _cache_key(round_)
    summary = cache.get(key)
    if summary is None:
        frame = round_coverage(round_).listings
        reasons = frame["reason"] if not frame.empty else pd.Series(dtype=object)
        active = frame["active"].to_numpy(dtype=bool) if not frame.empty else np.zeros(0, bool)
        summary = {
            "listings": len(frame),
            "active": int(active.sum()),
            "checked": int((reasons == "").sum()),
            "blind": int((reasons != "").sum()),
            "blind_active": int(((reasons != "").to_numpy() & active).sum()),
            "reasons": [(code, count) for code, _label, count in reason_counts(reasons)],
        }
        cache.set(key, summary, 24 * 3600)
    return {**summary, "reasons": [(code, str(REASONS[code]), count) for code, count in summary["reasons"]]}


def blind_spot_rows(round_: CorrectionRound) -> Iterator[list[Any]]:
    """One row per listing no rule could compare (EXPORT_HEADERS order), by reason then 挂网编号."""
    frame = round_coverage(round_).listings
    if frame.empty:
        return
    blind = frame[frame["reason"] != ""]
    order = {code: i for i, code in enumerate(REASONS)}
    blind = blind.assign(_order=blind["reason"].map(order)).sort_values(["_order", "code"], kind="stable")
    reason_of = dict(zip(blind["id"].tolist(), blind["reason"].tolist(), strict=True))
    group_of = dict(zip(blind["id"].tolist(), blind["form_group"].tolist(), strict=True))
    ids = blind["id"].tolist()
    fields = ("id", "listing_code", "generic_name", "dosage_form", "strength", "pack_quantity", "manufacturer__name",
              "quality_tier", "vbp_selected", "listed_price", "listing_status")  # fmt: skip
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        rows = {r[0]: r for r in Listing.objects.filter(id__in=chunk).values_list(*fields)}
        for listing_id in chunk:
            r = rows[listing_id]
            reason = reason_of[listing_id]
            yield [r[1], r[2], r[3], group_of[listing_id], r[4], r[5], r[6], r[7], _("是") if r[8] else _("否"),
                   r[9], r[10], reason, str(REASONS[reason])]  # fmt: skip


def write_blind_spots_csv(round_: CorrectionRound, out: IO[str]) -> int:
    from pricing.review.exports import neutralise

    writer = csv.writer(out)
    writer.writerow(EXPORT_HEADERS)
    count = 0
    for row in blind_spot_rows(round_):
        writer.writerow([neutralise(v) if isinstance(v, str) else v for v in row])
        count += 1
    return count


def write_blind_spots_xlsx(round_: CorrectionRound, path: Path) -> int:
    import xlsxwriter

    from pricing.review.exports import neutralise

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet(_("未能比较的药品"))
    money = book.add_format({"num_format": "0.00"})
    sheet.write_row(0, 0, EXPORT_HEADERS)
    count = 0
    for count, row in enumerate(blind_spot_rows(round_), start=1):
        for col, value in enumerate(row):
            if isinstance(value, Decimal):
                sheet.write_number(count, col, float(value), money)
            elif isinstance(value, int):
                sheet.write_number(count, col, value)
            else:
                sheet.write_string(count, col, neutralise(str(value)))
    book.close()
    return count


# ---- 为何未纠偏: one listing (or a few) explained ---------------------------------------------------


@dataclass
class RuleVerdict:
    """What one rule did with the listing."""

    rule_code: str
    benchmark: str  # 挂网编号 of the benchmark, or the province (四同)
    benchmark_converted: Decimal | None
    limit_price: Decimal | None
    flagged: bool


@dataclass
class ListingVerdict:
    listing_id: int
    code: str
    generic_name: str
    dosage_form: str
    form_group: str
    spec: str
    n: int
    maker: str
    tier: str
    price: Decimal
    reason_code: str  # "" when some rule compared it
    reason: str
    rules: list[RuleVerdict]
    flags: list[Flag]


def search_listings(round_: CorrectionRound, query: str, limit: int = 20) -> list[int]:
    """Listing ids of the round's catalogue matching a 挂网编号 (exact) or a name / maker fragment."""
    query = query.strip()
    if not query:
        return []
    qs = Listing.objects.filter(version_id=round_.catalogue_version_id)
    exact = list(qs.filter(listing_code=query).values_list("id", flat=True)[:limit])
    if exact:
        return exact
    match = Q(generic_name__icontains=query) | Q(trade_name__icontains=query) | Q(manufacturer__name__icontains=query)
    return list(qs.filter(match).order_by("listing_code").values_list("id", flat=True)[:limit])


def explain_listings(round_: CorrectionRound, listing_ids: list[int]) -> list[ListingVerdict]:
    """Group, benchmark, converted limit and the reason (not) flagged, per listing, as detection saw it.

    Only the listings' 通用名 are loaded (every listing rule compares inside a group of one 通用名,
    and 四同 looks at the listing alone), so the answer is the same as over the whole catalogue."""
    if not listing_ids:
        return []
    params = _params(round_)
    names = set(Listing.objects.filter(id__in=listing_ids).values_list("generic_name_norm", flat=True))
    cov = _coverage(round_, _group_listings(round_.catalogue_version_id, names, params), params)
    frame = cov.listings
    row_of = {int(i): pos for pos, i in enumerate(frame["id"].tolist())}
    flags: dict[int, list[Flag]] = {}
    for flag in Flag.objects.filter(round=round_, listing_id__in=listing_ids).order_by("rule_code"):
        flags.setdefault(flag.listing_id, []).append(flag)
    out = []
    for listing_id in listing_ids:
        t = row_of.get(int(listing_id))
        if t is None:
            continue
        row = frame.iloc[t]
        reason_code = row["reason"]
        verdicts = _rule_verdicts(cov, t)
        out.append(
            ListingVerdict(
                listing_id=int(listing_id),
                code=row["code"],
                generic_name=row["generic_name"],
                dosage_form=row["dosage_form"],
                form_group=row["form_group"],
                spec=row["spec"],
                n=int(row["n"]),
                maker=row["maker"],
                tier=row["tier"],
                price=row["price"],
                reason_code=reason_code,
                reason=_verdict_reason(reason_code, verdicts, flags.get(int(listing_id), [])),
                rules=verdicts,
                flags=flags.get(int(listing_id), []),
            )
        )
    return out


def _group_listings(version_id: int, generic_names: set[str], params: RuleParams) -> pd.DataFrame:
    """detection.load_listings restricted to some 通用名 (an indexed ORM read of a few hundred rows;
    the whole-version loader reads every listing). Same columns and the same tier re-derivation."""
    fields = detection._LISTING_FIELDS
    qs = Listing.objects.filter(version_id=version_id, generic_name_norm__in=generic_names).order_by("listing_code")
    df = pd.DataFrame.from_records(qs.values_list(*(f for _c, f in fields)), columns=[c for c, _f in fields])
    if df.empty:
        return df
    tiers = {t: params.tier_aliases.get(normalise_text(t), normalise_text(t)) for t in df["tier"].unique()}
    df["tier_class"] = df["tier"].map(tiers).map(params.tier_classes).fillna(df["tier_class"])
    df["content"] = map_unique(df["content"], detection._clean_decimal)
    df["volume"] = map_unique(df["volume"], detection._clean_decimal)
    df["unit"] = df["unit"].fillna("")
    df["nhsa"] = df["nhsa"].fillna("")
    return df


def _rule_verdicts(cov: Coverage, t: int) -> list[RuleVerdict]:
    cols = Columns(cov.listings)
    codes = cov.listings["code"].tolist()
    out: list[RuleVerdict] = []
    for rule, pairs in cov.pairs.items():
        if pairs.empty:
            continue
        mine = pairs[pairs["target"].to_numpy() == t]
        if mine.empty:
            continue
        if rule == "FOUR_SAME_NATIONAL":
            refs = cov.refs
            rows = refs.loc[mine["ref"].to_numpy()]
            best = rows.sort_values(["price", "province"], kind="stable").iloc[0]
            ev = evaluate_reference(
                target=Side(cols.price[t], int(cols.n[t])),
                min_price=best["price"],
                province=best["province"],
                n_reference=int(best["n"]) or None,
                tolerance_abs=cov.params.tolerance_abs,
                tolerance_rel=cov.params.tolerance_rel,
                bands=cov.params.bands,
            )
            out.append(RuleVerdict(rule, best["province"], ev.converted, ev.limit, ev.flagged))
            continue
        b = int(mine["bench"].iloc[0])
        ev = evaluate_one(cols, t, b, cov.params)
        out.append(RuleVerdict(rule, codes[b], ev.converted, ev.limit, ev.flagged))
    return out


def _verdict_reason(reason_code: str, verdicts: list[RuleVerdict], flags: list[Flag]) -> str:
    if flags:
        return _("已纠偏（%(n)d 条纠偏记录）") % {"n": len(flags)}
    if reason_code:
        return str(REASONS[reason_code])
    if any(v.flagged for v in verdicts):
        return _("规则判定应纠偏，但本批次没有对应的纠偏记录（请重新计算）")
    return _("挂网价格不高于各规则的纠偏限价")
