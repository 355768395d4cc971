"""Normalisation of validated rows into Listing values (RULES.md §1–2), vectorised.

Text functions run once per *distinct* value (pd.factorize), so a million rows with a few thousand
distinct 规格 cost a few thousand parses. Unit price P/n is computed exactly with integers and
rounded half-up to the model's 10 decimal places.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from catalogue.specs import form_group, normalise_text, parse_strength

from .validate import warnings_for

UNIT_PRICE_PLACES = 10
_INT64_SAFE = 9 * 10**12  # P × 10^4 below this keeps P × 10^10 inside int64


def map_unique(values: pd.Series, func: Callable[[str], Any]) -> np.ndarray:
    """Apply `func` to each distinct value once and spread the results back (object array)."""
    codes, mapped = _map_distinct(values, func)
    return mapped[codes]


def _map_distinct(values: pd.Series, func: Callable[[str], Any]) -> tuple[np.ndarray, np.ndarray]:
    """(codes per row, func of each distinct value); code -1 (missing) never occurs: cells are "" not NaN."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [func(u) for u in uniques]
    mapped[-1] = None
    return codes, mapped


def _attribute(codes: np.ndarray, mapped: np.ndarray, func: Callable[[Any], Any]) -> np.ndarray:
    """func applied to each distinct result, spread to the rows (a few thousand calls, not a million)."""
    return np.array([func(m) if m is not None else None for m in mapped], dtype=object)[codes]


def _decimal_text(value: Any) -> str | None:
    return None if value is None else format(value, "f")


def _ten_thousandths(text: str) -> int:
    whole, _dot, frac = text.lstrip("+").partition(".")
    return int(whole or "0") * 10000 + int((frac + "0000")[:4])


def price_ten_thousandths(prices: pd.Series) -> np.ndarray:
    """Validated price texts ('616.68', '+5', '.5') → exact integers in units of 0.0001 yuan."""
    codes, uniques = pd.factorize(prices)
    values = [_ten_thousandths(u) for u in uniques]
    if max(values, default=0) >= _INT64_SAFE:
        return np.array(values, dtype=object)[codes]
    return np.array(values, dtype=np.int64)[codes]


def unit_prices(price4: np.ndarray, packs: np.ndarray) -> np.ndarray:
    """Exact P/n, rounded half-up to 10 decimal places, as decimal text; computed once per distinct
    (P, n) pair (a catalogue repeats the same price and pack size many times) and spread to the rows."""
    p_codes, p_uniques = pd.factorize(price4)
    n_codes, n_uniques = pd.factorize(packs)
    # one integer key per (P, n) pair: factorising int64 is far cheaper than a MultiIndex of tuples
    codes, keys = pd.factorize(p_codes.astype(np.int64) * len(n_uniques) + n_codes)
    p = np.asarray(p_uniques, dtype=price4.dtype)[keys // max(len(n_uniques), 1)]
    n = np.asarray(n_uniques, dtype=np.int64)[keys % max(len(n_uniques), 1)]
    return np.array(_exact_quotients(p, n), dtype=object)[codes]


def _exact_quotients(price4: np.ndarray, packs: np.ndarray) -> list[str]:
    scale = 10 ** (UNIT_PRICE_PLACES - 4)
    if price4.dtype == object:
        num = np.array([int(p) * scale for p in price4], dtype=object)
        packs = packs.astype(object)
    else:
        num = price4.astype("int64") * scale
    q, r = np.divmod(num, packs)
    q = q + (2 * r >= packs)
    d = 10**UNIT_PRICE_PLACES
    return [f"{v // d}.{v % d:010d}" for v in q.tolist()]


@dataclass
class NormalisedCatalogue:
    """Values ready for loading plus the import report's warnings."""

    frame: pd.DataFrame  # one column per Listing field, plus manufacturer_norm
    manufacturers: dict[str, str]  # name_norm → display name (first spelling seen)
    warnings: list[dict]


def normalise_catalogue(
    frame: pd.DataFrame,
    extras: list[str],
    *,
    form_aliases: dict[str, str],
    tier_aliases: dict[str, str],
    tier_classes: dict[str, str],
) -> NormalisedCatalogue:
    """Turn a validated catalogue frame (keys as columns, cells trimmed) into Listing values."""
    aliases = {normalise_text(k): v for k, v in form_aliases.items()}
    tiers = {normalise_text(k): v for k, v in tier_aliases.items()}
    out = pd.DataFrame(index=frame.index)
    out["row_number"] = frame.index.to_numpy() + 2
    for key in (
        "listing_code",
        "nhsa_code",
        "generic_name",
        "trade_name",
        "dosage_form",
        "strength",
        "min_unit",
        "pack_unit",
    ):
        out[key] = frame[key]
    out["generic_name_norm"] = map_unique(frame["generic_name"], normalise_text)

    codes, forms = _map_distinct(frame["dosage_form"], lambda f: form_group(f, aliases))
    out["form_group"] = _attribute(codes, forms, lambda f: f[0])
    form_known = pd.Series(_attribute(codes, forms, lambda f: f[1]).astype(bool), index=frame.index)

    codes, specs = _map_distinct(frame["strength"], parse_strength)
    out["strength_norm"] = _attribute(codes, specs, lambda s: s.norm)
    # dtype=object keeps None (NULL): pandas 3 would infer its `str` dtype and turn None into NaN
    content = _attribute(codes, specs, lambda s: _decimal_text(s.content))
    out["content_value"] = pd.Series(content, index=frame.index, dtype=object)
    out["content_unit"] = _attribute(codes, specs, lambda s: s.unit or "")
    volume = _attribute(codes, specs, lambda s: _decimal_text(s.volume_ml))
    out["volume_ml"] = pd.Series(volume, index=frame.index, dtype=object)
    spec_parsed = pd.Series(_attribute(codes, specs, lambda s: s.parsed).astype(bool), index=frame.index)
    out["spec_parsed"] = spec_parsed.to_numpy()

    packs = map_unique(frame["pack_quantity"], lambda n: int(n.lstrip("+"))).astype(np.int64)
    out["pack_quantity"] = packs
    out["manufacturer_name"] = frame["manufacturer"]
    out["manufacturer_norm"] = map_unique(frame["manufacturer"], normalise_text)
    out["mah"] = frame["mah"].where(frame["mah"] != "", frame["manufacturer"])
    tier = map_unique(frame["quality_tier"], lambda t: tiers[normalise_text(t)])
    out["quality_tier"] = tier
    out["tier_class"] = map_unique(pd.Series(tier, index=frame.index), lambda t: tier_classes[t])
    out["vbp_selected"] = map_unique(frame["vbp_selected"], lambda v: normalise_text(v) == "是").astype(bool)

    prices = frame["listed_price"]
    out["listed_price"] = map_unique(prices, lambda p: p.lstrip("+"))
    out["unit_price"] = unit_prices(price_ten_thousandths(prices), packs)

    status = map_unique(frame["listing_status"], lambda s: normalise_text(s) or "挂网")
    out["listing_status"] = status
    out["is_active"] = status == "挂网"
    out["extra"] = _extra_json(frame, extras)

    first_names = pd.DataFrame({"norm": out["manufacturer_norm"], "name": frame["manufacturer"]}).drop_duplicates(
        "norm"
    )
    manufacturers = dict(zip(first_names["norm"], first_names["name"], strict=True))
    warnings = warnings_for(frame, ~spec_parsed, "strength", "规格", _("规格无法解析，仅与规格文字完全相同的药品比较"))
    warnings += warnings_for(frame, ~form_known, "dosage_form", "剂型", _("剂型不在剂型组对照表中，单独成组"))
    return NormalisedCatalogue(out, manufacturers, warnings)


def _json_pair(key: str) -> Callable[[Any], str]:
    prefix = json.dumps(key, ensure_ascii=False) + ": "
    return lambda value: prefix + json.dumps(value, ensure_ascii=False)


def _extra_json(frame: pd.DataFrame, extras: list[str]) -> list[str] | str:
    """Unknown extra columns as a JSON object text per row ('{}' when there are none)."""
    if not extras:
        return "{}"
    # each `"key": value` pair JSON-escaped once per distinct value, then one string join per row
    parts = [map_unique(frame[e].astype(object), _json_pair(str(e))) for e in extras]
    if len(parts) == 1:
        return ["{" + p + "}" for p in parts[0]]
    return ["{" + ", ".join(cells) + "}" for cells in zip(*parts, strict=True)]


LISTING_FIELDS: tuple[str, ...] = (
    "row_number",
    "listing_code",
    "nhsa_code",
    "generic_name",
    "generic_name_norm",
    "trade_name",
    "dosage_form",
    "form_group",
    "strength",
    "strength_norm",
    "content_value",
    "content_unit",
    "volume_ml",
    "spec_parsed",
    "pack_quantity",
    "min_unit",
    "pack_unit",
    "manufacturer_name",
    "mah",
    "quality_tier",
    "tier_class",
    "vbp_selected",
    "listed_price",
    "unit_price",
    "listing_status",
    "is_active",
    "extra",
)
