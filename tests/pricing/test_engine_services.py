"""Rounds, rule-set versions, comparison, what-if, pages and API of the pricing engine."""

from decimal import Decimal

import pytest

from audit.models import AuditEvent
from pricing.engine.rounds import DetectionRefused, create_round, run_detection
from pricing.engine.ruleset import RuleParams, RuleParamsError, create_rule_set_version, default_rule_set
from pricing.engine.whatif import preview
from pricing.models import CorrectionRound, Flag, FlagDecision
from pricing.review.comparison import compare_rounds, previous_round
from tests.factories import CatalogueVersionFactory, ListingFactory


def _catalogue(prices: dict[str, str], **version_kw):
    """A small catalogue: one 过评 benchmark B (10.00) and 未过评 targets priced as given."""
    version = CatalogueVersionFactory(**version_kw)
    ListingFactory(version=version, listing_code="B", listed_price=Decimal("10.00"), quality_tier="过评")
    for code, price in prices.items():
        ListingFactory(version=version, listing_code=code, listed_price=Decimal(price), quality_tier="未过评")
    return version


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    def create(**kw):
        with django_capture_on_commit_callbacks(execute=True):
            return create_round(**kw)

    return create


def test_create_round_runs_detection_task_and_audits(regulator, run_on_commit):
    version = _catalogue({"A": "12.00", "C": "9.00"})
    rnd = run_on_commit(catalogue_version=version, title="第一批", user=regulator)
    rnd.refresh_from_db()
    assert rnd.detection_status == "done" and rnd.flag_count == 1 and rnd.rule_set.version == 1
    flag = Flag.objects.get(round=rnd)
    assert flag.listing.listing_code == "A" and flag.limit_price == Decimal("10.00")
    assert flag.overcharge == Decimal("2.00") and flag.rule_set_version == 1
    assert AuditEvent.objects.filter(action="round.create", object_id=str(rnd.pk)).exists()
    assert AuditEvent.objects.filter(action="round.detect", object_id=str(rnd.pk)).exists()


def test_rerun_refused_once_a_decision_exists(regulator, run_on_commit):
    rnd = run_on_commit(catalogue_version=_catalogue({"A": "12.00"}), title="x", user=regulator)
    flag = Flag.objects.get(round=rnd)
    FlagDecision.objects.create(
        flag=flag, action="confirm", actor=regulator, status_before="pending", status_after="confirmed"
    )
    with pytest.raises(DetectionRefused):
        run_detection(rnd.pk)
    assert Flag.objects.filter(round=rnd).count() == 1


def test_round_refused_for_inactive_catalogue(regulator):
    with pytest.raises(DetectionRefused):
        create_round(catalogue_version=CatalogueVersionFactory(status="rejected"), title="x", user=regulator)


def test_rule_set_versions_are_new_rows_and_old_ones_unchanged(admin_user):
    v1 = default_rule_set()
    before = dict(v1.params)
    v2 = create_rule_set_version(v1, {"tolerance_abs": "0.05", "k_pack": "1.95"}, admin_user, note="试行")
    v1.refresh_from_db()
    assert v1.params == before and v2.version == 2
    params = RuleParams.from_rule_set(v2)
    assert params.tolerance_abs == Decimal("0.05") and params.k_pack == Decimal("1.95")
    assert AuditEvent.objects.filter(action="ruleset.create_version", object_id=str(v2.pk)).exists()
    with pytest.raises(RuleParamsError):
        create_rule_set_version(v2, {"k_content": "-1"}, admin_user)
    with pytest.raises(RuleParamsError):
        create_rule_set_version(v2, {"no_such": 1}, admin_user)


def test_detection_uses_the_rounds_rule_set(regulator, admin_user, run_on_commit):
    version = _catalogue({"A": "10.04"})
    v2 = create_rule_set_version(default_rule_set(), {"tolerance_abs": "0.05"}, admin_user)
    loose = run_on_commit(catalogue_version=version, title="宽松", user=regulator, rule_set=v2)
    strict = run_on_commit(catalogue_version=version, title="严格", user=regulator, rule_set=default_rule_set())
    assert Flag.objects.filter(round=loose).count() == 0
    assert Flag.objects.filter(round=strict).count() == 1


def test_compare_rounds_reasons(regulator, run_on_commit):
    old = run_on_commit(
        catalogue_version=_catalogue({"A": "12.00", "C": "13.00", "D": "14.00", "G": "10.50"}),
        title="旧",
        user=regulator,
    )
    new_version = CatalogueVersionFactory()
    for code, price, tier in [
        ("B", "11.00", "过评"),  # benchmark price went up
        ("A", "10.00", "未过评"),  # company corrected its price
        ("C", "13.00", "未过评"),  # still flagged, limit 10.00 → 11.00
        ("G", "10.50", "未过评"),  # no longer above the (changed) benchmark
        ("F", "12.00", "未过评"),  # new listing, flagged
    ]:  # D is gone from the catalogue
        ListingFactory(version=new_version, listing_code=code, listed_price=Decimal(price), quality_tier=tier)
    new = run_on_commit(catalogue_version=new_version, title="新", user=regulator)
    assert previous_round(new) == old and previous_round(old) is None
    result = compare_rounds(new, old)
    assert [r["code"] for r in result.new] == ["F"]
    reasons = {r["code"]: r["reason"] for r in result.disappeared}
    assert reasons == {"A": "price_corrected", "D": "listing_gone", "G": "benchmark_changed"}
    assert [(r["code"], r["old_limit"], r["limit"]) for r in result.limit_changed] == [
        ("C", Decimal("10.00"), Decimal("11.00"))
    ]
    assert result.counts == {"new": 1, "disappeared": 3, "limit_changed": 1, "unchanged": 0}


def test_whatif_counts_without_saving(regulator):
    version = _catalogue({"A": "10.04", "C": "10.20", "D": "12.00"})
    rounds_before = CorrectionRound.objects.count()
    assert preview(version, {})["TIER_UNEVALUATED"] == 3
    assert preview(version, {"tolerance_abs": "0.05"})["TIER_UNEVALUATED"] == 2
    assert preview(version, {"tolerance_rel": "0.1"})["TIER_UNEVALUATED"] == 1
    assert preview(version, {"rules_enabled": []})["TIER_UNEVALUATED"] == 0
    assert CorrectionRound.objects.count() == rounds_before and Flag.objects.count() == 0
