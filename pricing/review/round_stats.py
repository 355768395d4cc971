"""The round overview's aggregates (批次概览统计), cached per version of the round's flags.

Counting 100,000 flags by status, rule × severity and ratio band, ranking manufacturers and
drawing four charts took ≈ 1 s per overview request. The results are cached under a key that
changes whenever any flag of the round changes, so a count shown is never stale:

- `CorrectionRound.flags_version` is bumped by database triggers on every INSERT, UPDATE or DELETE
  of `pricing_flag` (migration 0003_issue12_round_flags_version), in the same transaction as the
  change — whichever code makes it (a decision, a bulk decision, an appeal, publication, the admin,
  a raw SQL update). No decision code has to remember to invalidate anything.
- The key also holds the round's creation and detection stamps and flag count (a re-detection
  replaces the flags) so a key can never be reused by another round.

A request reads the round row fresh, so it sees the version of everything committed before it;
aggregates computed under an old version are never served once a newer version is visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from pricing.models import CorrectionRound
from pricing.review import charts, selectors
from pricing.review.comparison import ComparisonResult, compare_rounds

TIMEOUT = 24 * 3600  # keys are versioned; the timeout only bounds memory


@dataclass
class OverviewData:
    counts: selectors.RoundCounts
    top_by_count: list[dict]
    top_by_amount: list[dict]
    ratio_edges: list[Decimal]
    ratio_counts: list[int]


@dataclass
class ComparisonCounts:
    """What the overview shows of a round comparison: the four counts (the full lists are on the compare page)."""

    counts: dict[str, int]

    def items(self) -> list[tuple[str, int]]:
        return ComparisonResult.items(self)  # type: ignore[arg-type]  # same labels, from the counts


def stats_key(rnd: CorrectionRound) -> str:
    """Changes with every flag change (trigger-maintained version) and every re-detection."""
    created = rnd.created_at.timestamp() if rnd.created_at else 0
    detected = rnd.detected_at.timestamp() if rnd.detected_at else 0
    return f"{rnd.pk}:{created:.6f}:{detected:.6f}:{rnd.flag_count}:{rnd.flags_version}"


def overview_data(rnd: CorrectionRound) -> OverviewData:
    """Counts, top manufacturers and the ratio histogram of `rnd` (fetched fresh by the caller)."""
    return cache.get_or_set(f"round_stats:data:{stats_key(rnd)}", lambda: _compute(rnd.pk), TIMEOUT)


def overview_figures(rnd: CorrectionRound, data: OverviewData) -> dict[str, str]:
    """The four overview charts as plotly JSON, cached per flag version and language."""
    key = f"round_stats:figures:{stats_key(rnd)}:{get_language()}"

    def draw() -> dict[str, str]:
        return {
            "chart_rule_severity": charts.rule_severity_chart(data.counts.rule_severity),
            "chart_ratio": charts.ratio_histogram_chart(data.ratio_edges, data.ratio_counts),
            "chart_top_count": charts.top_manufacturers_chart(
                data.top_by_count, "n", _("纠偏数最多的生产企业"), _("纠偏数")
            ),
            "chart_top_amount": charts.top_manufacturers_chart(
                data.top_by_amount, "amount", _("超限金额 Σ(P_t − L_t) 最高的生产企业"), _("元")
            ),
        }

    return cache.get_or_set(key, draw, TIMEOUT)


def comparison_counts(rnd: CorrectionRound, previous: CorrectionRound) -> ComparisonCounts:
    """New / disappeared / changed / unchanged counts against the previous round (both rounds versioned)."""
    key = f"round_stats:compare:{stats_key(rnd)}:{stats_key(previous)}"
    counts: dict[str, Any] = cache.get_or_set(key, lambda: compare_rounds(rnd, previous).counts, TIMEOUT)
    return ComparisonCounts(counts)


def _compute(round_id: int) -> OverviewData:
    edges, hist = selectors.ratio_histogram(round_id)
    return OverviewData(
        counts=selectors.round_counts(round_id),
        top_by_count=selectors.top_manufacturers(round_id, "n"),
        top_by_amount=selectors.top_manufacturers(round_id, "amount"),
        ratio_edges=edges,
        ratio_counts=hist,
    )
