"""Text normalisation and 规格 (strength) parsing, RULES.md §2. Pure functions, no Django.

A parsed spec has a *content* (an amount in a unit family: mg for mass, IU for units) and/or a
*volume* in ml. Anything else is unparsed and only compares with the identical normalised text.
"""

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_PAREN = re.compile(r"\([^()]*\)")
_NUM = r"(\d+(?:\.\d+)?)"
_MASS = re.compile(rf"^{_NUM}(mg|g|μg|ug|mcg|kg)$")
_UNITS = re.compile(rf"^{_NUM}(万)?(单位|iu|u)$")
_VOLUME = re.compile(rf"^{_NUM}ml$")
_VOL_CONTENT = re.compile(rf"^{_NUM}ml[:/](.+)$")

_MASS_TO_MG = {
    "mg": Decimal(1),
    "g": Decimal(1000),
    "kg": Decimal(1000000),
    "μg": Decimal("0.001"),
    "ug": Decimal("0.001"),
    "mcg": Decimal("0.001"),
}


def normalise_text(value: object) -> str:
    """NFKC (full-width → half-width, '：' → ':'), trim, collapse inner whitespace."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class ParsedSpec:
    """Result of parsing one 规格 text."""

    norm: str  # normalised text (used for identical-spec comparison)
    content: Decimal | None = None
    unit: str | None = None  # "mg" | "IU"
    volume_ml: Decimal | None = None

    @property
    def parsed(self) -> bool:
        return self.content is not None or self.volume_ml is not None


def _clean(d: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (1E+1 → 10)."""
    d = d.normalize()
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d


def _content(text: str) -> tuple[Decimal, str] | None:
    m = _MASS.match(text)
    if m:
        return Decimal(m.group(1)) * _MASS_TO_MG[m.group(2)], "mg"
    m = _UNITS.match(text)
    if m:
        amount = Decimal(m.group(1)) * (Decimal(10000) if m.group(2) else Decimal(1))
        return amount, "IU"
    return None


_MICRO = re.compile(r"(?<=\d)(?:mcg|ug)(?![a-z])")


def spec_text(raw: object) -> str:
    """The normalised 规格 text used to tell specs apart (FORMATS.md §5.3: 规格 noise is not meaning).

    NFKC (full-width → half-width, '：' → ':'), no whitespace at all (`2 ml : 30 mg` = `2ml:30mg`),
    Latin letters in lower case (`20MG` = `20mg`, `400万IU` = `400万iu`), and `mcg`/`ug` = `μg`.
    """
    text = _SPACES.sub("", normalise_text(raw)).lower()
    return _MICRO.sub("μg", text)


@lru_cache(maxsize=200_000)
def parse_strength(raw: str) -> ParsedSpec:
    """Parse a 规格 text such as '10mg', '0.25g', '40万单位', '2ml:30mg', '10ml'."""
    norm = spec_text(raw)
    text = _PAREN.sub("", norm).replace(" ", "").lower()
    m = _VOL_CONTENT.match(text)
    if m:
        content = _content(m.group(2))
        if content is not None:
            return ParsedSpec(norm, _clean(content[0]), content[1], _clean(Decimal(m.group(1))))
        return ParsedSpec(norm)
    content = _content(text)
    if content is not None:
        return ParsedSpec(norm, _clean(content[0]), content[1], None)
    m = _VOLUME.match(text)
    if m:
        return ParsedSpec(norm, None, None, _clean(Decimal(m.group(1))))
    return ParsedSpec(norm)


def form_group(dosage_form: str, aliases: dict[str, str]) -> tuple[str, bool]:
    """Map a raw 剂型 to its 剂型组. Returns (group, known); unknown forms are their own group."""
    norm = normalise_text(dosage_form)
    if norm in aliases:
        return aliases[norm], True
    return norm, False
