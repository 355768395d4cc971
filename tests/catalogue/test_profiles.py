"""Mapping instead of rejection (FORMATS.md §5.5): import profiles per province, versioned and audited."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEvent
from catalogue import services
from catalogue.ingest.errors import IngestRejected
from catalogue.models import CatalogueVersion, ImportProfile, Listing
from catalogue.profiles import ProfileRefused, file_problems, save_profile
from catalogue.vocabulary import Vocabulary

# 品种编码 is this province's name for 挂网编号; 优质 is its word for 过评
ODD = """品种编码,通用名,剂型,规格,转换比,生产企业,质量层次,挂网价格,备注
X1,甲片,片剂,10mg,10,甲厂,优质,5.00,无
X2,甲片,片剂,10mg,10,乙厂,未过评,9.00,无
"""


def _file(tmp_path, text=ODD, name="odd.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.django_db
def test_problems_name_unknown_headers_missing_columns_and_values(tmp_path):
    problems = file_problems(_file(tmp_path), Vocabulary.build())
    assert problems.unknown_headers == ["品种编码", "备注"]
    assert problems.missing == [("listing_code", "挂网编号")]
    assert problems.unknown_values == {"quality_tier": [("优质", 1)]}


@pytest.mark.django_db
def test_profile_is_versioned_audited_and_applied_by_province_and_by_name(tmp_path, regulator):
    path = _file(tmp_path)
    with pytest.raises(IngestRejected):
        services.import_catalogue(path, province="某省")
    first = save_profile("某省", header_map={"品种编码": "listing_code"}, value_map={}, user=regulator)
    second = save_profile("某省", header_map={}, value_map={"quality_tier": {"优质": "过评"}}, user=regulator)
    assert (first.version, second.version) == (1, 2)
    assert second.header_map == {"品种编码": "listing_code"}  # the previous version's entries are kept
    assert AuditEvent.objects.filter(action="catalogue.import_profile").count() == 2
    version = services.import_catalogue(path, province="某省")
    assert version.import_profile == second
    x1 = Listing.objects.get(version=version, listing_code="X1")
    assert (x1.quality_tier, x1.tier_class) == ("过评", "过评")
    assert x1.extra == {"备注": "无"}
    # another province uses it by name on the command line
    out = StringIO()
    call_command("import_catalogue", str(path), "--province", "另一省", "--profile", "某省", stdout=out)
    assert CatalogueVersion.objects.get(pk=int(out.getvalue().strip().splitlines()[-1])).row_count == 2
    with pytest.raises(SystemExit):
        call_command("import_catalogue", str(path), "--province", "另一省", "--profile", "没有", stderr=StringIO())


@pytest.mark.django_db
def test_mapping_two_columns_to_one_or_leaving_a_required_column_is_refused(tmp_path, regulator):
    path = _file(tmp_path)
    with pytest.raises(ProfileRefused, match="不能映射到同一列"):
        save_profile(
            "某省", header_map={"品种编码": "listing_code", "备注": "listing_code"}, value_map={}, user=regulator
        )
    with pytest.raises(ProfileRefused, match="仍缺少必填列：挂网编号"):
        save_profile("某省", header_map={"备注": "trade_name"}, value_map={}, user=regulator, check_file=path)
    with pytest.raises(ProfileRefused, match="只能映射为"):
        save_profile("某省", header_map={}, value_map={"quality_tier": {"优质": "很好"}}, user=regulator)
    assert not ImportProfile.objects.exists()


@pytest.mark.django_db
def test_mapping_page_saves_the_profile_and_reimports(client, regulator, tmp_path, django_capture_on_commit_callbacks):
    client.force_login(regulator)
    with _file(tmp_path).open("rb") as fh, django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("catalogue:version_upload"), {"file": fh, "province": "某省", "label": ""})
    rejected = CatalogueVersion.objects.get()
    assert rejected.status == "rejected"
    page = client.get(reverse("catalogue:version_mapping", args=[rejected.pk])).content.decode()
    assert 'data-header="品种编码"' in page and 'data-value="优质"' in page
    form = {"hn:0": "品种编码", "h:0": "listing_code", "hn:1": "备注", "h:1": "", "vn:quality_tier:0": "优质"}
    refused = client.post(reverse("catalogue:version_mapping", args=[rejected.pk]), {**form, "h:0": ""})
    assert "仍缺少必填列" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("catalogue:version_mapping", args=[rejected.pk]), {**form, "v:quality_tier:0": "过评"}
        )
    again = CatalogueVersion.objects.exclude(pk=rejected.pk).get()
    assert response.url == reverse("catalogue:version_detail", args=[again.pk])
    assert again.status == "active" and again.row_count == 2
    assert ImportProfile.objects.get().value_map == {"quality_tier": {"优质": "过评"}}


@pytest.mark.django_db
def test_profile_page_removes_and_adds_entries_as_a_new_version(client, regulator):
    save_profile(
        "某省", header_map={"品种编码": "listing_code"}, value_map={"quality_tier": {"优质": "过评"}}, user=regulator
    )
    client.force_login(regulator)
    assert "某省" in client.get(reverse("catalogue:profile_list")).content.decode()
    url = reverse("catalogue:profile_edit", args=["某省"])
    assert 'data-value="优质"' in client.get(url).content.decode()
    response = client.post(url, {"drop-v:quality_tier:优质": "on", "new_header": "药品名", "new_key": "generic_name"})
    assert response.status_code == 302
    latest = ImportProfile.objects.get(name="某省", version=2)
    assert latest.header_map == {"品种编码": "listing_code", "药品名": "generic_name"} and latest.value_map == {}
    refused = client.post(url, {"new_header": "编号2", "new_key": "listing_code"}).content.decode()
    assert "不能映射到同一列" in refused
    assert ImportProfile.objects.filter(name="某省").count() == 2


@pytest.mark.django_db
def test_value_mapping_with_latin_letters(tmp_path, regulator):
    tiers = {"quality_tier": {"A级": "过评", "优质": "过评"}}
    save_profile("某省", header_map={"品种编码": "listing_code"}, value_map=tiers, user=regulator)
    version = services.import_catalogue(_file(tmp_path, ODD.replace("优质", "A级")), province="某省")
    assert Listing.objects.get(version=version, listing_code="X1").quality_tier == "过评"
