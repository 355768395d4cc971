"""Provincial dialects (方言, FORMATS.md §5): turn a province's own export into §1's columns and values.

Runs between reading and validation, and only ever on *distinct* values (a column of a million cells
has a few thousand), so a dialect file costs little more than a §1 file:

- the header row is found (a title row above it is skipped) and header synonyms are renamed;
- a combined 规格包装 column is split into 规格 / 转换比 / 最小制剂单位 / 包装单位 (packaging.py);
- 挂网价格 decorations (¥, 元, thousands separators) are removed;
- 质量层次 / 是否集采中选 / 挂网状态 synonyms become the canonical tier, 是/否 and 挂网/暂停/撤网
  (looked up case-insensitively, so a profile may map `A级` or `Y`).

Row numbers stay those of the file: the frame's index is untouched (row = index + 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from catalogue.specs import normalise_text
from catalogue.vocabulary import Vocabulary, lookup_key

from .errors import RowError
from .headers import CATALOGUE_COLUMNS, Column
from .packaging import split_spec_pack
from .validate import warnings_for

SPEC_PACK = "spec_pack"
SPEC_PACK_HEADER = "规格包装"
HEADER_SCAN_ROWS = 20

# canonical key → header synonyms (FORMATS.md §5.1), matched after `header_key`
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "listing_code": ("药品流水号", "挂网流水号", "产品编号", "产品ID", "挂网药品编码"),
    "nhsa_code": ("国家医保药品编码", "医保代码", "医保药品代码", "国家药品代码"),
    "generic_name": ("药品通用名", "通用名称", "药品名称"),
    "dosage_form": ("实际剂型", "剂型名称"),
    "strength": ("实际规格", "制剂规格", "规格名称"),
    SPEC_PACK: ("规格包装", "包装规格"),
    "pack_quantity": ("包装数量", "转换系数", "最小包装数量"),
    "min_unit": ("最小计价单位", "制剂单位"),
    "pack_unit": ("最小包装单位",),
    "manufacturer": ("生产企业名称", "生产厂家"),
    "mah": ("上市许可持有人名称", "持有人"),
    "quality_tier": ("一致性评价情况", "过评情况", "质量层次名称"),
    "vbp_selected": ("是否中选", "集采中选", "国家集采中选"),
    "listed_price": ("挂网价", "挂网价(元)", "挂网价格(元)", "挂网价格(元/包装)"),
    "listing_status": ("状态", "挂网状态名称"),
}

_SPACES = re.compile(r"\s+")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")


def header_key(header: object) -> str:
    """How headers are compared: NFKC, trimmed, inner spaces removed, lower case."""
    return _SPACES.sub("", normalise_text(header)).lower()


def header_lookup(columns: tuple[Column, ...], mapping: dict[str, str] | None = None) -> dict[str, str]:
    """header_key → column key: canonical headers, English aliases, synonyms, then a profile's mapping."""
    lookup: dict[str, str] = {}
    for col in columns:
        lookup[header_key(col.header)] = col.key
        lookup[header_key(col.key)] = col.key
    known = {c.key for c in columns}
    for key, synonyms in HEADER_SYNONYMS.items():
        if key in known or key == SPEC_PACK:
            for synonym in synonyms:
                lookup.setdefault(header_key(synonym), key)
    lookup.setdefault(header_key(SPEC_PACK), SPEC_PACK)
    for header, key in (mapping or {}).items():
        lookup[header_key(header)] = key
    return lookup


def _recognised(names: list[object], lookup: dict[str, str], columns: tuple[Column, ...]) -> bool:
    """Do these header cells name every required column (规格 + 转换比 may come from 规格包装)?"""
    keys = {lookup.get(header_key(n)) for n in names}
    if SPEC_PACK in keys:
        keys |= {"strength", "pack_quantity"}
    return all(c.key in keys for c in columns if c.required)


def _unique_names(cells: list[object]) -> list[str]:
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(cells):
        name = str(cell).strip() or f"Unnamed: {i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        seen.setdefault(name, 0)
        names.append(name)
    return names


def locate_header(
    frame: pd.DataFrame, columns: tuple[Column, ...] = CATALOGUE_COLUMNS, mapping: dict[str, str] | None = None
) -> pd.DataFrame:
    """The frame re-read from its real header row: the first row naming every required column.

    Readers take the first non-empty row as the header; a provincial export often has a title row
    (`湖南省挂网药品目录（2024年7月）`) above it. When the first row is not the header, the next
    rows (up to HEADER_SCAN_ROWS) are tried. Nothing found → the frame is returned unchanged and
    header matching reports the missing columns as usual.
    """
    lookup = header_lookup(columns, mapping)
    if _recognised(list(frame.columns), lookup, columns):
        return frame
    head = frame.head(HEADER_SCAN_ROWS)
    best, best_count = -1, _known_count(list(frame.columns), lookup)
    for position in range(len(head)):
        cells = head.iloc[position].tolist()
        if _recognised(cells, lookup, columns):
            best = position
            break
        count = _known_count(cells, lookup)
        if count > best_count and count >= 3:  # a header with some unknown columns (mapped in §5.5)
            best, best_count = position, count
    if best < 0:
        return frame
    body = frame.iloc[best + 1 :].copy()
    body.columns = _unique_names(head.iloc[best].tolist())
    return body


def _known_count(names: list[object], lookup: dict[str, str]) -> int:
    return len({lookup[k] for k in map(header_key, names) if k in lookup})


def rename_headers(
    frame: pd.DataFrame, columns: tuple[Column, ...] = CATALOGUE_COLUMNS, mapping: dict[str, str] | None = None
) -> pd.DataFrame:
    """Rename synonym (and profile-mapped) headers to the canonical Chinese header (first one wins)."""
    lookup = header_lookup(columns, mapping)
    headers = {c.key: c.header for c in columns}
    headers[SPEC_PACK] = SPEC_PACK_HEADER
    rename: dict[object, str] = {}
    taken: set[str] = set()
    for original in frame.columns:
        key = lookup.get(header_key(original))
        if key is None or key in taken:
            continue
        taken.add(key)
        rename[original] = headers[key]
    return frame.rename(columns=rename)


@dataclass
class DialectResult:
    """The frame in §1 columns, plus what the dialect step found (errors block, warnings do not)."""

    frame: pd.DataFrame
    errors: list[RowError] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    spec_pack_rows: np.ndarray | None = None  # rows whose 规格/转换比 came from 规格包装


def split_spec_pack_column(frame: pd.DataFrame) -> DialectResult:
    """Fill 规格 / 转换比 / 最小制剂单位 / 包装单位 from 规格包装 (FORMATS.md §5.2).

    A separate 规格 or 转换比 column wins over the combined one; a 转换比 that disagrees with the
    product of the counts is a warning. A 规格包装 that cannot be split is a row error.
    """
    if SPEC_PACK_HEADER not in frame.columns:
        return DialectResult(frame)
    frame = frame.copy()
    raw = frame[SPEC_PACK_HEADER].astype(object).map(lambda v: v.strip() if isinstance(v, str) else str(v).strip())
    codes, uniques = pd.factorize(raw.to_numpy(dtype=object))
    parts = [split_spec_pack(u) if u else None for u in uniques]
    spec = np.array([p.spec if p else "" for p in parts] + [""], dtype=object)[codes]
    pack = np.array([str(p.pack_quantity) if p else "" for p in parts] + [""], dtype=object)[codes]
    min_unit = np.array([p.min_unit if p else "" for p in parts] + [""], dtype=object)[codes]
    pack_unit = np.array([p.pack_unit if p else "" for p in parts] + [""], dtype=object)[codes]
    failed = np.array([p is None for p in parts] + [True], dtype=bool)[codes]

    errors = [
        RowError(int(i) + 2, SPEC_PACK_HEADER, str(v), _("规格包装无法拆分为“规格×数量/包装单位”（例：0.25g*24粒/盒）"))
        for i, v in zip(frame.index.to_numpy()[failed], raw.to_numpy()[failed], strict=True)
    ]
    warnings: list[dict] = []
    for header, values in (("规格", spec), ("最小制剂单位", min_unit), ("包装单位", pack_unit)):
        if header not in frame.columns:
            frame[header] = values
        else:
            own = frame[header].astype(object).map(lambda v: str(v).strip()).to_numpy(dtype=object)
            frame[header] = np.where(own == "", values, own)
    if "转换比" not in frame.columns:
        frame["转换比"] = pack
    else:
        own = frame["转换比"].astype(object).map(lambda v: str(v).strip()).to_numpy(dtype=object)
        disagree = (own != "") & (pack != "") & (own != pack)
        frame["转换比"] = np.where(own == "", pack, own)
        if disagree.any():
            warnings = warnings_for(
                frame,
                pd.Series(disagree, index=frame.index),
                "转换比",
                "转换比",
                _("转换比与规格包装中的数量之积不一致，以转换比为准"),
            )
    return DialectResult(frame, errors, warnings, failed)


def clean_prices(values: pd.Series) -> pd.Series:
    """挂网价格 without decorations: leading ¥/￥, trailing 元, thousands separators (per distinct value)."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    cleaned = np.array([_clean_price(u) for u in uniques] + [""], dtype=object)
    return pd.Series(cleaned[codes], index=values.index, dtype=object)


def _clean_price(value: object) -> str:
    text = normalise_text(value)
    if text.startswith("¥"):
        text = text[1:].strip()
    if text.endswith("元"):
        text = text[:-1].strip()
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    return text


def canonical_choices(values: pd.Series, aliases: dict[str, str]) -> pd.Series:
    """Map each distinct value through a vocabulary table (lookup keys); unknown values stay as written."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    mapped = np.array([aliases.get(lookup_key(u), u) for u in uniques] + [""], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def apply_values(frame: pd.DataFrame, vocabulary: Vocabulary) -> pd.DataFrame:
    """Prices undecorated and 质量层次 / 是否集采中选 / 挂网状态 in canonical words (§1 keys, trimmed).

    Unknown values stay as written, so validation reports them with row and column."""
    frame = frame.copy()
    frame["listed_price"] = clean_prices(frame["listed_price"])
    frame["quality_tier"] = canonical_choices(frame["quality_tier"], vocabulary.tier_aliases)
    frame["vbp_selected"] = canonical_choices(frame["vbp_selected"], vocabulary.vbp_aliases)
    frame["listing_status"] = canonical_choices(frame["listing_status"], vocabulary.status_aliases)
    return frame
