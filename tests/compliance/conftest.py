"""The sample round (13 flags, all confirmed) and a later catalogue version of 湖南 built from the
sample file with the changes a compliance check has to tell apart."""

import csv
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from pricing.models import Flag

HEADERS = ["挂网编号", "医保药品编码", "通用名", "商品名", "剂型", "规格", "转换比", "最小制剂单位", "包装单位",
           "生产企业", "上市许可持有人", "质量层次", "是否集采中选", "挂网价格", "挂网状态"]  # fmt: skip

# 挂网编号 → what the later version does with the listing, and the status the check must give
EXPECTED = {
    "HN0001": "COMPLIED",  # re-coded HN9001 with the same 医保药品编码, cut to its limit 30.96
    "HN0010": "COMPLIED",  # cut to 2.04
    "HN0021": "PARTIAL",  # 98.00 → 90.00, limit 82.35
    "HN0031": "WITHDRAWN",  # 撤网
    "HN0032": "WITHDRAWN",  # gone from the file
    "HN0041": "NOT_ADJUSTED",  # unchanged 55.00
    "HN0042": "NOT_ADJUSTED",  # raised 45.00 → 50.00
    "HN0051": "WITHDRAWN",  # 暂停
    "HN0061": "COMPLIED",  # cut to 45.00
    "HN0080": "COMPLIED",  # cut to 21.30
    "HN0081": "PARTIAL",  # 40.00 → 39.95, limit 39.90
    "HN0092": "COMPLIED",  # re-coded HN9092 without 医保药品编码 (found by the product), cut to 0.13
    "HN0095": "COMPLIED",  # cut to 7.63
}
NEW_PRICES = {"HN0010": "2.04", "HN0021": "90.00", "HN0042": "50.00", "HN0061": "45.00", "HN0080": "21.30",
              "HN0081": "39.95", "HN0095": "7.63"}  # fmt: skip
SAVINGS = "640.85"  # 585.72 + 37.41 + 15.00 + 2.70 + 0.01 + 0.01


def later_rows(samples_dir: Path) -> list[dict]:
    with open(samples_dir / "catalogue_sample.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        code = row["挂网编号"]
        if code == "HN0032":
            continue
        row = dict(row)
        if code in NEW_PRICES:
            row["挂网价格"] = NEW_PRICES[code]
        if code == "HN0001":
            row.update({"挂网编号": "HN9001", "挂网价格": "30.96"})
        if code == "HN0092":
            row.update({"挂网编号": "HN9092", "挂网价格": "0.13"})
        if code == "HN0031":
            row["挂网状态"] = "撤网"
        if code == "HN0051":
            row["挂网状态"] = "暂停"
        out.append(row)
    base = next(r for r in rows if r["挂网编号"] == "HN0095")
    # two new strengths of 亥制药's 多潘立酮片: 20mg×7 above 7.63 × 1.7 = 12.97, 5mg×7 below 7.63 / 1.7 = 4.49
    out.append({**base, "挂网编号": "HN0096", "规格": "20mg", "挂网价格": "13.50"})
    out.append({**base, "挂网编号": "HN0097", "规格": "5mg", "挂网价格": "4.00"})
    return out


def write_catalogue(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=HEADERS)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def sample_round(db, samples_dir, regulator):
    from catalogue.services import import_catalogue, import_reference_prices
    from pricing.models import CorrectionRound
    from pricing.review.decisions import bulk_decide

    version = import_catalogue(samples_dir / "catalogue_sample.csv", province="湖南", label="2024年7月")
    import_reference_prices(samples_dir / "reference_prices_sample.csv", label="样例")
    out = StringIO()
    call_command("detect", str(version.pk), stdout=out)
    rnd = CorrectionRound.objects.get(pk=int(out.getvalue().strip().splitlines()[-1]))
    bulk_decide(list(Flag.objects.filter(round=rnd).values_list("pk", flat=True)), "confirm", user=regulator)
    return rnd


@pytest.fixture
def later_version(db, sample_round, samples_dir, tmp_path):
    from catalogue.services import import_catalogue

    path = write_catalogue(tmp_path / "later.csv", later_rows(samples_dir))
    return import_catalogue(path, province="湖南", label="2025年1月")


def publish_final(rnd, admin_user):
    """Notice → appeal window closed early by the admin → final list (the whole confirmed set)."""
    import datetime as dt

    from django.utils import timezone

    from appeals import publication as appeal_publication
    from pricing.review.publication import publish_notice

    publish_notice(rnd.pk, user=admin_user, deadline=timezone.now() + dt.timedelta(days=10))
    appeal_publication.close_appeal_window(rnd.pk, user=admin_user)
    return appeal_publication.publish_final_list(rnd.pk, user=admin_user)


@pytest.fixture
def final_round(sample_round, admin_user):
    publish_final(sample_round, admin_user)
    sample_round.refresh_from_db()
    return sample_round


@pytest.fixture
def checked_round(sample_round, later_version, admin_user):
    """Final list published on Friday 13 Feb 2026, 10 working days to adjust (due 5 Mar), and a
    check of the later version of its final list."""
    import datetime as dt

    import time_machine

    from compliance import services

    with time_machine.travel(dt.datetime(2026, 2, 13, 1, 0, tzinfo=dt.UTC), tick=False):
        publish_final(sample_round, admin_user)
    services.set_adjustment_deadline(sample_round.pk, working_days=10, user=admin_user)
    services.run_check(services.create_check(sample_round.pk, later_version.pk, user=admin_user).pk)
    return sample_round
