"""The compliance page in English shows Chinese only in data; the escalation export neutralises
formulas in text cells."""

import csv
import io

import openpyxl
from django.conf import settings
from django.urls import reverse

from compliance import exports
from tests.platform.test_i18n import HAN, chart_texts, chinese_chart_text, chinese_ui_text


def test_compliance_page_in_english(client, admin_user, checked_round):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(admin_user)
    html = client.get(reverse("compliance:round", args=[checked_round.pk])).content.decode()
    data = {checked_round.title, checked_round.province}
    for check in checked_round.compliance_checks.all():
        data |= {check.catalogue_version.label}
        for r in check.results.all():
            data |= {r.generic_name, r.manufacturer_name, r.listing_code}
    data |= set(checked_round.catalogue_version.listings.values_list("manufacturer_name", flat=True))
    assert "Price adjustment compliance" in html and "Per-pack price reduction of complied listings" in html
    assert "Partly adjusted" in html and "New strength above its converted limit" in html
    assert [t for t in chinese_ui_text(html, data) if HAN.search(t)] == []
    assert "Price adjustment compliance by round" in chart_texts(html)
    assert chinese_chart_text(html, data) == []


def test_exports_neutralise_formulas(tmp_path):
    rows = [[1, '=HYPERLINK("http://x")', "+药", "-企业", None, 1, "@x", 2, "PARTIAL", "部分调价", "TIER_EVALUATED"]]
    buf = io.StringIO()
    exports.write_csv(exports.ESCALATION_HEADERS, rows, buf)
    (row,) = list(csv.reader(io.StringIO(buf.getvalue().lstrip("\ufeff"))))[1:]
    assert row[1].startswith("'=") and row[2] == "'+药" and row[3] == "'-企业" and row[6] == "'@x"
    path = tmp_path / "x.xlsx"
    exports.write_xlsx(exports.ESCALATION_HEADERS, exports.ESCALATION_KINDS, rows, path, "名单")
    sheet = openpyxl.load_workbook(path).active
    assert all(c.data_type != "f" for r in sheet.iter_rows() for c in r)
    assert sheet.cell(2, 2).value.startswith("'=") and sheet.cell(2, 6).data_type == "n"
