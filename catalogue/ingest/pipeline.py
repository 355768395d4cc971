"""The pure part of an import: file → validated, normalised rows (no database writes)."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from django.utils.translation import gettext as _

from catalogue.specs import form_group, normalise_text, parse_strength

from .errors import IngestRejected
from .headers import CATALOGUE_COLUMNS, REFERENCE_COLUMNS, match_headers
from .normalise import NormalisedCatalogue, map_unique, normalise_catalogue
from .readers import read_table
from .validate import clean, validate_catalogue, validate_reference

Progress = Callable[[int], None]


def prepare_catalogue(
    path: Path, params: dict[str, Any], *, sheet: str | None = None, on_progress: Progress | None = None
) -> NormalisedCatalogue:
    """Read, match headers, validate every row, normalise. Raises IngestRejected with all errors."""
    frame = read_table(path, sheet=sheet)
    if on_progress:
        on_progress(10)
    frame, extras = match_headers(frame, CATALOGUE_COLUMNS)
    frame = clean(frame, CATALOGUE_COLUMNS)
    errors = validate_catalogue(frame, tier_aliases=params["tier_aliases"])
    if errors:
        raise IngestRejected(_("文件有 %(n)d 处错误，未导入；请修改后重新上传") % {"n": len(errors)}, errors)
    if on_progress:
        on_progress(20)
    data = normalise_catalogue(
        frame,
        extras,
        form_aliases=params["form_aliases"],
        tier_aliases=params["tier_aliases"],
        tier_classes=params["tier_classes"],
    )
    if on_progress:
        on_progress(30)
    return data


def prepare_reference(path: Path, params: dict[str, Any]) -> pd.DataFrame:
    """Reference-price rows (FORMATS.md §2) with normalised matching keys."""
    frame = read_table(path)
    frame, _extras = match_headers(frame, REFERENCE_COLUMNS)
    frame = clean(frame, REFERENCE_COLUMNS)
    errors = validate_reference(frame)
    if errors:
        raise IngestRejected(_("文件有 %(n)d 处错误，未导入；请修改后重新上传") % {"n": len(errors)}, errors)
    aliases = {normalise_text(k): v for k, v in params["form_aliases"].items()}
    out = pd.DataFrame(index=frame.index)
    out["row_number"] = frame.index.to_numpy() + 2
    out["province"] = frame["province"]
    out["nhsa_code"] = frame["nhsa_code"]
    out["generic_name"] = frame["generic_name"]
    out["generic_name_norm"] = map_unique(frame["generic_name"], normalise_text)
    out["dosage_form"] = frame["dosage_form"]
    out["form_group"] = map_unique(frame["dosage_form"], lambda f: form_group(f, aliases)[0] if f else "")
    out["strength"] = frame["strength"]
    out["strength_norm"] = map_unique(frame["strength"], lambda s: parse_strength(s).norm)
    out["pack_quantity"] = pd.Series(
        [int(v.lstrip("+")) if v else None for v in frame["pack_quantity"]], index=frame.index, dtype=object
    )
    out["manufacturer_name"] = frame["manufacturer"]
    out["manufacturer_norm"] = map_unique(frame["manufacturer"], normalise_text)
    out["listed_price"] = frame["listed_price"].str.lstrip("+")
    return out
