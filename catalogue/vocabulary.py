"""The catalogue's vocabulary (词表): how raw 剂型 / 质量层次 / 是否集采中选 / 挂网状态 values map to
canonical ones (RULES.md §2, FORMATS.md §5.3). Pure data plus one lookup hook, no pricing import.

The shipped tables are the base. A rule set may carry its own alias tables (editable by an admin);
the pricing app registers a `vocabulary source` at start-up that returns the latest rule set's
tables, which are laid over the shipped ones (their entries win, the shipped entries fill gaps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from catalogue.specs import normalise_text

# raw 剂型 → 剂型组. Real provincial catalogues carry many more forms than the RULES.md examples;
# each known form maps to its group so a clean file does not raise "unknown form" warnings.
FORM_ALIASES: dict[str, str] = {
    # injections
    "注射液": "注射剂",
    "注射剂": "注射剂",
    "小容量注射液": "注射剂",
    "大容量注射液": "注射剂",
    "注射用溶液": "注射剂",
    "注射用无菌粉末": "注射用无菌粉末",
    "冻干粉针剂": "注射用无菌粉末",
    "冻干粉针": "注射用无菌粉末",
    "粉针剂": "注射用无菌粉末",
    "注射用冻干粉": "注射用无菌粉末",
    "注射用浓溶液": "注射用浓溶液",
    # tablets
    "片": "片剂",
    "片剂": "片剂",
    "普通片": "片剂",
    "素片": "片剂",
    "薄膜衣片": "片剂",
    "糖衣片": "片剂",
    "包衣片": "片剂",
    "缓释片": "缓释片",
    "控释片": "控释片",
    "肠溶片": "肠溶片",
    "肠溶衣片": "肠溶片",
    "分散片": "分散片",
    "咀嚼片": "咀嚼片",
    "泡腾片": "泡腾片",
    "口腔崩解片": "口崩片",
    "口崩片": "口崩片",
    "含片": "含片",
    "舌下片": "舌下片",
    # capsules
    "胶囊": "胶囊剂",
    "胶囊剂": "胶囊剂",
    "硬胶囊": "胶囊剂",
    "软胶囊": "软胶囊",
    "缓释胶囊": "缓释胶囊",
    "肠溶胶囊": "肠溶胶囊",
    # granules, powders, pills
    "颗粒": "颗粒剂",
    "颗粒剂": "颗粒剂",
    "散剂": "散剂",
    "散": "散剂",
    "丸剂": "丸剂",
    "滴丸": "滴丸剂",
    "滴丸剂": "滴丸剂",
    "干混悬剂": "干混悬剂",
    # oral liquids
    "口服溶液剂": "口服溶液剂",
    "口服溶液": "口服溶液剂",
    "口服液": "口服溶液剂",
    "糖浆剂": "糖浆剂",
    "糖浆": "糖浆剂",
    "口服混悬液": "口服混悬剂",
    "口服混悬剂": "口服混悬剂",
    "合剂": "合剂",
    "酊剂": "酊剂",
    # eye, ear, nose
    "滴眼剂": "滴眼剂",
    "滴眼液": "滴眼剂",
    "眼用凝胶": "眼用凝胶",
    "眼膏剂": "眼膏剂",
    "眼膏": "眼膏剂",
    "滴耳剂": "滴耳剂",
    "滴耳液": "滴耳剂",
    "滴鼻剂": "滴鼻剂",
    "鼻喷雾剂": "鼻用喷雾剂",
    "鼻用喷雾剂": "鼻用喷雾剂",
    # topical and other routes
    "软膏剂": "软膏剂",
    "软膏": "软膏剂",
    "乳膏剂": "乳膏剂",
    "乳膏": "乳膏剂",
    "凝胶剂": "凝胶剂",
    "凝胶": "凝胶剂",
    "贴剂": "贴剂",
    "贴膏剂": "贴膏剂",
    "搽剂": "搽剂",
    "外用溶液剂": "外用溶液剂",
    "栓剂": "栓剂",
    "栓": "栓剂",
    "气雾剂": "气雾剂",
    "吸入气雾剂": "吸入气雾剂",
    "吸入粉雾剂": "吸入粉雾剂",
    "吸入用溶液": "吸入溶液剂",
    "吸入溶液剂": "吸入溶液剂",
}

# 质量层次 as written in uploads → canonical tier (FORMATS.md §1 and the §5.3 synonyms).
TIER_ALIASES: dict[str, str] = {
    "原研": "原研",
    "原研药": "原研",
    "原研药品": "原研",
    "参比制剂": "参比制剂",
    "参比": "参比制剂",
    "参比药品": "参比制剂",
    "过评": "过评",
    "通过一致性评价": "过评",
    "一致性评价": "过评",
    "过评药品": "过评",
    "已过评": "过评",
    "视同过评": "视同过评",
    "视同通过一致性评价": "视同过评",
    "未过评": "未过评",
    "未通过一致性评价": "未过评",
    "非过评": "未过评",
    "未过评药品": "未过评",
    "新药": "新药",
    "创新药": "新药",
}

# canonical tier → tier class (参比 / 过评 / 新药 / 未过评)
TIER_CLASSES: dict[str, str] = {
    "原研": "参比",
    "参比制剂": "参比",
    "过评": "过评",
    "视同过评": "过评",
    "新药": "新药",
    "未过评": "未过评",
}

# 是否集采中选 → 是 / 否 (matched case-insensitively: Y, y, TRUE, true …)
VBP_ALIASES: dict[str, str] = {
    "": "否",
    "是": "是",
    "中选": "是",
    "y": "是",
    "yes": "是",
    "1": "是",
    "true": "是",
    "否": "否",
    "未中选": "否",
    "非中选": "否",
    "n": "否",
    "no": "否",
    "0": "否",
    "false": "否",
}

# 挂网状态 → 挂网 / 暂停 / 撤网 (empty is 挂网)
STATUS_ALIASES: dict[str, str] = {
    "": "挂网",
    "挂网": "挂网",
    "正常": "挂网",
    "正常挂网": "挂网",
    "在挂": "挂网",
    "暂停": "暂停",
    "暂停挂网": "暂停",
    "撤网": "撤网",
    "已撤网": "撤网",
    "撤销挂网": "撤网",
}

VOCABULARY_KEYS = ("form_aliases", "tier_aliases", "tier_classes", "vbp_aliases", "status_aliases")


def lookup_key(value: object) -> str:
    """How a vocabulary value is looked up: NFKC, trimmed, inner spaces collapsed, lower case."""
    return normalise_text(value).lower()


@dataclass(frozen=True)
class Vocabulary:
    """The tables an import normalises with; keys are lookup keys (see `lookup_key`)."""

    form_aliases: dict[str, str] = field(default_factory=dict)
    tier_aliases: dict[str, str] = field(default_factory=dict)
    tier_classes: dict[str, str] = field(default_factory=dict)
    vbp_aliases: dict[str, str] = field(default_factory=dict)
    status_aliases: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, overrides: dict[str, Any] | None = None) -> Vocabulary:
        """The shipped tables with `overrides` (e.g. a rule set's params) laid over them."""
        overrides = overrides or {}
        base = {
            "form_aliases": FORM_ALIASES,
            "tier_aliases": TIER_ALIASES,
            "tier_classes": TIER_CLASSES,
            "vbp_aliases": VBP_ALIASES,
            "status_aliases": STATUS_ALIASES,
        }
        tables: dict[str, dict[str, str]] = {}
        for key, shipped in base.items():
            merged = {**shipped, **(overrides.get(key) or {})}
            if key == "tier_classes":
                tables[key] = dict(merged)
            else:
                tables[key] = {lookup_key(k): v for k, v in merged.items()}
        return cls(**tables)

    def with_values(self, extra: dict[str, dict[str, str]]) -> Vocabulary:
        """A copy with more aliases (e.g. an import profile's value mappings) laid over these."""
        tables = {key: dict(getattr(self, key)) for key in VOCABULARY_KEYS}
        for key, mapping in extra.items():
            if key in tables and key != "tier_classes":
                tables[key].update({lookup_key(k): v for k, v in mapping.items()})
        return Vocabulary(**tables)


VocabularySource = Callable[[], dict[str, Any] | None]
_source: VocabularySource | None = None


def set_vocabulary_source(source: VocabularySource | None) -> None:
    """Register where the current alias tables come from (the pricing app registers its rule sets)."""
    global _source
    _source = source


def current_vocabulary() -> Vocabulary:
    """The shipped vocabulary under the registered source's tables (if any)."""
    return Vocabulary.build(_source() if _source else None)
