"""Header matching (FORMATS.md): Chinese header canonical, English alias accepted, after NFKC + trim."""

from dataclasses import dataclass

import pandas as pd
from django.utils.translation import gettext as _

from catalogue.specs import normalise_text

from .errors import IngestRejected, RowError


@dataclass(frozen=True)
class Column:
    """One column of an upload format: `key` is the English alias (and our field name)."""

    header: str
    key: str
    required: bool
    max_length: int | None = None


CATALOGUE_COLUMNS: tuple[Column, ...] = (
    Column("挂网编号", "listing_code", True, 64),
    Column("医保药品编码", "nhsa_code", False, 64),
    Column("通用名", "generic_name", True, 200),
    Column("商品名", "trade_name", False, 200),
    Column("剂型", "dosage_form", True, 100),
    Column("规格", "strength", True, 200),
    Column("转换比", "pack_quantity", True),
    Column("最小制剂单位", "min_unit", False, 20),
    Column("包装单位", "pack_unit", False, 20),
    Column("生产企业", "manufacturer", True, 200),
    Column("上市许可持有人", "mah", False, 200),
    Column("质量层次", "quality_tier", True, 20),
    Column("是否集采中选", "vbp_selected", False),
    Column("挂网价格", "listed_price", True),
    Column("挂网状态", "listing_status", False, 20),
)

# 通用名, 剂型, 规格, 转换比, 生产企业 are required only when 医保药品编码 is empty (checked in validate).
REFERENCE_COLUMNS: tuple[Column, ...] = (
    Column("省份", "province", True, 50),
    Column("医保药品编码", "nhsa_code", False, 64),
    Column("通用名", "generic_name", False, 200),
    Column("剂型", "dosage_form", False, 100),
    Column("规格", "strength", False, 200),
    Column("转换比", "pack_quantity", False),
    Column("生产企业", "manufacturer", False, 200),
    Column("挂网价格", "listed_price", True),
)


def _norm(header: object) -> str:
    return normalise_text(header).lower()


def match_headers(frame: pd.DataFrame, columns: tuple[Column, ...]) -> tuple[pd.DataFrame, list[str]]:
    """Rename known columns to their keys; returns (frame, extra column names kept as-is).

    Raises IngestRejected naming every required column that is missing. Optional columns that are
    absent are added as empty strings so later steps never need to ask.
    """
    lookup: dict[str, Column] = {}
    for col in columns:
        lookup[_norm(col.header)] = col
        lookup[_norm(col.key)] = col
    rename: dict[str, str] = {}
    extras: list[str] = []
    for original in frame.columns:
        col = lookup.get(_norm(original))
        if col is None or col.key in rename.values():
            extras.append(str(original))
        else:
            rename[original] = col.key
    missing = [c for c in columns if c.required and c.key not in rename.values()]
    if missing:
        errors = [
            RowError(
                1,
                c.header,
                "",
                _("缺少必填列「%(header)s」（或英文别名 %(key)s）") % {"header": c.header, "key": c.key},
            )
            for c in missing
        ]
        names = "、".join(c.header for c in missing)
        raise IngestRejected(_("缺少必填列：%(names)s") % {"names": names}, errors)
    frame = frame.rename(columns=rename)
    for col in columns:
        if col.key not in frame.columns:
            frame[col.key] = ""
    extras = [e for e in extras if normalise_text(e) and not e.startswith("Unnamed:")]
    return frame, extras
