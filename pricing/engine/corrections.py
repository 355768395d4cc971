"""Applying regulators' corrections (人工修正, catalogue.corrections) to the detection frame. Pure.

A correction keyed by 挂网编号 wins over one keyed by the normalised product. Corrected 规格 is
parsed like an uploaded one, 质量层次 goes through the rule set's tiers, and 剂型组 replaces the
group. Each corrected listing gets a note, written into its flags' factors ("规格按人工修正 …").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pandas as pd
from django.utils.translation import gettext as _

from catalogue.specs import parse_strength
from pricing.engine.ruleset import RuleParams


def _notes(c, before: dict) -> list[str]:
    who = getattr(c.created_by, "username", "") or _("系统")
    tail = _("（人工修正 #%(id)d 第%(v)d版，%(who)s：%(reason)s）") % {
        "id": c.pk,
        "v": c.version,
        "who": who,
        "reason": c.reason,
    }
    out = []
    if c.strength:
        out.append(_("规格按人工修正：%(old)s → %(new)s") % {"old": before["spec"], "new": c.strength} + tail)
    if c.pack_quantity:
        out.append(_("转换比按人工修正：%(old)s → %(new)s") % {"old": before["n"], "new": c.pack_quantity} + tail)
    if c.form_group:
        out.append(
            _("剂型组按人工修正：%(old)s → %(new)s") % {"old": before["dosage_form"], "new": c.form_group} + tail
        )
    if c.quality_tier:
        out.append(_("质量层次按人工修正：%(old)s → %(new)s") % {"old": before["tier"], "new": c.quality_tier} + tail)
    return out


def apply_corrections(
    listings: pd.DataFrame, corrections: Iterable, params: RuleParams
) -> tuple[pd.DataFrame, dict[int, list[str]]]:
    """The frame (load_listings columns) with corrections applied, and notes per listing id."""
    corrections = list(corrections)
    if not corrections or listings.empty:
        return listings, {}
    by_code = {c.listing_code: c for c in corrections if c.listing_code}
    by_product = {c.product_key: c for c in corrections if c.product_key}
    codes = listings["code"].tolist()
    keys = (listings["generic"] + "|" + listings["maker"] + "|" + listings["spec"]).tolist() if by_product else None
    hits = []
    for pos, code in enumerate(codes):
        c = by_code.get(code) or (by_product.get(keys[pos]) if keys else None)
        if c is not None:
            hits.append((pos, c))
    if not hits:
        return listings, {}
    listings = listings.copy()
    cols = {name: listings.columns.get_loc(name) for name in listings.columns}
    notes: dict[int, list[str]] = {}
    for pos, c in hits:
        row = listings.iloc[pos]
        before = {k: row[k] for k in ("spec", "n", "dosage_form", "tier")}
        if c.strength:
            spec = parse_strength(c.strength)
            for name, value in (("spec", spec.norm), ("content", spec.content), ("unit", spec.unit or ""),
                                ("volume", spec.volume_ml)):  # fmt: skip
                listings.iat[pos, cols[name]] = value
        if c.pack_quantity:
            listings.iat[pos, cols["n"]] = int(c.pack_quantity)
        if c.form_group:
            # the group name as the 剂型: it maps to itself (or is a group of its own)
            listings.iat[pos, cols["dosage_form"]] = c.form_group
        if c.quality_tier:
            tier = params.tier_aliases.get(c.quality_tier, c.quality_tier)
            listings.iat[pos, cols["tier"]] = tier
            listings.iat[pos, cols["tier_class"]] = params.tier_classes.get(tier, "")
        notes[int(row["id"])] = _notes(c, before)
    return listings, notes


def annotate(rows: Iterator[dict], notes: dict[int, list[str]]) -> Iterator[dict]:
    """Flag rows with the target's (and benchmark's) correction notes in their factors."""
    if not notes:  # no correction in force: every row passes unchanged (no per-row lookups)
        yield from rows
        return
    for row in rows:
        mine = notes.get(row["listing_id"], [])
        theirs = notes.get(row.get("benchmark_listing_id") or -1, [])
        if mine or theirs:
            factors = dict(row["factors"])
            if mine:
                factors["corrections"] = mine
            if theirs:
                factors["benchmark_corrections"] = theirs
            row = {**row, "factors": factors}
        yield row


def corrections_for(catalogue_version_id: int) -> list:
    """The corrections in force for the catalogue version's province (newest version of each key)."""
    from catalogue.corrections import current_corrections
    from catalogue.models import CatalogueVersion

    province = CatalogueVersion.objects.filter(pk=catalogue_version_id).values_list("province", flat=True).first()
    return current_corrections(province) if province else []
