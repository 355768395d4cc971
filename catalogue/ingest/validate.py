"""Row validation (FORMATS.md §1–2), vectorised: every error is collected, none stops the scan.

Row numbers are as in the file: the header is row 1, the first data row is row 2 (frame index + 2).
"""

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from catalogue.specs import normalise_text

from .errors import RowError
from .headers import CATALOGUE_COLUMNS, REFERENCE_COLUMNS, Column

PRICE_RE = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
MAX_PRICE = 10**10  # listed_price has 10 integer digits
MAX_PACK = 2**31 - 1
VBP_VALUES = frozenset({"", "是", "否"})
STATUS_VALUES = frozenset({"", "挂网", "暂停", "撤网"})


def clean(frame: pd.DataFrame, columns: Iterable[Column]) -> pd.DataFrame:
    """Trim the known columns (NFKC happens where a value is interpreted, on unique values)."""
    frame = frame.copy()
    for col in columns:
        frame[col.key] = strip_values(frame[col.key])
    return frame


def strip_values(values: pd.Series) -> pd.Series:
    """Trimmed text as a plain object column (cells are Python str; non-str cells become text).

    A plain `str.strip` per cell is cheaper than factorising first: hashing a million strings
    costs more than trimming them. Cheaper still is not trimming: most columns (codes, prices,
    names without spaces) hold no whitespace at all, which one C-level scan of the joined column
    proves, and then every cell is already its own `strip()`."""
    cells = values.to_numpy(dtype=object)
    if _no_whitespace(cells):
        out = cells.copy()
    else:
        try:
            trimmed = [v.strip() for v in cells]
        except AttributeError:  # a non-str cell
            trimmed = [str(v).strip() for v in cells]
        out = np.empty(len(trimmed), dtype=object)
        out[:] = trimmed
    return pd.Series(out, index=values.index, dtype=object)


def _no_whitespace(cells: np.ndarray) -> bool:
    """True when every cell is a str without any character `str.strip` would remove (`str.isspace`).

    `str.split()` splits on exactly those characters and skips them at both ends, so a joined text
    with no whitespace inside splits into at most one part; the ends are checked separately."""
    try:
        blob = "".join(cells)  # fails on a non-str cell
    except TypeError:
        return False
    return not blob or (len(blob.split(maxsplit=1)) == 1 and not blob[0].isspace() and not blob[-1].isspace())


def on_uniques(values: pd.Series, func: Callable[[pd.Series], Any]) -> np.ndarray:
    """Evaluate `func` (vectorised, on a Series of the distinct values) once per distinct value and
    spread the result back to every row. A column of 1M cells usually has a few thousand values."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    result = np.asarray(func(pd.Series(uniques, dtype=object)))
    return result[codes]


def _errors(frame: pd.DataFrame, mask: pd.Series | np.ndarray, key: str, header: str, message: str) -> list[RowError]:
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return []
    rows = frame.index.to_numpy()[mask] + 2
    values = frame[key].to_numpy()[mask]
    return [RowError(int(r), header, str(v), message) for r, v in zip(rows, values, strict=True)]


def _required(frame: pd.DataFrame, columns: Iterable[Column]) -> list[RowError]:
    out: list[RowError] = []
    for col in columns:
        empty = frame[col.key].to_numpy(dtype=object) == ""  # numpy's compare: several times pandas' speed
        out += _errors(frame, empty, col.key, col.header, _("必填项为空"))
    return out


def _lengths(frame: pd.DataFrame, columns: Iterable[Column]) -> list[RowError]:
    out: list[RowError] = []
    for col in columns:
        if col.max_length:
            cells = frame[col.key].to_numpy(dtype=object)
            if not len(cells) or max(map(len, cells)) <= col.max_length:
                continue  # the usual case, one C-level pass
            too_long = np.fromiter(map(len, cells), dtype=np.int64, count=len(cells)) > col.max_length
            out += _errors(frame, too_long, col.key, col.header, _("超过最大长度 %(n)d 个字符") % {"n": col.max_length})
    return out


def price_errors(frame: pd.DataFrame, key: str = "listed_price", header: str = "挂网价格") -> list[RowError]:
    """Price must be a number > 0 with at most 4 decimals (empty is reported as missing elsewhere)."""
    not_numeric, too_precise, not_positive, too_large = 1, 2, 3, 4

    def problem(s: pd.Series) -> np.ndarray:
        numeric = s.str.fullmatch(PRICE_RE).fillna(False).astype(bool)
        precise = numeric & s.str.contains(r"\.\d{5,}$", regex=True).fillna(False).astype(bool)
        value = pd.to_numeric(s.where(numeric & ~precise), errors="coerce")
        out = np.zeros(len(s), dtype=np.int8)
        out[((s != "") & ~numeric).to_numpy()] = not_numeric
        out[precise.to_numpy()] = too_precise
        out[(value <= 0).fillna(False).to_numpy()] = not_positive
        out[(value >= MAX_PRICE).fillna(False).to_numpy()] = too_large
        return out

    kind = on_uniques(frame[key], problem)
    out = _errors(frame, kind == not_numeric, key, header, _("不是有效的数字"))
    out += _errors(frame, kind == too_precise, key, header, _("最多保留4位小数"))
    out += _errors(frame, kind == not_positive, key, header, _("必须大于0"))
    out += _errors(frame, kind == too_large, key, header, _("数值过大"))
    return out


def pack_errors(frame: pd.DataFrame, key: str = "pack_quantity", header: str = "转换比") -> list[RowError]:
    """转换比 must be an integer ≥ 1."""

    def bad(s: pd.Series) -> np.ndarray:
        digits = s.str.fullmatch(r"\+?\d{1,10}").fillna(False).astype(bool)
        value = pd.to_numeric(s.where(digits), errors="coerce")
        return ((s != "") & (~digits | (value < 1).fillna(False) | (value > MAX_PACK).fillna(False))).to_numpy()

    return _errors(frame, on_uniques(frame[key], bad), key, header, _("必须是不小于1的整数"))


def _normalised_lookup(values: pd.Series, allowed: dict[str, str]) -> pd.Series:
    """Map each value (after NFKC) through `allowed`; unknown → NaN. Works on unique values only."""
    table = {normalise_text(k): v for k, v in allowed.items()}
    codes, uniques = pd.factorize(values)
    mapped = np.array([table.get(normalise_text(u)) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=values.index)


def tier_errors(frame: pd.DataFrame, tier_aliases: dict[str, str]) -> list[RowError]:
    s = frame["quality_tier"]
    unknown = (s != "") & _normalised_lookup(s, tier_aliases).isna()
    allowed = "、".join(dict.fromkeys(tier_aliases.values()))
    return _errors(
        frame, unknown, "quality_tier", "质量层次", _("未知的质量层次（可用：%(allowed)s）") % {"allowed": allowed}
    )


def duplicate_code_errors(frame: pd.DataFrame) -> list[RowError]:
    codes = frame["listing_code"]
    dup = codes.duplicated(keep="first") & (codes != "")
    if not dup.any():
        return []
    first_row = pd.Series(frame.index.to_numpy() + 2, index=frame.index).groupby(codes.to_numpy()).transform("min")
    rows = frame.index.to_numpy()[dup.to_numpy()] + 2
    values = codes.to_numpy()[dup.to_numpy()]
    firsts = first_row.to_numpy()[dup.to_numpy()]
    return [
        RowError(int(r), "挂网编号", str(v), _("挂网编号重复（与第%(first)d行相同）") % {"first": int(f)})
        for r, v, f in zip(rows, values, firsts, strict=True)
    ]


def _choice_errors(frame: pd.DataFrame, key: str, header: str, allowed: frozenset[str], message: str) -> list[RowError]:
    s = frame[key]
    codes, uniques = pd.factorize(s)
    ok = np.array([normalise_text(u) in allowed for u in uniques] + [True])
    return _errors(frame, ~ok[codes], key, header, message)


def _sorted(errors: list[RowError], columns: tuple[Column, ...]) -> list[RowError]:
    order = {c.header: i for i, c in enumerate(columns)}
    return sorted(errors, key=lambda e: (e.row, order.get(e.column, 99)))


def validate_catalogue(frame: pd.DataFrame, *, tier_aliases: dict[str, str]) -> list[RowError]:
    """All row errors of a catalogue frame whose columns were matched and cleaned."""
    required = [c for c in CATALOGUE_COLUMNS if c.required]
    errors = _required(frame, required) + _lengths(frame, CATALOGUE_COLUMNS)
    errors += price_errors(frame) + pack_errors(frame)
    errors += duplicate_code_errors(frame) + tier_errors(frame, tier_aliases)
    errors += _choice_errors(frame, "vbp_selected", "是否集采中选", VBP_VALUES, _("只能填写“是”或“否”"))
    errors += _choice_errors(frame, "listing_status", "挂网状态", STATUS_VALUES, _("只能是“挂网”、“暂停”或“撤网”"))
    return _sorted(errors, CATALOGUE_COLUMNS)


def validate_reference(frame: pd.DataFrame) -> list[RowError]:
    """All row errors of a reference-price frame (FORMATS.md §2)."""
    by_key = {c.key: c for c in REFERENCE_COLUMNS}
    errors = _required(frame, [by_key["province"], by_key["listed_price"]]) + _lengths(frame, REFERENCE_COLUMNS)
    no_code = frame["nhsa_code"] == ""
    for key in ("generic_name", "dosage_form", "strength", "pack_quantity", "manufacturer"):
        col = by_key[key]
        errors += _errors(frame, no_code & (frame[key] == ""), key, col.header, _("医保药品编码为空时此项必填"))
    errors += price_errors(frame) + pack_errors(frame)
    return _sorted(errors, REFERENCE_COLUMNS)


def warnings_for(frame: pd.DataFrame, mask: pd.Series, key: str, header: str, message: str) -> list[dict]:
    """Warnings grouped by distinct value: {column, value, count, rows (first 20), message}."""
    if not mask.any():
        return []
    sub = frame.loc[mask.to_numpy(), key]
    rows = pd.Series(sub.index.to_numpy() + 2, index=sub.index)
    out = []
    for value, group in rows.groupby(sub.to_numpy(), sort=True):
        out.append(
            {
                "column": header,
                "value": str(value),
                "count": int(len(group)),
                "rows": [int(r) for r in group.to_numpy()[:20]],
                "message": message,
            }
        )
    return out
