"""Import profiles (导入配置, FORMATS.md §5.5): a province's mapping of unknown headers and values.

`file_problems` reads an upload the way the import does and lists what was not understood (unknown
headers, missing required columns, unknown 质量层次 / 是否集采中选 / 挂网状态 values); the upload
page offers a mapping for each; `save_profile` stores it as a new version (audited) after checking
that no required column stays unmapped and no two columns map to one. The newest version of the
province's profile is applied to its next upload automatically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from audit.services import record

from .ingest.dialect import (
    SPEC_PACK,
    SPEC_PACK_HEADER,
    header_key,
    header_lookup,
    locate_header,
)
from .ingest.headers import CATALOGUE_COLUMNS
from .ingest.readers import read_table
from .models import ImportProfile
from .specs import normalise_text
from .vocabulary import TIER_CLASSES, Vocabulary, lookup_key

# the columns whose values may be mapped, and the canonical values they may map to
VALUE_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "quality_tier": ("质量层次", tuple(TIER_CLASSES)),
    "vbp_selected": ("是否集采中选", ("是", "否")),
    "listing_status": ("挂网状态", ("挂网", "暂停", "撤网")),
}
VOCABULARY_TABLE = {"quality_tier": "tier_aliases", "vbp_selected": "vbp_aliases", "listing_status": "status_aliases"}
MAX_VALUES_SHOWN = 50


class ProfileRefused(ValueError):
    """A mapping that cannot be saved (message in Chinese)."""


def column_choices() -> list[tuple[str, str]]:
    """(key, label) of every column a header may be mapped to."""
    return [(c.key, c.header) for c in CATALOGUE_COLUMNS] + [(SPEC_PACK, SPEC_PACK_HEADER)]


def latest_profile(name: str) -> ImportProfile | None:
    return ImportProfile.objects.filter(name=name).order_by("-version").first()


def vocabulary_with(vocabulary: Vocabulary, profile: ImportProfile | None) -> Vocabulary:
    """The vocabulary with the profile's value mappings laid over it."""
    if profile is None or not profile.value_map:
        return vocabulary
    return vocabulary.with_values(
        {VOCABULARY_TABLE[k]: v for k, v in profile.value_map.items() if k in VOCABULARY_TABLE}
    )


@dataclass
class FileProblems:
    """What an upload's header row and values leave unexplained."""

    unknown_headers: list[str] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (key, header) of required columns not found
    unknown_values: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # key → [(value, rows)]

    @property
    def any(self) -> bool:
        return bool(self.unknown_headers or self.missing or any(self.unknown_values.values()))


def file_problems(path: Path, vocabulary: Vocabulary, profile: ImportProfile | None = None) -> FileProblems:
    """Unknown headers, missing required columns and unknown values of an upload (under `profile`)."""
    header_map = dict(profile.header_map) if profile else {}
    vocabulary = vocabulary_with(vocabulary, profile)
    frame = locate_header(read_table(path), CATALOGUE_COLUMNS, header_map)
    lookup = header_lookup(CATALOGUE_COLUMNS, header_map)
    found: dict[str, object] = {}
    unknown: list[str] = []
    for original in frame.columns:
        key = lookup.get(header_key(original))
        name = str(original)
        if key is None:
            if normalise_text(name) and not name.startswith("Unnamed:"):
                unknown.append(name)
        else:
            found.setdefault(key, original)
    derived = {"strength", "pack_quantity"} if SPEC_PACK in found else set()
    missing = [
        (c.key, c.header) for c in CATALOGUE_COLUMNS if c.required and c.key not in found and c.key not in derived
    ]
    values: dict[str, list[tuple[str, int]]] = {}
    for key, table in VOCABULARY_TABLE.items():
        if key not in found:
            continue
        known = getattr(vocabulary, table)
        counts = pd.Series(frame[found[key]].astype(str).str.strip()).value_counts()
        odd = [(str(v), int(n)) for v, n in counts.items() if lookup_key(v) not in known]
        if odd:
            values[key] = odd[:MAX_VALUES_SHOWN]
    return FileProblems(unknown, missing, values)


def save_profile(
    name: str,
    *,
    header_map: dict[str, str],
    value_map: dict[str, dict[str, str]],
    user: Any,
    note: str = "",
    check_file: Path | None = None,
    vocabulary: Vocabulary | None = None,
    replace: bool = False,
) -> ImportProfile:
    """Store the mapping as version N+1 of the named profile: the previous version's entries are kept
    (or, with `replace`, the given maps are the whole new version — how entries are removed).

    With `check_file`, a mapping that still leaves a required column of that file unmapped is refused."""
    valid_keys = {k for k, _label in column_choices()}
    previous = None if replace else latest_profile(name)
    headers = {**(previous.header_map if previous else {}), **{h: k for h, k in header_map.items() if k}}
    for header, key in headers.items():
        if key not in valid_keys:
            raise ProfileRefused(_("表头「%(header)s」映射到未知列 %(key)s") % {"header": header, "key": key})
    targets: dict[str, str] = {}
    for header, key in headers.items():
        if key in targets:
            raise ProfileRefused(
                _("「%(a)s」和「%(b)s」不能映射到同一列「%(col)s」")
                % {"a": targets[key], "b": header, "col": dict(column_choices())[key]}
            )
        targets[key] = header
    values = {k: dict(v) for k, v in (previous.value_map if previous else {}).items()}
    for key, mapping in value_map.items():
        if key not in VALUE_COLUMNS:
            raise ProfileRefused(_("列 %(key)s 的取值不能映射") % {"key": key})
        allowed = VALUE_COLUMNS[key][1]
        for raw, canonical in mapping.items():
            if not canonical:
                continue
            if canonical not in allowed:
                raise ProfileRefused(
                    _("「%(value)s」只能映射为：%(allowed)s") % {"value": raw, "allowed": "、".join(allowed)}
                )
            values.setdefault(key, {})[raw] = canonical
    if check_file is not None:
        problems = file_problems(
            check_file, vocabulary or Vocabulary.build(), ImportProfile(header_map=headers, value_map=values)
        )
        if problems.missing:
            names = "、".join(header for _key, header in problems.missing)
            raise ProfileRefused(_("映射后仍缺少必填列：%(names)s") % {"names": names})
    with transaction.atomic():
        last = ImportProfile.objects.select_for_update().filter(name=name).aggregate(v=Max("version"))["v"] or 0
        before = latest_profile(name)
        profile = ImportProfile.objects.create(
            name=name,
            version=last + 1,
            header_map=headers,
            value_map=values,
            note=note,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        record(
            actor=user,
            action="catalogue.import_profile",
            obj=profile,
            before={"version": before.version if before else None},
            after={"version": profile.version, "header_map": headers, "value_map": values},
            reason=note,
        )
    return profile
