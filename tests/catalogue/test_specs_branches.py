"""Every branch of 规格 parsing (catalogue.specs, RULES.md §2): what a strength text means as a number.

A spec parsed wrongly is a price compared with the wrong quantity (or not compared at all, so a
flag is missed); these tests pin the exact Decimal of each form the catalogues use.
"""

import dataclasses
from decimal import Decimal

import pytest

from catalogue.specs import ParsedSpec, form_group, normalise_text, parse_strength


def spec(raw: str) -> tuple[str | None, str | None, str | None]:
    """(content as text, unit, volume as text) — text so that 2.5 ≠ 2 and '10' ≠ '1E+1'."""
    p = parse_strength(raw)
    return (
        None if p.content is None else str(p.content),
        p.unit,
        None if p.volume_ml is None else str(p.volume_ml),
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # fractional strengths keep their decimals (never rounded to whole mg)
        ("2.5mg", ("2.5", "mg", None)),
        ("12.5mg", ("12.5", "mg", None)),
        ("0.25mg", ("0.25", "mg", None)),
        ("0.5mg", ("0.5", "mg", None)),
        # whole numbers lose trailing zeros without exponent notation
        ("10mg", ("10", "mg", None)),
        ("10.0mg", ("10", "mg", None)),
        ("100mg", ("100", "mg", None)),
        ("1000mg", ("1000", "mg", None)),
        # mass units to mg
        ("0.25g", ("250", "mg", None)),
        ("1g", ("1000", "mg", None)),
        ("1.5g", ("1500", "mg", None)),
        ("0.000001kg", ("1", "mg", None)),
        ("2kg", ("2000000", "mg", None)),
        # micrograms, three spellings
        ("500μg", ("0.5", "mg", None)),
        ("250ug", ("0.25", "mg", None)),
        ("100mcg", ("0.1", "mg", None)),
        ("1000μg", ("1", "mg", None)),
        ("2.5μg", ("0.0025", "mg", None)),
        # units (单位 / IU / U), with 万 = 10,000
        ("40万单位", ("400000", "IU", None)),
        ("80万IU", ("800000", "IU", None)),
        ("400单位", ("400", "IU", None)),
        ("400IU", ("400", "IU", None)),
        ("400u", ("400", "IU", None)),
        ("1.5万U", ("15000", "IU", None)),
        # volume only, and volume with content (':' or '/')
        ("10ml", (None, None, "10")),
        ("2.5ml", (None, None, "2.5")),
        ("100.0ml", (None, None, "100")),
        ("2ml:30mg", ("30", "mg", "2")),
        ("5ml/0.1g", ("100", "mg", "5")),
        ("1ml:1万单位", ("10000", "IU", "1")),
        ("2.5ml:12.5mg", ("12.5", "mg", "2.5")),
        ("1ml:500μg", ("0.5", "mg", "1")),
        # spaced, annotated, upper-case and full-width texts are the same strength
        ("10 mg", ("10", "mg", None)),
        (" 10  mg ", ("10", "mg", None)),
        ("10mg(薄膜衣)", ("10", "mg", None)),
        ("10mg（薄膜衣）", ("10", "mg", None)),
        ("(缓释)0.25g", ("250", "mg", None)),
        ("10MG", ("10", "mg", None)),
        ("１０ｍｇ", ("10", "mg", None)),
        ("2ml：30mg", ("30", "mg", "2")),
        ("2 ml : 30 mg", ("30", "mg", "2")),
    ],
)
def test_parsed_quantities(raw, expected):
    assert spec(raw) == expected
    assert parse_strength(raw).parsed


@pytest.mark.parametrize(
    "raw",
    ["复方", "10片", "mg", "10", "", "2ml:复方", "10mg+5mg", "10mgx", "a10mg", "10.mg", ".5mg", "10ml:"],
)
def test_unparsed_specs_have_no_quantity(raw):
    p = parse_strength(raw)
    assert (p.content, p.unit, p.volume_ml) == (None, None, None)
    assert not p.parsed
    assert p.norm == normalise_text(raw)


def test_the_normalised_text_keeps_the_annotation_without_spaces():
    assert parse_strength("10mg(薄膜衣)").norm == "10mg(薄膜衣)"
    assert parse_strength("  10   mg ").norm == "10mg"
    assert parse_strength("2ml：30mg").norm == "2ml:30mg"
    assert parse_strength("１０ｍｇ").norm == "10mg"


def test_microgram_spellings_are_one_text():
    # 100mcg, 100ug and 100μg are the same 规格 text, so they also count as the identical spec
    assert parse_strength("100mcg").norm == parse_strength("100UG").norm == parse_strength("100μg").norm == "100μg"
    assert parse_strength("1ml:250ug").norm == "1ml:250μg"
    # only a unit written after a number: a word that contains the letters keeps them
    assert parse_strength("mcg10mg").norm == "mcg10mg" and parse_strength("10ugx").norm == "10ugx"


def test_parsed_property_needs_content_or_volume():
    assert ParsedSpec("x", content=Decimal(1), unit="mg").parsed
    assert ParsedSpec("x", volume_ml=Decimal(1)).parsed
    assert not ParsedSpec("x").parsed


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        ("  阿莫西林   胶囊 ", "阿莫西林 胶囊"),
        ("a\t\nb", "a b"),
        ("ＡＢＣ１２３", "ABC123"),
        ("2ml：30mg", "2ml:30mg"),
        (10, "10"),
        (Decimal("2.50"), "2.50"),
    ],
)
def test_normalise_text(value, expected):
    assert normalise_text(value) == expected


def test_form_group_known_and_unknown():
    aliases = {"片剂": "片剂", "薄膜衣片": "片剂"}
    assert form_group("薄膜衣片", aliases) == ("片剂", True)
    assert form_group(" 薄膜衣片 ", aliases) == ("片剂", True)
    assert form_group("片剂", aliases) == ("片剂", True)
    assert form_group("  口崩  片 ", aliases) == ("口崩 片", False)
    assert form_group("", aliases) == ("", False)


def test_parsed_specs_are_shared_and_therefore_immutable():
    # parse_strength is cached: the same text returns the same object, which nobody can alter
    first = parse_strength("10mg")
    assert parse_strength("10mg") is first
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.content = Decimal(20)
    assert hash(first) == hash(ParsedSpec("10mg", Decimal(10), "mg"))
