"""The combined 规格包装 column (FORMATS.md §5.2): `SPEC SEP COUNT [× COUNT …] [/PACKUNIT]`.

SEP is `*`, `×`, `x` or `X` (after NFKC); each COUNT is a positive integer with an optional unit
word (片 粒 支 袋 瓶 …); the pack quantity (转换比) is the product of the counts, the first count's
unit word is the 最小制剂单位 and `/PACKUNIT` the 包装单位. Examples: `0.25g*24粒/盒` → (0.25g, 24);
`10mg×7片×2板/盒` → (10mg, 14). Pure functions, no Django.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from catalogue.specs import normalise_text

SEPARATORS = ("*", "×", "x", "X")
MAX_PACK = 2**31 - 1
_SEP = r"\s*[*×xX]\s*"
_UNIT = r"[\u3400-\u9fff]{1,3}"
_COUNT = rf"(?:\d+)\s*(?:{_UNIT})?"
_SPLIT = re.compile(
    rf"^(?P<spec>.+?){_SEP}(?P<counts>{_COUNT}(?:{_SEP}{_COUNT})*)\s*(?:/\s*(?P<pack>{_UNIT}))?$", re.DOTALL
)
_ONE_COUNT = re.compile(rf"(\d+)\s*({_UNIT})?")


@dataclass(frozen=True)
class SpecPack:
    """One 规格包装 split into its parts."""

    spec: str
    counts: tuple[int, ...]
    min_unit: str = ""
    pack_unit: str = ""

    @property
    def pack_quantity(self) -> int:
        return math.prod(self.counts)


@lru_cache(maxsize=100_000)
def split_spec_pack(raw: str) -> SpecPack | None:
    """Split a 规格包装 text; None when it does not follow the grammar (a row error for the caller)."""
    text = normalise_text(raw)
    m = _SPLIT.match(text)
    if m is None:
        return None
    spec = m.group("spec").strip()
    counts: list[int] = []
    units: list[str] = []
    for number, unit in _ONE_COUNT.findall(m.group("counts")):
        counts.append(int(number))
        units.append(unit or "")
    if not spec or any(c < 1 for c in counts) or math.prod(counts) > MAX_PACK:
        return None
    return SpecPack(spec, tuple(counts), units[0], m.group("pack") or "")


def combine_spec_pack(
    spec: str, counts: tuple[int, ...], units: tuple[str, ...] = (), pack_unit: str = "", sep: str = "*"
) -> str:
    """The inverse of `split_spec_pack`: write a 规格包装 text (used by tests and generators)."""
    parts = [f"{c}{units[i] if i < len(units) else ''}" for i, c in enumerate(counts)]
    text = spec + sep + sep.join(parts)
    return f"{text}/{pack_unit}" if pack_unit else text
