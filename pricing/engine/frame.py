"""The listings DataFrame the rules work on, and its comparison classes (RULES.md §2, §7). Pure.

Input columns (one row per listing): id, code, nhsa, generic, dosage_form, spec, content, unit,
volume, n, maker, tier, tier_class, vbp, price, active. `content`, `volume`, `price` are Decimals
(exact); the float columns added by `prepare` are only used to FIND candidate benchmarks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal

import numpy as np
import pandas as pd

from catalogue.ingest.normalise import map_unique
from catalogue.specs import form_group, normalise_text, parse_strength
from pricing.engine.ruleset import RuleParams

LISTING_COLUMNS = [
    "id",
    "code",
    "nhsa",
    "generic",
    "dosage_form",
    "spec",
    "content",
    "unit",
    "volume",
    "n",
    "maker",
    "tier",
    "tier_class",
    "vbp",
    "price",
    "active",
]
REFERENCE_COLUMNS = ["id", "province", "nhsa", "generic", "dosage_form", "spec", "n", "maker", "price"]

KIND_CONTENT, KIND_VOLUME, KIND_UNPARSED = "c", "v", "u"


def listings_from_raw(rows: Iterable[dict], params: RuleParams) -> pd.DataFrame:
    """Build the listings frame from raw catalogue rows (FORMATS.md §1 headers). For pure tests
    and benchmarks; detection builds the same frame from stored, already-normalised listings."""
    out = []
    for i, row in enumerate(rows, start=1):
        spec = parse_strength(row["规格"])
        status = normalise_text(row.get("挂网状态", ""))
        tier = params.tier_aliases.get(normalise_text(row["质量层次"]), normalise_text(row["质量层次"]))
        out.append(
            {
                "id": i,
                "code": normalise_text(row["挂网编号"]),
                "nhsa": normalise_text(row.get("医保药品编码", "")),
                "generic": normalise_text(row["通用名"]),
                "dosage_form": row["剂型"],
                "spec": spec.norm,
                "content": spec.content,
                "unit": spec.unit or "",
                "volume": spec.volume_ml,
                "n": int(row["转换比"]),
                "maker": normalise_text(row["生产企业"]),
                "tier": tier,
                "tier_class": params.tier_classes.get(tier, ""),
                "vbp": normalise_text(row.get("是否集采中选", "")) == "是",
                "price": Decimal(normalise_text(row["挂网价格"])),
                "active": status in ("", "挂网"),
            }
        )
    return pd.DataFrame(out, columns=LISTING_COLUMNS)


def references_from_raw(rows: Iterable[dict]) -> pd.DataFrame:
    out = []
    for i, row in enumerate(rows, start=1):
        n = normalise_text(row.get("转换比", ""))
        out.append(
            {
                "id": i,
                "province": normalise_text(row["省份"]),
                "nhsa": normalise_text(row.get("医保药品编码", "")),
                "generic": normalise_text(row.get("通用名", "")),
                "dosage_form": row.get("剂型", ""),
                "spec": parse_strength(row.get("规格", "")).norm,
                "n": int(n) if n else 0,
                "maker": normalise_text(row.get("生产企业", "")),
                "price": Decimal(normalise_text(row["挂网价格"])),
            }
        )
    return pd.DataFrame(out, columns=REFERENCE_COLUMNS)


def _log2(value: Decimal) -> float:
    return math.log2(value)


def form_groups(dosage_forms: pd.Series, aliases: dict[str, str]) -> pd.Series:
    """剂型组 through the rule set's alias table (mapped once per distinct raw form)."""
    uniques = pd.unique(dosage_forms)
    mapping = {form: form_group(form, aliases)[0] for form in uniques}
    return dosage_forms.map(mapping)


def _e4(price: Decimal) -> int:
    """A price in 1/10000 yuan (exact int); -1 when it has more than 4 decimals."""
    scaled = price.scaleb(4)
    return int(scaled) if scaled == scaled.to_integral_value() else -1


def prepare(df: pd.DataFrame, params: RuleParams) -> pd.DataFrame:
    """Add form_group, the comparison class and the float normalised price v = u·q^−a·n^−a_p."""
    df = df.copy()
    df["form_group"] = form_groups(df["dosage_form"].astype(str), params.form_aliases)
    price_codes, price_uniques = pd.factorize(df["price"])  # prices repeat: convert each once
    df["price_f"] = np.array([float(p) for p in price_uniques], dtype=float)[price_codes]
    df["p_e4"] = np.array([_e4(p) for p in price_uniques], dtype=np.int64)[price_codes]
    df["n"] = df["n"].astype(np.int64)
    has_content = df["content"].notna() & (df["unit"] != "")
    has_volume = df["volume"].notna()
    kind = np.where(has_content, KIND_CONTENT, np.where(has_volume, KIND_VOLUME, KIND_UNPARSED))
    df["kind"] = kind
    # class id inside a group: the unit family, 'ml', or the identical spec text
    df["cls"] = np.where(has_content, df["unit"], np.where(has_volume, "ml", df["spec"]))
    df["q"] = np.where(has_content, df["content"], np.where(has_volume, df["volume"], None))
    # float q (NaN when missing; 1 for unparsed specs), once per distinct quantity
    q_f = pd.Series(map_unique(df["q"], float).astype(float), index=df.index)  # None → NaN
    q_f = q_f.where(df["kind"] != KIND_UNPARSED, 1.0)
    a = np.where(
        has_content,
        _log2(params.k_content),
        np.where(has_volume, _log2(params.k_volume), 0.0),
    )
    a_pack = _log2(params.k_pack) - 1.0
    u_f = df["price_f"].to_numpy() / df["n"].to_numpy()
    df["v"] = u_f * np.power(q_f.to_numpy(), -a) * np.power(df["n"].to_numpy(dtype=float), -a_pack)
    df["a"] = a
    df["q_f"] = q_f
    # quantity id by value (5 and 5.0 are one quantity; the exact comparison agrees), -1 for none
    df["qid"] = pd.factorize(df["q"])[0]
    # rank of 挂网编号 in code-point order (numpy sorts fixed-width text far faster than objects)
    df["code_rank"] = np.unique(df["code"].to_numpy(dtype=str), return_inverse=True)[1].astype(np.int64)
    df["gid"] = df.groupby(["generic", "form_group"], sort=False).ngroup()
    df["cid"] = df.groupby(["gid", "kind", "cls"], sort=False).ngroup()
    # integer stand-ins for the text columns SAME_MAKER_SPEC groups on (grouping ints is cheaper)
    for col in ("maker", "tier_class", "spec"):
        df[f"{col}_code"] = pd.factorize(df[col])[0]
    return df


def prepare_references(refs: pd.DataFrame, params: RuleParams) -> pd.DataFrame:
    refs = refs.copy()
    refs["form_group"] = form_groups(refs["dosage_form"].astype(str), params.form_aliases)
    price_codes, price_uniques = pd.factorize(refs["price"])  # as for listings: once per distinct price
    refs["price_f"] = np.array([float(p) for p in price_uniques], dtype=float)[price_codes]
    refs["p_e4"] = np.array([_e4(p) for p in price_uniques], dtype=np.int64)[price_codes]
    refs["n"] = refs["n"].fillna(0).astype(np.int64)
    return refs
