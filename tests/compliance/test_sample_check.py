"""The sample round checked against a later 湖南 catalogue: exactly the expected status per listing,
through the command (CSV contract) and the service (stored, audited run)."""

import csv
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from compliance import services
from compliance.models import ComplianceCheck, ComplianceResult
from tests.compliance.conftest import EXPECTED, SAVINGS


def _run(round_id, version_id, path, *extra):
    out = StringIO()
    call_command("check_compliance", str(round_id), str(version_id), "--output", str(path), *extra, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def test_command_writes_the_expected_status_for_every_listing(sample_round, later_version, tmp_path):
    path = tmp_path / "compliance.csv"
    last = _run(sample_round.pk, later_version.pk, path)
    assert last == "COMPLIED=6 PARTIAL=2 NOT_ADJUSTED=2 WITHDRAWN=3 NEW_SPEC_ABOVE=1"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["挂网编号", "通用名", "生产企业", "原挂网价格", "执行限价", "新挂网编号",
                                     "新挂网价格", "合规状态", "合规状态名称"]  # fmt: skip
        rows = list(reader)
    matched = {r["挂网编号"]: r for r in rows if r["合规状态"] != "NEW_SPEC_ABOVE"}
    assert {code: r["合规状态"] for code, r in matched.items()} == EXPECTED
    assert matched["HN0001"]["新挂网编号"] == "HN9001" and matched["HN0001"]["新挂网价格"] == "30.96"
    assert matched["HN0001"]["执行限价"] == "30.96" and matched["HN0001"]["原挂网价格"] == "616.68"
    assert matched["HN0092"]["新挂网编号"] == "HN9092"
    assert matched["HN0021"]["合规状态名称"] == "部分调价" and matched["HN0021"]["新挂网价格"] == "90.00"
    assert matched["HN0032"]["新挂网编号"] == "" and matched["HN0032"]["合规状态名称"] == "已撤网/暂停"
    assert matched["HN0031"]["新挂网编号"] == "HN0031"  # still in the file, but 撤网
    (new_spec,) = [r for r in rows if r["合规状态"] == "NEW_SPEC_ABOVE"]
    # 亥制药 多潘立酮片 20mg×7 at 13.50 against HN0095's limit 7.63 (10mg×7) converted: 7.63 × 1.7 = 12.97
    assert (new_spec["挂网编号"], new_spec["新挂网编号"], new_spec["执行限价"], new_spec["新挂网价格"]) == (
        "HN0095", "HN0096", "12.97", "13.50")  # fmt: skip
    assert new_spec["合规状态名称"] == "新增规格高于差比价" and new_spec["原挂网价格"] == ""


def test_run_is_stored_with_who_when_and_the_savings_headline(sample_round, later_version, admin_user):
    check = services.create_check(sample_round.pk, later_version.pk, user=admin_user)
    assert check.scope == "confirmed"  # no final list yet
    check = services.run_check(check.pk)
    assert check.state == "done" and check.requested_by == admin_user and check.finished_at
    assert check.savings == Decimal(SAVINGS)
    assert check.row_count == 14 == ComplianceResult.objects.filter(check_run=check).count()
    events = AuditEvent.objects.filter(object_type="compliance.ComplianceCheck", object_id=str(check.pk))
    assert set(events.values_list("action", flat=True)) == {"compliance.check_requested", "compliance.check"}
    assert services.run_check(check.pk).row_count == 14  # a done check is left alone
    assert ComplianceResult.objects.filter(check_run=check).count() == 14


def test_the_cheaper_new_strength_is_not_reported(sample_round, later_version):
    check = services.run_check(services.create_check(sample_round.pk, later_version.pk).pk)
    assert not check.results.filter(new_listing__listing_code="HN0097").exists()


def test_scope_all_includes_pending_flags_and_final_is_empty_before_publication(sample_round, later_version, tmp_path):
    from pricing.models import Flag

    Flag.objects.filter(round=sample_round, listing__listing_code="HN0041").update(status="pending")
    confirmed = _run(sample_round.pk, later_version.pk, tmp_path / "a.csv", "--status", "confirmed")
    everything = _run(sample_round.pk, later_version.pk, tmp_path / "b.csv", "--status", "all")
    assert "NOT_ADJUSTED=1" in confirmed and "NOT_ADJUSTED=2" in everything
    with pytest.raises(CommandError, match="没有纠偏记录"):
        _run(sample_round.pk, later_version.pk, tmp_path / "c.csv", "--status", "final")


@pytest.mark.parametrize(
    ("round_id", "version_id", "output", "message"),
    [
        ("999999", None, "x.csv", "纠偏批次 999999 不存在。"),
        (None, "999999", "x.csv", "目录版本 999999 不存在或尚未生效。"),
        (None, None, "missing/dir/x.csv", "输出目录不存在"),
        (None, "round", "x.csv", "不晚于本批次使用的目录版本"),
    ],
)
def test_bad_ids_and_paths_are_one_line_chinese_errors(
    sample_round, later_version, tmp_path, round_id, version_id, output, message
):
    rid = round_id or str(sample_round.pk)
    vid = {None: str(later_version.pk), "round": str(sample_round.catalogue_version_id)}.get(version_id, version_id)
    with pytest.raises(CommandError) as info:
        call_command("check_compliance", rid, vid, "--output", str(tmp_path / output))
    assert message in str(info.value) and "\n" not in str(info.value)
    assert not ComplianceCheck.objects.filter(state="done").exists()


def test_rates_by_rule_and_company(sample_round, later_version):
    from compliance import selectors

    check = services.run_check(services.create_check(sample_round.pk, later_version.pk).pk)
    rules = {b.code: (b.cells, b.rate) for b in selectors.by_rule(check)}
    # HN0001, HN0010, HN0061 complied; HN0042 not adjusted; HN0051 suspended
    assert rules["TIER_UNEVALUATED"] == ([3, 0, 1, 1, 0], Decimal("60.0"))
    # HN0031, HN0032 withdrawn; HN0041 not adjusted; HN0092, HN0095 complied; HN0096 new strength above
    assert rules["SAME_MAKER_SPEC"] == ([2, 0, 1, 2, 1], Decimal("40.0"))
    companies = {b.label: b for b in selectors.by_company(check)}
    assert companies["亥制药有限公司"].cells == [1, 0, 0, 0, 1] and companies["亥制药有限公司"].rate == Decimal("100.0")
    assert companies["辛中药有限公司"].cells == [0, 0, 0, 2, 0] and companies["辛中药有限公司"].rate == Decimal("0.0")
