"""Hypothesis properties of the dialects (FORMATS.md §5): the 规格包装 grammar, and "the same catalogue
in any dialect gives the same flags" over generated catalogues (pure: read → normalise → rules)."""

import csv
import io
import math
from decimal import Decimal

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalogue.ingest.dialect import HEADER_SYNONYMS
from catalogue.ingest.packaging import SEPARATORS, combine_spec_pack, split_spec_pack
from catalogue.ingest.pipeline import prepare_catalogue
from catalogue.vocabulary import STATUS_ALIASES, TIER_ALIASES, VBP_ALIASES, Vocabulary
from pricing.engine.frame import LISTING_COLUMNS, prepare
from pricing.engine.rules import run_rules
from pricing.engine.ruleset import RuleParams

SPECS = ["10mg", "20mg", "0.5g", "2ml:30mg", "5ml:0.1g", "10ml", "20ml", "80万单位", "400万IU", "500μg", "复方"]
UNITS = ["片", "粒", "支", "袋", "瓶", ""]
PACK_UNITS = ["盒", "瓶", "袋", ""]
counts = st.lists(st.integers(1, 60), min_size=1, max_size=3)


@given(
    spec=st.sampled_from(SPECS),
    counts=counts,
    units=st.lists(st.sampled_from(UNITS), min_size=3, max_size=3),
    pack=st.sampled_from(PACK_UNITS),
    sep=st.sampled_from(SEPARATORS),
)
def test_spec_pack_round_trip_and_product_of_counts(spec, counts, units, pack, sep):
    text = combine_spec_pack(spec, tuple(counts), tuple(units), pack, sep)
    parts = split_spec_pack(text)
    assert parts is not None, text
    assert parts.spec == spec and parts.counts == tuple(counts)
    assert parts.pack_quantity == math.prod(counts)
    assert parts.min_unit == units[0] and parts.pack_unit == pack
    assert combine_spec_pack(parts.spec, parts.counts, tuple(units), parts.pack_unit, sep) == text


@given(spec=st.sampled_from(SPECS), junk=st.sampled_from(["", "盒", "*", "x盒", "*0片", "*片"]))
def test_spec_pack_without_a_positive_count_does_not_split(spec, junk):
    assert split_spec_pack(spec + junk) is None


# ---- same catalogue, any dialect → same flags --------------------------------------------------

TIERS = ["原研", "参比制剂", "过评", "视同过评", "未过评", "新药"]
CANONICAL_HEADERS = ["挂网编号", "通用名", "剂型", "规格", "转换比", "生产企业", "质量层次", "是否集采中选",
                     "挂网价格", "挂网状态"]  # fmt: skip
KEYS = ["listing_code", "generic_name", "dosage_form", "strength", "pack_quantity", "manufacturer", "quality_tier",
        "vbp_selected", "listed_price", "listing_status"]  # fmt: skip

rows = st.lists(
    st.fixed_dictionaries(
        {
            "generic": st.sampled_from(["甲片", "甲片", "甲片", "乙片"]),
            "form": st.sampled_from(["片剂", "薄膜衣片", "片剂", "缓释片"]),
            "spec": st.sampled_from(["10mg", "20mg", "0.5g", "500μg", "2ml:30mg", "10ml", "复方"]),
            "n": st.sampled_from([1, 6, 10, 12, 14, 20, 28, 30]),
            "maker": st.sampled_from(["甲厂", "乙厂"]),
            "tier": st.sampled_from([*TIERS, "未过评", "未过评", "过评"]),
            "vbp": st.sampled_from(["是", "否", "否", "否"]),
            "price": st.decimals(min_value=Decimal("1"), max_value=Decimal("1999.99"), places=2),
            "status": st.sampled_from(["挂网", "挂网", "挂网", "挂网", "暂停", "撤网"]),
        }
    ),
    min_size=4,
    max_size=14,
)


def _synonyms(table: dict[str, str], canonical: str) -> list[str]:
    return [k for k, v in table.items() if v == canonical and k]


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def dialect_spec(draw, spec: str) -> str:
    text = spec
    if draw(st.booleans()):
        text = text.upper()
    if draw(st.booleans()):
        text = text.replace(":", " : ")
    if "μg" in text and draw(st.booleans()):
        text = text.replace("μg", draw(st.sampled_from(["mcg", "ug", "MCG"])))
    if draw(st.booleans()):
        text = _full_width(text)
    return text


@st.composite
def dialect_row(draw, row: dict) -> dict:
    n = row["n"]
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    first = draw(st.sampled_from(divisors))
    pack_counts = (first, n // first) if n // first > 1 else (first,)
    sep = draw(st.sampled_from(SEPARATORS))
    spec = draw(dialect_spec(row["spec"]))
    units = (draw(st.sampled_from(UNITS)), "板")
    price = f"{row['price']:.2f}"
    price = draw(st.sampled_from([price, f"¥{price}", f"{price}元", f"￥{row['price']:,.2f}"]))
    return {
        **row,
        "spec_pack": combine_spec_pack(spec, pack_counts, units, draw(st.sampled_from(PACK_UNITS)), sep),
        "tier": draw(st.sampled_from(_synonyms(TIER_ALIASES, row["tier"]))),
        "vbp": draw(st.sampled_from(_synonyms(VBP_ALIASES, row["vbp"]))),
        "status": draw(st.sampled_from(_synonyms(STATUS_ALIASES, row["status"]) + [""] * (row["status"] == "挂网"))),
        "price": price,
    }


def _header(draw, key: str, canonical: str) -> str:
    return draw(st.sampled_from([canonical, *HEADER_SYNONYMS.get(key, ())]))


def _csv(records: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    return out.getvalue()


def _canonical_file(tmp_path, catalogue: list[dict]) -> str:
    body = [
        [
            f"C{i:03d}",
            r["generic"],
            r["form"],
            r["spec"],
            str(r["n"]),
            r["maker"],
            r["tier"],
            r["vbp"],
            f"{r['price']:.2f}",
            r["status"],
        ]  # fmt: skip
        for i, r in enumerate(catalogue)
    ]
    path = tmp_path / "canonical.csv"
    path.write_text(_csv([CANONICAL_HEADERS, *body]), encoding="utf-8-sig")
    return path


@st.composite
def dialect_file(draw, catalogue: list[dict]) -> tuple[bytes, str]:
    keys = ["listing_code", "generic_name", "dosage_form", "spec_pack", "manufacturer", "quality_tier",
            "vbp_selected", "listed_price", "listing_status"]  # fmt: skip
    canonical = dict(zip(KEYS, CANONICAL_HEADERS, strict=True)) | {"spec_pack": "规格包装"}
    header = [_header(draw, k, canonical[k]) for k in keys]
    body = []
    for i, row in enumerate(catalogue):
        d = draw(dialect_row(row))
        body.append([f"C{i:03d}", d["generic"], d["form"], d["spec_pack"], d["maker"], d["tier"], d["vbp"],
                     d["price"], d["status"]])  # fmt: skip
    records = [header, *body]
    if draw(st.booleans()):
        records.insert(0, ["湖南省挂网药品目录（2024年7月导出）"] + [""] * draw(st.sampled_from([0, len(keys) - 1])))
    encoding = draw(st.sampled_from(["gb18030", "utf-8", "utf-8-sig"]))
    return _csv(records).encode(encoding)


PARAMS = RuleParams.from_dict({})


def _flags(path) -> set[tuple]:
    data = prepare_catalogue(path, Vocabulary.build()).frame.reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "id": range(len(data)),
            "code": data["listing_code"],
            "nhsa": data["nhsa_code"],
            "generic": data["generic_name_norm"],
            "dosage_form": data["dosage_form"],
            "spec": data["strength_norm"],
            "content": [Decimal(v) if v is not None else None for v in data["content_value"]],
            "unit": data["content_unit"],
            "volume": [Decimal(v) if v is not None else None for v in data["volume_ml"]],
            "n": data["pack_quantity"],
            "maker": data["manufacturer_norm"],
            "tier": data["quality_tier"],
            "tier_class": data["tier_class"],
            "vbp": data["vbp_selected"],
            "price": [Decimal(p) for p in data["listed_price"]],
            "active": data["is_active"],
        },
        columns=LISTING_COLUMNS,
    )
    listings = prepare(frame, PARAMS)
    flags = run_rules(listings, None, PARAMS)
    codes = listings["code"].tolist()
    return {
        (codes[f.target], f.rule_code, codes[int(f.bench)], f.evaluation.limit, f.evaluation.ratio)
        for f in flags.itertuples()
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(catalogue=rows, data=st.data())
def test_same_catalogue_in_any_dialect_gives_the_same_flags(tmp_path, catalogue, data):
    canonical = _canonical_file(tmp_path, catalogue)
    dialect = tmp_path / "dialect.csv"
    dialect.write_bytes(data.draw(dialect_file(catalogue)))
    assert _flags(dialect) == _flags(canonical)
