"""End to end: import the samples, `detect`, `export_round` → exactly expected_flags_sample.csv."""

import csv
from io import StringIO

import pytest
from django.core.management import call_command

from pricing.models import CorrectionRound, Flag, RoundEvent
from tests.pricing.sample_util import expected_rows

services = pytest.importorskip("catalogue.services")


@pytest.fixture
def sample_round_id(db, samples_dir):
    version = services.import_catalogue(samples_dir / "catalogue_sample.csv", province="湖南", label="样例")
    services.import_reference_prices(samples_dir / "reference_prices_sample.csv", label="样例")
    out = StringIO()
    call_command("detect", str(version.pk), stdout=out)
    return int(out.getvalue().strip().splitlines()[-1])


def _export(round_id: int, tmp_path, fmt: str = "csv", status: str = "all"):
    path = tmp_path / f"out.{fmt}"
    call_command("export_round", str(round_id), "--format", fmt, "--output", str(path), "--status", status)
    return path


def test_detect_and_export_reproduce_the_sample(sample_round_id, samples_dir, tmp_path):
    path = _export(sample_round_id, tmp_path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    got = {
        (
            r["挂网编号"],
            r["纠偏类型"],
            r["比价药品挂网编号"],
            r["最小制剂单价"],
            r["换算后比价单价"],
            r["价差倍数"],
            r["风险等级"],
            r["纠偏限价"],
        )
        for r in rows
    }
    assert len(rows) == len(got)
    assert got == expected_rows(samples_dir)
    assert {r["状态"] for r in rows} == {"待审核"}
    assert list(rows[0].keys())[:4] == ["序号", "纠偏类型", "纠偏类型名称", "挂网编号"]


def test_detection_is_repeatable_and_idempotent(sample_round_id):
    from pricing.engine.rounds import run_detection

    def snapshot():
        return sorted(
            Flag.objects.filter(round_id=sample_round_id).values_list(
                "listing__listing_code", "rule_code", "limit_price", "ratio", "benchmark_converted", "factors"
            ),
            key=lambda r: (r[0], r[1]),
        )

    before = snapshot()
    assert run_detection(sample_round_id) == len(before) == 13
    assert snapshot() == before
    round_ = CorrectionRound.objects.get(pk=sample_round_id)
    assert round_.flag_count == 13 and round_.progress == 100 and round_.detection_status == "done"
    assert RoundEvent.objects.filter(round=round_, action="detected").count() == 2


def test_flag_carries_the_explainable_arithmetic(sample_round_id):
    from pricing.review.explain import explain_flag

    flag = Flag.objects.get(round_id=sample_round_id, listing__listing_code="HN0021")
    assert flag.factors["limit_formula"] == "35.00 × 1.7^-1 × 28 / 7"
    assert flag.benchmark_listing.listing_code == "HN0020"
    assert str(flag.overcharge) == "15.65"
    assert flag.rule_set_version == 1
    values = [s["value"] for s in explain_flag(flag)]
    assert "35.00 × 1.7^-1 × 28 / 7 = 82.35" in values
    ref_flag = Flag.objects.get(round_id=sample_round_id, listing__listing_code="HN0080")
    assert ref_flag.benchmark_province == "广东" and ref_flag.benchmark_reference is not None
