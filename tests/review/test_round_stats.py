"""The round overview reads stored aggregates, yet a count shown is never stale after a decision
(or any other change to a flag): they always equal a full recount of the flags."""

import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pricing.models import CorrectionRound, Flag, FlagStatus, RoundStatsVersion
from pricing.review import round_stats, selectors
from pricing.review.decisions import bulk_decide, decide
from tests.factories import FlagFactory


def _overview(client, user, round_id: int) -> str:
    client.force_login(user)
    response = client.get(reverse("pricing:round_overview", args=[round_id]))
    assert response.status_code == 200
    return response.content.decode()


def _count(html: str, key: str) -> int:
    match = re.search(rf'data-count="{key}">(\d+)<', html)
    assert match, key
    return int(match.group(1))


def _version(round_id: int) -> int:
    return RoundStatsVersion.objects.values_list("flags_version", flat=True).get(pk=round_id)


def _recount(round_id: int) -> round_stats.OverviewData:
    """The aggregates as the overview computed them before they were stored (a full scan of the flags)."""
    edges, hist = selectors.ratio_histogram(round_id)
    return round_stats.OverviewData(
        counts=selectors.round_counts(round_id),
        top_by_count=selectors.top_manufacturers(round_id, "n"),
        top_by_amount=selectors.top_manufacturers(round_id, "amount"),
        ratio_edges=edges,
        ratio_counts=hist,
    )


def _stored(round_id: int) -> round_stats.OverviewData:
    return round_stats.overview_data(CorrectionRound.objects.get(pk=round_id))


def _assert_exact(round_id: int) -> None:
    stored, recount = _stored(round_id), _recount(round_id)
    assert stored.counts == recount.counts
    assert stored.ratio_counts == recount.ratio_counts
    for order in ("n", "amount"):
        ours = getattr(stored, f"top_by_{'count' if order == 'n' else order}")
        theirs = getattr(recount, f"top_by_{'count' if order == 'n' else order}")
        assert [(r["manufacturer_id"], r["n"], r["amount"]) for r in ours] == [
            (r["manufacturer_id"], r["n"], r["amount"]) for r in theirs
        ]


def test_second_view_does_not_scan_the_flags(client, regulator, flag_a, flag_b, draft_round):
    _overview(client, regulator, draft_round.pk)
    with CaptureQueriesContext(connection) as queries:
        html = _overview(client, regulator, draft_round.pk)
    assert _count(html, "total") == 2
    assert not [q for q in queries.captured_queries if "pricing_flag" in q["sql"]], "flags re-aggregated"


def test_stored_aggregates_equal_a_recount_through_decisions(regulator, draft_round, company_a, company_b):
    flags = [
        FlagFactory(
            round=draft_round,
            listing__manufacturer=company_a if i % 3 else company_b,
            rule_code=("TIER_UNEVALUATED", "SAME_MAKER_SPEC", "FOUR_SAME_NATIONAL")[i % 3],
            severity=("红★★★", "黄", "蓝")[i % 3 - 1],
            ratio=Decimal(("1.0000", "1.3335", "1.3334", "7.5", "1000", "2500.1234")[i % 6]),
        )
        for i in range(12)
    ]
    _assert_exact(draft_round.pk)
    decide(flags[0].pk, "confirm", user=regulator, expected_version=0, reason="核实")
    decide(flags[1].pk, "dismiss", user=regulator, expected_version=0, reason="不成立")
    decide(flags[2].pk, "adjust", user=regulator, expected_version=0, reason="调整", new_limit=flags[2].limit_price + 1)
    bulk_decide([f.pk for f in flags[3:8]], "dismiss", user=regulator, reason="批量")
    _assert_exact(draft_round.pk)
    Flag.objects.filter(pk=flags[9].pk).update(status=FlagStatus.WITHDRAWN, adjusted_limit_price=Decimal("0.01"))
    Flag.objects.filter(pk=flags[10].pk).update(severity="黄", ratio=Decimal("42.1697"))  # a future re-rating
    _assert_exact(draft_round.pk)
    Flag.objects.filter(pk=flags[11].pk).delete()
    _assert_exact(draft_round.pk)


def test_frozen_migration_edges_match_the_histogram():

    from pricing import stats_triggers

    assert [Decimal(e) for e in stats_triggers.RATIO_EDGES] == selectors.RATIO_EDGES


def test_counts_follow_each_decision(client, regulator, flag_a, flag_b, draft_round):
    html = _overview(client, regulator, draft_round.pk)
    assert (_count(html, "pending"), _count(html, "confirmed"), _count(html, "dismissed")) == (2, 0, 0)

    decide(flag_a.pk, "confirm", user=regulator, expected_version=flag_a.lock_version, reason="核实")
    html = _overview(client, regulator, draft_round.pk)
    assert (_count(html, "pending"), _count(html, "confirmed")) == (1, 1)

    flag_b.refresh_from_db()
    bulk_decide([flag_b.pk], "dismiss", user=regulator, reason="不成立")
    html = _overview(client, regulator, draft_round.pk)
    assert (_count(html, "pending"), _count(html, "confirmed"), _count(html, "dismissed")) == (0, 1, 1)


def test_any_flag_change_bumps_the_version_even_without_a_service(client, regulator, flag_a, draft_round):
    """A raw UPDATE/INSERT/DELETE (admin, SQL, a future code path) changes the version, in the database."""
    _overview(client, regulator, draft_round.pk)
    before = _version(draft_round.pk)
    Flag.objects.filter(pk=flag_a.pk).update(status=FlagStatus.CONFIRMED)
    assert _version(draft_round.pk) > before
    assert _count(_overview(client, regulator, draft_round.pk), "confirmed") == 1

    before = _version(draft_round.pk)
    extra = FlagFactory(round=draft_round, severity="黄")
    assert _version(draft_round.pk) > before
    assert _count(_overview(client, regulator, draft_round.pk), "total") == 2

    before = _version(draft_round.pk)
    Flag.objects.filter(pk=extra.pk).delete()
    assert _version(draft_round.pk) > before
    assert _count(_overview(client, regulator, draft_round.pk), "total") == 1


def test_other_rounds_keep_their_version(flag_a, draft_round):
    other = FlagFactory()
    before = _version(draft_round.pk)
    Flag.objects.filter(pk=other.pk).update(status=FlagStatus.DISMISSED)
    assert _version(draft_round.pk) == before


def test_adjusted_limit_changes_the_overcharge_ranking(regulator, flag_a, draft_round):
    """Top manufacturers by amount use the adjusted limit price: cached data follows an adjustment."""
    rnd = CorrectionRound.objects.get(pk=draft_round.pk)
    amount = round_stats.overview_data(rnd).top_by_amount[0]["amount"]
    new_limit = flag_a.limit_price + Decimal("1.00")
    decide(
        flag_a.pk, "adjust", user=regulator, expected_version=flag_a.lock_version, reason="调整", new_limit=new_limit
    )
    rnd = CorrectionRound.objects.get(pk=draft_round.pk)
    assert round_stats.overview_data(rnd).top_by_amount[0]["amount"] == amount - Decimal("1.00")


def test_figures_cached_per_language(regulator, flag_a, draft_round):
    from django.utils import translation

    rnd = CorrectionRound.objects.get(pk=draft_round.pk)
    titles = {}
    for language in ("zh-hans", "en", "zh-hans"):
        with translation.override(language):
            figure = json.loads(round_stats.overview_figures(rnd, round_stats.overview_data(rnd))["chart_top_count"])
        titles[language] = json.dumps(figure["layout"], ensure_ascii=False)
    assert "纠偏数最多的生产企业" in titles["zh-hans"]
    assert "Manufacturers with the most corrections" in titles["en"]


@pytest.mark.django_db(transaction=True)
def test_triggers_survive_later_migrations_of_both_tables(regulator, company_a):
    """Another app's migration adding a column rebuilds the table on SQLite: rebuilding the rounds table
    must not fail, and triggers dropped with a rebuilt flag table come back after `migrate` (post_migrate)."""
    from django.apps import apps as django_apps
    from django.db import models

    from pricing.apps import _ensure_stats_triggers
    from pricing.stats_triggers import TRIGGERS, existing_triggers
    from tests.factories import RoundFactory

    def extra(model):
        field = models.IntegerField(default=0, null=True)
        field.set_attributes_from_name("issue12_probe")
        field.model = model
        return field

    rnd = RoundFactory()
    flag = FlagFactory(round=rnd, listing__manufacturer=company_a)
    config = django_apps.get_app_config("pricing")
    try:
        for model in (CorrectionRound, Flag):
            field = extra(model)
            with connection.schema_editor() as editor:
                editor.add_field(model, field)
            with connection.schema_editor() as editor:
                editor.remove_field(model, field)
        _ensure_stats_triggers(config, using="default")  # what `migrate` runs at its end
        assert existing_triggers(connection) == set(TRIGGERS)
        decide(flag.pk, "dismiss", user=regulator, expected_version=0, reason="不成立")
        _assert_exact(rnd.pk)
        assert _stored(rnd.pk).counts.by_status["dismissed"] == 1
    finally:
        _ensure_stats_triggers(config, using="default")


@pytest.mark.django_db(transaction=True)
def test_a_round_with_flags_and_stats_can_be_deleted(company_a):
    from tests.factories import RoundFactory

    rnd = RoundFactory()
    FlagFactory(round=rnd, listing__manufacturer=company_a)
    _stored(rnd.pk)  # builds the stored aggregates and the version row
    rnd.delete()  # flags, stats and version go with it; the delete trigger must not resurrect a version row
    assert not RoundStatsVersion.objects.filter(pk=rnd.pk).exists()
    assert not Flag.objects.filter(round_id=rnd.pk).exists()
