"""The round overview's aggregates (批次概览统计): stored per round, exact after every decision.

Counting 100,000 flags by status, rule × severity and ratio band and ranking manufacturers took
≈ 1 s per overview request. They are stored instead, in two small tables:

- RoundMakerStat: flags per round × manufacturer × status with Σ(P_t − effective L_t) (in 1/10000
  yuan) → counts by status, top manufacturers by count and by overcharge;
- RoundShapeStat: flags per round × rule × severity × 价差倍数 band → rule × severity counts, histogram.

Database triggers (pricing.stats_triggers) keep them exact: every UPDATE of pricing_flag, whatever
code makes it (decision, bulk decision, appeal, publication, admin, raw SQL), applies its delta in
the same transaction and keeps `stats_version == flags_version` (RoundStatsVersion); an INSERT or
DELETE (detection) bumps `flags_version` only, and the round's rows are rebuilt from the flags (at the
end of detection, or here before they are read). No decision code has to call anything, so a count
shown is never stale. Charts are cached under a digest of their inputs; comparison counts per detection.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, QuerySet, Sum
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from catalogue.models import Manufacturer
from pricing import stats_triggers
from pricing.models import (
    CorrectionRound,
    Flag,
    FlagStatus,
    RoundMakerStat,
    RoundShapeStat,
    RoundStatsVersion,
    RuleCode,
    Severity,
)
from pricing.review import selectors

TIMEOUT = 24 * 3600  # cache keys are content/detection digests; the timeout only bounds memory


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
        from pricing.review.comparison import ComparisonResult

        return ComparisonResult.items(self)  # type: ignore[arg-type]  # same labels, from the counts


def rebuild(round_id: int) -> None:
    """Recompute the round's stored aggregates from its flags (after detection, or when a flag was
    inserted or deleted): one INSERT … SELECT per table, under the round's row lock."""
    with transaction.atomic():
        version, _created = RoundStatsVersion.objects.get_or_create(round_id=round_id)
        version = RoundStatsVersion.objects.select_for_update().get(pk=version.pk)
        if version.stats_version == version.flags_version and not _created:
            return  # up to date (someone else rebuilt it while this request waited for the lock)
        RoundMakerStat.objects.filter(round_id=round_id).delete()
        RoundShapeStat.objects.filter(round_id=round_id).delete()
        flag = Flag._meta.db_table
        amount = stats_triggers.amount_sql("f", connection.vendor)
        band = stats_triggers.ratio_bin_sql("f", selectors.RATIO_EDGES)
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {RoundMakerStat._meta.db_table} (round_id, manufacturer_id, status, n, amount_e4) "
                f"SELECT round_id, manufacturer_id, status, COUNT(*), SUM({amount}) FROM {flag} f "
                "WHERE round_id = %s GROUP BY round_id, manufacturer_id, status",
                [round_id],
            )
            cur.execute(
                f"INSERT INTO {RoundShapeStat._meta.db_table} (round_id, rule_code, severity, ratio_bin, n) "
                f"SELECT round_id, rule_code, severity, {band}, COUNT(*) FROM {flag} f "
                f"WHERE round_id = %s GROUP BY round_id, rule_code, severity, {band}",
                [round_id],
            )
        RoundStatsVersion.objects.filter(pk=round_id).update(stats_version=F("flags_version"))


# the flag list's filters a stored aggregate can count, by table
_MAKER_FILTERS = {"status": "status", "manufacturer": "manufacturer_id"}
_SHAPE_FILTERS = {"rule": "rule_code", "severity": "severity"}


def stored_flag_count(round_id: int, filters: dict[str, Any]) -> int | None:
    """The number of the round's flags matching the flag list's `filters` (its active, cleaned
    values), read from the stored aggregates instead of counting up to 100,000 flags: no filter,
    status and/or manufacturer (RoundMakerStat), rule and/or severity (RoundShapeStat). None when
    another filter is active or the aggregates are not current (a detection since the last rebuild):
    the caller counts the flags then. The check and the sum are one statement, so they read the
    same snapshot — and the triggers update the aggregates in the decision's own transaction."""
    if set(filters) <= set(_MAKER_FILTERS):
        table, columns = RoundMakerStat._meta.db_table, _MAKER_FILTERS
    elif set(filters) <= set(_SHAPE_FILTERS):
        table, columns = RoundShapeStat._meta.db_table, _SHAPE_FILTERS
    else:
        return None
    where, params = ["s.round_id = %s"], [round_id]
    for name, value in sorted(filters.items()):
        if name == "manufacturer":
            if value != int(value) or not -(2**63) <= int(value) < 2**63:
                return None  # the flag query decides what such an id matches
            value = int(value)
        where.append(f"s.{columns[name]} = %s")
        params.append(value)
    version = RoundStatsVersion._meta.db_table
    sql = (
        f"SELECT v.flags_version = v.stats_version, "
        f"(SELECT COALESCE(SUM(s.n), 0) FROM {table} s WHERE {' AND '.join(where)}) "
        f"FROM {version} v WHERE v.round_id = %s"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [*params, round_id])
        row = cur.fetchone()
    if row is None or not row[0]:
        return None
    return int(row[1])


def overview_data(rnd: CorrectionRound) -> OverviewData:
    """Counts, top manufacturers and the ratio histogram of `rnd` (fetched fresh by the caller),
    read from the stored aggregates (rebuilt first when a detection replaced the flags)."""
    version = RoundStatsVersion.objects.filter(pk=rnd.pk).values_list("flags_version", "stats_version").first()
    if version is None or version[0] != version[1]:
        rebuild(rnd.pk)
    makers = RoundMakerStat.objects.filter(round_id=rnd.pk, n__gt=0).order_by()
    shapes = RoundShapeStat.objects.filter(round_id=rnd.pk, n__gt=0).values_list(
        "rule_code", "severity", "ratio_bin", "n"
    )
    by_status = {s.value: 0 for s in FlagStatus}
    by_status.update(makers.values("status").annotate(total=Sum("n")).values_list("status", "total"))
    # per manufacturer, flags not dismissed or withdrawn (as selectors.top_manufacturers counts them)
    per_maker = (
        makers.exclude(status__in=_NOT_COUNTED)
        .values("manufacturer_id")
        .annotate(n_sum=Sum("n"), amount_sum=Sum("amount_e4"))
    )
    rule_severity: dict[tuple[str, str], int] = {}
    ratio_counts = [0] * len(selectors.RATIO_EDGES)
    for rule, severity, ratio_bin, n in shapes:
        rule_severity[(rule, severity)] = rule_severity.get((rule, severity), 0) + n
        ratio_counts[ratio_bin] += n
    by_rule = {c.value: 0 for c in RuleCode}
    by_severity = {s.value: 0 for s in Severity}
    for (rule, severity), n in rule_severity.items():
        by_rule[rule] = by_rule.get(rule, 0) + n
        by_severity[severity] = by_severity.get(severity, 0) + n
    counts = selectors.RoundCounts(sum(by_status.values()), by_status, by_rule, by_severity, rule_severity)
    return OverviewData(
        counts=counts,
        top_by_count=_top(per_maker, "n"),
        top_by_amount=_top(per_maker, "amount"),
        ratio_edges=selectors.RATIO_EDGES,
        ratio_counts=ratio_counts,
    )


_NOT_COUNTED = {FlagStatus.DISMISSED.value, FlagStatus.WITHDRAWN.value}  # as selectors.top_manufacturers
TOP = 15


def _top(per_maker: QuerySet, order: str) -> list[dict]:
    """The rows selectors.top_manufacturers returns (value descending, then name), from the grouped
    stats: the TOP-th largest value is the cutoff, every manufacturer at or above it (ties included)
    is read with its name, then sorted as the flag query sorted them."""
    field = "n_sum" if order == "n" else "amount_sum"
    cutoff = per_maker.order_by(f"-{field}").values_list(field, flat=True)[TOP - 1 : TOP].first()
    candidates = per_maker.filter(**{f"{field}__gte": cutoff}) if cutoff is not None else per_maker
    rows = list(candidates.values_list("manufacturer_id", "n_sum", "amount_sum"))
    names = dict(Manufacturer.objects.filter(pk__in=[m for m, _n, _a in rows]).values_list("id", "name"))
    top = [
        {"manufacturer_id": m, "manufacturer__name": names.get(m, ""), "n": n, "amount": Decimal(a).scaleb(-4)}
        for m, n, a in rows
    ]
    top.sort(key=lambda r: r["manufacturer__name"])
    top.sort(key=lambda r: r[order], reverse=True)
    return top[:TOP]


def overview_figures(rnd: CorrectionRound, data: OverviewData) -> dict[str, str]:
    """The four overview charts as plotly JSON, each cached under a digest of what it draws and the
    language (a confirmation changes none of them; a dismissal only the two manufacturer charts)."""
    from pricing.review import charts  # plotly: imported by the pages, not by detection

    drawings = {
        "chart_rule_severity": (charts.rule_severity_chart, (data.counts.rule_severity,)),
        "chart_ratio": (charts.ratio_histogram_chart, (data.ratio_edges, data.ratio_counts)),
        "chart_top_count": (
            charts.top_manufacturers_chart,
            (data.top_by_count, "n", _("纠偏数最多的生产企业"), _("纠偏数")),
        ),
        "chart_top_amount": (
            charts.top_manufacturers_chart,
            (data.top_by_amount, "amount", _("超限金额 Σ(P_t − L_t) 最高的生产企业"), _("元")),
        ),
    }
    figures = {}
    for name, (draw, arguments) in drawings.items():
        digest = hashlib.sha256(repr((name, get_language(), arguments)).encode()).hexdigest()
        figures[name] = cache.get_or_set(f"round_stats:figure:{digest}", lambda d=draw, a=arguments: d(*a), TIMEOUT)
    return figures


def _detection_key(rnd: CorrectionRound) -> str:
    created = rnd.created_at.timestamp() if rnd.created_at else 0
    detected = rnd.detected_at.timestamp() if rnd.detected_at else 0
    return f"{rnd.pk}:{created:.6f}:{detected:.6f}:{rnd.flag_count}"


def comparison_counts(rnd: CorrectionRound, previous: CorrectionRound) -> ComparisonCounts:
    """New / disappeared / changed / unchanged counts against the previous round, cached per detection
    of both rounds: they compare the detected values (codes, rules, prices, limit prices), which only
    detection writes — decisions change status and the adjusted limit, not these."""
    key = f"round_stats:compare:{_detection_key(rnd)}:{_detection_key(previous)}"
    from pricing.review.comparison import compare_rounds

    counts: dict[str, Any] = cache.get_or_set(key, lambda: compare_rounds(rnd, previous).counts, TIMEOUT)
    return ComparisonCounts(counts)
