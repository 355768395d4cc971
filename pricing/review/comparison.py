"""Round comparison (批次对比): which flags are new, which disappeared (and why), which changed limit.

Flags are matched across rounds by (挂网编号, rule code) because each round has its own catalogue
version (listing ids differ). Reads only; values_list, no model instances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalogue.models import Listing
from pricing.models import CorrectionRound, Flag

REASON_PRICE_CORRECTED = "price_corrected"
REASON_BENCHMARK_CHANGED = "benchmark_changed"
REASON_LISTING_GONE = "listing_gone"
REASON_LABELS = {
    REASON_PRICE_CORRECTED: gettext_lazy("企业已调整价格"),
    REASON_BENCHMARK_CHANGED: gettext_lazy("比价药品或规则变化"),
    REASON_LISTING_GONE: gettext_lazy("药品已不在挂网目录"),
}

_FIELDS = (
    "listing__listing_code",
    "rule_code",
    "generic_name",
    "listing__manufacturer_name",
    "target_price",
    "limit_price",
    "benchmark_listing__listing_code",
    "benchmark_province",
)


@dataclass
class ComparisonResult:
    new: list[dict] = field(default_factory=list)
    disappeared: list[dict] = field(default_factory=list)
    limit_changed: list[dict] = field(default_factory=list)
    unchanged: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {
            "new": len(self.new),
            "disappeared": len(self.disappeared),
            "limit_changed": len(self.limit_changed),
            "unchanged": self.unchanged,
        }

    def items(self) -> list[tuple[str, int]]:
        """(label, count) pairs, for templates."""
        labels = {
            "new": _("新增纠偏"),
            "disappeared": _("已消失"),
            "limit_changed": _("限价变化"),
            "unchanged": _("未变化"),
        }
        return [(labels[k], v) for k, v in self.counts.items()]


def _flags(round_: CorrectionRound) -> dict[tuple[str, str], dict]:
    out = {}
    for row in Flag.objects.filter(round=round_).values_list(*_FIELDS).iterator(chunk_size=5000):
        d = dict(zip(("code", "rule", "generic", "maker", "price", "limit", "bench", "province"), row, strict=True))
        d["benchmark"] = d.pop("bench") or d.pop("province")
        d.pop("province", None)
        out[(d["code"], d["rule"])] = d
    return out


def previous_round(round_: CorrectionRound) -> CorrectionRound | None:
    """The default to compare with: the latest earlier round of the same province (any catalogue
    version — two rounds on one catalogue still differ by rule set and decisions)."""
    return (
        CorrectionRound.objects.filter(province=round_.province, pk__lt=round_.pk)
        .order_by("-created_at", "-id")
        .first()
    )


SECTIONS = ("new", "disappeared", "limit_changed")
SECTION_LABELS = {
    "new": gettext_lazy("新增纠偏"),
    "disappeared": gettext_lazy("已消失"),
    "limit_changed": gettext_lazy("限价变化"),
}
CSV_HEADERS = [
    gettext_lazy("变化"),
    gettext_lazy("挂网编号"),
    gettext_lazy("纠偏类型"),
    gettext_lazy("通用名"),
    gettext_lazy("生产企业"),
    gettext_lazy("挂网价格"),
    gettext_lazy("原限价"),
    gettext_lazy("纠偏限价"),
    gettext_lazy("原因"),
    gettext_lazy("现挂网价格"),
]


def write_csv(result: ComparisonResult, out) -> int:
    """The whole comparison as one CSV (UTF-8 with BOM), one row per changed flag."""
    import csv

    from pricing.review.exports import neutralise

    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([str(h) for h in CSV_HEADERS])
    n = 0
    for section in SECTIONS:
        for row in getattr(result, section):
            old_limit = row.get("old_limit", row["limit"] if section == "disappeared" else "")
            new_limit = "" if section == "disappeared" else row["limit"]
            writer.writerow(
                [
                    str(SECTION_LABELS[section]),
                    neutralise(str(row["code"])),
                    row["rule"],
                    neutralise(str(row["generic"])),
                    neutralise(str(row["maker"])),
                    row["price"],
                    old_limit,
                    new_limit,
                    str(row.get("reason_label", "")),
                    row.get("new_price", ""),
                ]
            )
            n += 1
    return n


def compare_rounds(new: CorrectionRound, old: CorrectionRound) -> ComparisonResult:
    now, before = _flags(new), _flags(old)
    result = ComparisonResult()
    gone_codes = {code for code, _rule in before.keys() - now.keys()}
    current = {
        code: (price, active)
        for code, price, active in Listing.objects.filter(
            version_id=new.catalogue_version_id, listing_code__in=gone_codes
        ).values_list("listing_code", "listed_price", "is_active")
    }
    for key in sorted(now.keys() - before.keys()):
        result.new.append(now[key])
    for key in sorted(before.keys() - now.keys()):
        row = dict(before[key])
        listing = current.get(key[0])
        if listing is None or not listing[1]:
            reason = REASON_LISTING_GONE
        elif Decimal(listing[0]) != Decimal(row["price"]):
            reason = REASON_PRICE_CORRECTED
            row["new_price"] = listing[0]
        else:
            reason = REASON_BENCHMARK_CHANGED
        row["reason"] = reason
        row["reason_label"] = REASON_LABELS[reason]
        result.disappeared.append(row)
    for key in sorted(now.keys() & before.keys()):
        if now[key]["limit"] != before[key]["limit"]:
            row = dict(now[key])
            row["old_limit"] = before[key]["limit"]
            result.limit_changed.append(row)
        else:
            result.unchanged += 1
    return result
