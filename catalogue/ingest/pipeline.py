"""The pure part of an import: file → validated, normalised rows (no database writes)."""

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from django.utils.translation import gettext as _

from catalogue.specs import form_group, normalise_text, parse_strength
from catalogue.vocabulary import Vocabulary

from .dialect import SPEC_PACK_HEADER, apply_values, locate_header, rename_headers, split_spec_pack_column
from .errors import IngestRejected, RowError
from .headers import CATALOGUE_COLUMNS, REFERENCE_COLUMNS, match_headers
from .normalise import NormalisedCatalogue, map_unique, normalise_catalogue
from .readers import read_table
from .validate import clean, validate_catalogue, validate_reference

Progress = Callable[[int], None]


def prepare_catalogue(
    path: Path,
    vocabulary: Vocabulary,
    *,
    sheet: str | None = None,
    on_progress: Progress | None = None,
    header_map: dict[str, str] | None = None,
) -> NormalisedCatalogue:
    """Read, understand the dialect (FORMATS.md §5), validate every row, normalise.

    `header_map` (header as written → column key) comes from the province's import profile.
    Raises IngestRejected with all errors."""
    frame = read_table(path, sheet=sheet)
    if on_progress:
        on_progress(10)
    frame = rename_headers(locate_header(frame, CATALOGUE_COLUMNS, header_map), CATALOGUE_COLUMNS, header_map)
    dialect = split_spec_pack_column(frame)
    frame, extras = match_headers(dialect.frame, CATALOGUE_COLUMNS)
    # 规格包装 is a known column, stored as its parts (规格, 转换比, 最小制剂单位, 包装单位), not as an extra
    extras = [e for e in extras if e != SPEC_PACK_HEADER]
    frame = apply_values(clean(frame, CATALOGUE_COLUMNS), vocabulary)
    errors = _with_dialect_errors(validate_catalogue(frame, tier_aliases=vocabulary.tier_aliases), dialect.errors)
    if errors:
        raise IngestRejected(_("文件有 %(n)d 处错误，未导入；请修改后重新上传") % {"n": len(errors)}, errors)
    if on_progress:
        on_progress(20)
    data = normalise_catalogue(
        frame,
        extras,
        form_aliases=vocabulary.form_aliases,
        tier_aliases=vocabulary.tier_aliases,
        tier_classes=vocabulary.tier_classes,
    )
    data.warnings = dialect.warnings + data.warnings
    if on_progress:
        on_progress(30)
    return data


def _with_dialect_errors(errors: list[RowError], dialect_errors: list[RowError]) -> list[RowError]:
    """Validation errors plus unsplittable 规格包装; a row whose 规格包装 failed is not also told that
    its (derived) 规格 / 转换比 are empty."""
    if not dialect_errors:
        return errors
    failed = {e.row for e in dialect_errors}
    kept = [e for e in errors if not (e.row in failed and e.column in ("规格", "转换比"))]
    order = {c.header: i for i, c in enumerate(CATALOGUE_COLUMNS)}
    order[SPEC_PACK_HEADER] = order["规格"]
    return sorted(kept + dialect_errors, key=lambda e: (e.row, order.get(e.column, 99)))


def prepare_reference(path: Path, vocabulary: Vocabulary) -> pd.DataFrame:
    """Reference-price rows (FORMATS.md §2) with normalised matching keys."""
    frame = read_table(path)
    frame, _extras = match_headers(frame, REFERENCE_COLUMNS)
    frame = clean(frame, REFERENCE_COLUMNS)
    errors = validate_reference(frame)
    if errors:
        raise IngestRejected(_("文件有 %(n)d 处错误，未导入；请修改后重新上传") % {"n": len(errors)}, errors)
    aliases = {normalise_text(k): v for k, v in vocabulary.form_aliases.items()}
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
