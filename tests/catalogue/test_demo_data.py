"""The demo-province generator and the idempotent demo seed."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import User
from catalogue.demo_data import DEMO_PASSWORD, generate_catalogue, seed_demo
from catalogue.ingest.headers import CATALOGUE_COLUMNS
from catalogue.models import CatalogueVersion, Listing, ReferencePrice
from catalogue.specs import parse_strength


def test_generated_province_is_realistic():
    files = generate_catalogue(20000, seed=42)
    frame = files.catalogue
    assert len(frame) == 20000 and frame["挂网编号"].is_unique
    assert list(frame.columns) == [c.header for c in CATALOGUE_COLUMNS]
    assert frame["通用名"].nunique() >= 500
    assert set(frame["质量层次"]) >= {"原研", "参比制剂", "过评", "视同过评", "未过评", "新药"}
    assert (frame["是否集采中选"] == "是").sum() > 0
    assert frame["挂网状态"].isin(["暂停", "撤网"]).mean() > 0.01
    makers_per_generic = frame.groupby("通用名")["生产企业"].nunique()
    assert makers_per_generic.median() >= 3
    per_maker = frame.groupby(["通用名", "生产企业"]).agg(specs=("规格", "nunique"), packs=("转换比", "nunique"))
    assert (per_maker["specs"] > 1).mean() > 0.3 and (per_maker["packs"] > 1).mean() > 0.3
    specs = frame["规格"].drop_duplicates()
    assert specs.str.contains(r"ml[:：]\d").any() and specs.str.contains("万单位|万U|IU").any()
    parsed = [parse_strength(s) for s in specs]
    assert any(p.volume_ml and p.content is None for p in parsed)  # volume-only syrups
    assert any(not p.parsed for p in parsed)  # 复方 / unparsed
    ref = files.reference
    assert len(ref) > 100 and (ref["医保药品编码"] != "").any() and (ref["医保药品编码"] == "").any()
    # deterministic per seed
    assert generate_catalogue(500, seed=7).catalogue.equals(generate_catalogue(500, seed=7).catalogue)


@pytest.mark.django_db
def test_generate_command_writes_csv_and_xlsx(tmp_path):
    out = io.StringIO()
    call_command(
        "generate_catalogue", "--size", "300", "--seed", "1", "--output", str(tmp_path / "c.xlsx"),
        "--reference-output", str(tmp_path / "r.csv"), stdout=out,
    )  # fmt: skip
    assert (tmp_path / "c.xlsx").stat().st_size > 0 and (tmp_path / "r.csv").stat().st_size > 0
    from catalogue.services import import_catalogue

    assert import_catalogue(tmp_path / "c.xlsx", province="湖南").row_count == 300


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_creates_logins(samples_dir):
    version, price_set = seed_demo(size=1000, seed=3)
    assert version.label == "湖南 演示目录" and version.row_count == 1000 + 32
    assert Listing.objects.filter(version=version, listing_code="HN0001").get().unit_price == Decimal("102.78")
    assert ReferencePrice.objects.filter(price_set=price_set, province="广东").exists()
    again = seed_demo(size=1000, seed=3)
    assert again == (version, price_set) and CatalogueVersion.objects.count() == 1
    users = {u.username: u for u in User.objects.all()}
    assert users["maker1"].company.name == "Asahi Kasei Pharma Corporation"
    assert users["maker2"].company.name == "苏州二叶制药有限公司"
    assert users["admin"].is_superuser and users["admin"].role == "admin"
    assert users["regulator"].check_password(DEMO_PASSWORD)
