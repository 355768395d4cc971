"""The round overview is cached, yet a count shown is never stale after a decision (or any flag change)."""

import json
import re
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pricing.models import CorrectionRound, Flag, FlagStatus
from pricing.review import round_stats
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
    return CorrectionRound.objects.values_list("flags_version", flat=True).get(pk=round_id)


def test_second_view_is_served_from_the_cache(client, regulator, flag_a, flag_b, draft_round):
    _overview(client, regulator, draft_round.pk)
    with CaptureQueriesContext(connection) as queries:
        html = _overview(client, regulator, draft_round.pk)
    assert _count(html, "total") == 2
    assert not [q for q in queries.captured_queries if "pricing_flag" in q["sql"]], "flags re-aggregated"


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
