"""English UI through Django i18n: pages switch language, and the committed catalogue is complete.

The catalogue checks read locale/en/LC_MESSAGES/django.po and the compiled django.mo directly, so
they need no gettext tools: a string added to the code without a translation, or a .po edited
without recompiling the .mo, fails here.
"""

import ast
import datetime as dt
import gettext
import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests.factories import FlagFactory, RoundFactory

ROOT = Path(__file__).resolve().parent.parent.parent
PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
HAN = re.compile(r"[\u4e00-\u9fff]")
SKIP_DIRS = {".venv", "var", "bench", "tests", "static", "node_modules", ".git"}
GETTEXT_FUNCS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdf]|\{\w*\}|%[sd]")


class _VisibleText(HTMLParser):
    """Text a user sees: text nodes outside <script>/<style>, plus placeholder/title attributes."""

    def __init__(self) -> None:
        super().__init__()
        self._hidden = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        self.texts += [v.strip() for k, v in attrs if k in ("placeholder", "title") and v and v.strip()]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.texts.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    return parser.texts


def header(html: str) -> str:
    return html[html.index('<header class="topbar">') : html.index("</header>")]


def chinese_ui_text(html: str, data_values: set[str] = frozenset()) -> list[str]:
    """Visible strings that still contain Chinese once data values and the language switch are removed."""
    leftovers = []
    for text in visible_text(html):
        for value in sorted(data_values | {"简体中文"}, key=len, reverse=True):
            text = text.replace(value, "")
        if HAN.search(text):
            leftovers.append(text)
    return leftovers


def chart_texts(html: str) -> list[str]:
    """Every string in the plotly figures' JSON data blocks: titles, axis labels, legends, hover text."""
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key != "template":  # plotly's own theme, no text
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            found.append(node)

    blocks = re.findall(r'<script type="application/json" id="[^"]*-data">(.*?)</script>', html, re.S)
    assert blocks, "no chart on the page"
    for block in blocks:
        walk(json.loads(block))
    return found


def chinese_chart_text(html: str, data_values: set[str]) -> list[str]:
    leftovers = []
    for text in chart_texts(html):
        for value in sorted(data_values, key=len, reverse=True):
            text = text.replace(value, "")
        if HAN.search(text):
            leftovers.append(text)
    return leftovers


@pytest.fixture(autouse=True)
def _back_to_chinese():
    """LocaleMiddleware leaves the last request's language active in the thread: reset it so that
    tests running after these ones see the default (Chinese) messages."""
    yield
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- pages ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_regulator_pages_render_in_english(english, regulator):
    english.force_login(regulator)
    home = english.get(reverse("home"), follow=True)
    assert home.redirect_chain and home.redirect_chain[-1][0] == reverse("pricing:round_list")
    for url, expected in [
        (reverse("pricing:round_list"), "No correction rounds yet."),
        (reverse("catalogue:version_list"), "Upload listed catalogue"),
    ]:
        html = english.get(url).content.decode()
        assert '<html lang="en">' in html
        nav = header(html)
        for label in ("Drug Price Correction Platform", "Listed catalogue", "Correction round", "Appeals", "Log out"):
            assert label in nav, (url, label)
        assert "Regulator" in nav  # the role label next to the user name
        assert chinese_ui_text(nav) == [], url
        assert expected in html
        assert chinese_ui_text(html) == [], url  # no data on these pages, so no Chinese at all


@pytest.mark.django_db
def test_flag_pages_in_english_show_chinese_only_in_data(english, regulator, company_a):
    round_ = RoundFactory(title="2026年第一批纠偏")
    flag = FlagFactory(round=round_, listing__manufacturer=company_a, severity="红★★")
    english.force_login(regulator)
    data = {round_.title, round_.province, round_.catalogue_version.label}
    for listing in round_.catalogue_version.listings.all():
        data |= {str(v) for v in vars(listing).values() if isinstance(v, str) and HAN.search(v)}
        data.add(listing.manufacturer.name)
    listing_page = english.get(reverse("pricing:flag_list", args=[round_.pk])).content.decode()
    assert "Red ★★" in listing_page and "Pending review" in listing_page and "Price ratio" in listing_page
    assert chinese_ui_text(listing_page, data) == []
    detail = english.get(reverse("pricing:flag_detail", args=[flag.pk])).content.decode()
    assert "Correction details" in detail and "Comparison group" in detail and "listed drugs in total" in detail
    assert "Red ★★ (5 ≤ r < 10)" in visible_text(detail)  # the severity step of the explanation
    assert chinese_ui_text(detail, data) == []
    group_chart = chart_texts(detail)
    assert "Comparison group unit prices" in group_chart and "Target drug" in group_chart
    assert chinese_chart_text(detail, data) == []


@pytest.mark.django_db
def test_round_overview_charts_in_english(english, regulator, company_a, company_b):
    round_ = RoundFactory(title="2026年第一批纠偏")
    FlagFactory(round=round_, listing__manufacturer=company_a, severity="红★★★")
    FlagFactory(round=round_, listing__manufacturer=company_b, rule_code="SAME_MAKER_SPEC", severity="黄")
    english.force_login(regulator)
    html = english.get(reverse("pricing:round_overview", args=[round_.pk])).content.decode()
    texts = chart_texts(html)
    for expected in (
        "By correction type and severity",
        "Same manufacturer, different strength",
        "Red ★★★",
        "Price ratio distribution",
        "Price ratio r = P_t / L_t (log scale)",
        "r ≥ %{x:.2f}: %{y} corrections<extra></extra>",
    ):
        assert expected in texts, expected
    data = {round_.title, round_.province, round_.catalogue_version.label, company_a.name, company_b.name}
    assert chinese_chart_text(html, data) == []
    assert chinese_ui_text(html, data) == []


@pytest.mark.django_db
def test_final_print_counts_show_labels(english, admin_user, company_a, company_b):
    from appeals import publication

    deadline = timezone.now() + dt.timedelta(days=3)
    round_ = RoundFactory(status="published", published_at=timezone.now(), appeal_deadline=deadline)
    FlagFactory(round=round_, listing__manufacturer=company_a, status="confirmed", severity="红★")
    FlagFactory(  # 60.00 / 4.80 = 12.5: the final list's severity follows the binding ratio
        round=round_, listing__manufacturer=company_b, listing__listed_price=Decimal("60.00"), status="confirmed"
    )
    publication.close_appeal_window(round_.pk, user=admin_user)
    publication.publish_final_list(round_.pk, user=admin_user)
    english.force_login(admin_user)
    html = english.get(reverse("appeals:final_print", args=[round_.pk])).content.decode()
    counts = html[html.index('<section class="counts">') : html.index("</section>")]
    assert "Unevaluated priced above new drug/evaluated/reference 2" in counts
    assert "Red ★ 1" in counts and "Red ★★★ 1" in counts
    assert "TIER_UNEVALUATED" not in counts and "红" not in counts


@pytest.mark.django_db
def test_manufacturer_notice_page_in_english(english, maker_a, company_a):
    deadline = timezone.now() + dt.timedelta(days=3)
    round_ = RoundFactory(status="published", published_at=timezone.now(), appeal_deadline=deadline)
    FlagFactory(round=round_, listing__manufacturer=company_a, status="confirmed")
    english.force_login(maker_a)
    html = english.get(reverse("appeals:home")).content.decode()
    assert "My correction notices" in header(html) and "Manufacturer" in header(html)
    assert "Appeal deadline" in html and "Beijing time" in html and "Appeal this listing" in html
    assert "Binding limit" in html
    assert "我的纠偏通知" not in html and "申诉截止时间" not in html


@pytest.mark.django_db
def test_chinese_is_the_default(client, regulator):
    client.force_login(regulator)
    html = client.get(reverse("pricing:round_list")).content.decode()
    assert '<html lang="zh-hans">' in html
    nav = header(html)
    assert "纠偏批次" in nav and "挂网目录" in nav and "退出" in nav
    assert "Correction round" not in nav and "Log out" not in nav
    assert "还没有纠偏批次。" in html
    assert 'value="en"' in nav and "English" in nav  # the switch offers English


@pytest.mark.django_db
def test_language_follows_accept_language_and_the_switch(client, regulator):
    client.force_login(regulator)
    url = reverse("pricing:round_list")
    assert "Log out" in client.get(url, headers={"accept-language": "en-US,en;q=0.9"}).content.decode()
    response = client.post(reverse("set_language"), {"language": "en", "next": url})
    assert response.status_code == 302 and response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Log out" in client.get(url).content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": url})
    assert "退出" in client.get(url).content.decode()


@pytest.mark.django_db
def test_login_page_in_english(english):
    html = english.get(reverse("login")).content.decode()
    assert "Username" in html and "Password" in html and "Log in" in html
    assert chinese_ui_text(html) == []


# --- the committed catalogue ---------------------------------------------------------------------


def _unquote(line: str) -> str:
    return ast.literal_eval(line)


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgid, msgid_plural, msgstr (list), flags. Obsolete (#~) entries are skipped."""
    entries: list[dict] = []
    entry: dict = {}
    field = None

    def flush():
        if "msgid" in entry:
            entries.append(dict(entry))
        entry.clear()

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#,"):
            if "msgid" in entry:
                flush()
            entry.setdefault("flags", set()).update(f.strip() for f in line[2:].split(","))
        elif not line or line.startswith("#"):
            if line.startswith("#~"):
                continue
            if "msgid" in entry and "msgstr" in entry:
                flush()
        elif line.startswith("msgid_plural "):
            field = "msgid_plural"
            entry[field] = _unquote(line[len(field) + 1 :])
        elif line.startswith("msgid "):
            if "msgstr" in entry:
                flush()
            field = "msgid"
            entry[field] = _unquote(line[6:])
        elif line.startswith("msgstr"):
            field = "msgstr"
            entry.setdefault("msgstr", []).append(_unquote(line.split(" ", 1)[1]))
        elif line.startswith('"'):
            if field == "msgstr":
                entry["msgstr"][-1] += _unquote(line)
            else:
                entry[field] += _unquote(line)
    flush()
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[dict]:
    entries = parse_po(PO)
    assert entries[0]["msgid"] == ""  # header
    return entries[1:]


def test_every_english_msgid_is_translated(po_entries):
    assert len(po_entries) > 500
    problems = []
    for e in po_entries:
        plural = "msgid_plural" in e
        if "fuzzy" in e.get("flags", ()):
            problems.append(("fuzzy", e["msgid"]))
        if not all(e["msgstr"]) or (plural and len(e["msgstr"]) != 2):
            problems.append(("untranslated", e["msgid"]))
        for translation in e["msgstr"]:
            if sorted(PLACEHOLDER.findall(e["msgid"])) != sorted(PLACEHOLDER.findall(translation)):
                problems.append(("placeholders differ", e["msgid"], translation))
            if HAN.search(translation) and not re.search(r"“[^”]*[\u4e00-\u9fff]", translation):
                problems.append(("Chinese left in translation", e["msgid"], translation))
    assert problems == []


def test_compiled_mo_matches_the_po(po_entries):
    """The committed .mo is compiled from the current .po (a file-time check would not survive git checkout)."""
    with MO.open("rb") as fh:
        catalogue = gettext.GNUTranslations(fh)
    stale = []
    for e in po_entries:
        if "msgid_plural" in e:
            got = [catalogue.ngettext(e["msgid"], e["msgid_plural"], n) for n in (1, 2)]
        else:
            got = [catalogue.gettext(e["msgid"])]
        if got != e["msgstr"]:
            stale.append(e["msgid"])
    assert stale == [], "run: python manage.py compilemessages -l en --ignore=.venv"


def _source_msgids() -> set[str]:
    """Literal msgids in Python gettext calls and in {% translate "…" %} tags, found without xgettext."""
    found: set[str] = set()
    for path in ROOT.rglob("*.py"):
        if SKIP_DIRS & set(path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                if name in GETTEXT_FUNCS and isinstance(node.args[0].value, str):
                    found.add(node.args[0].value)
    tag = re.compile(r"""\{%\s*(?:translate|trans)\s+(?:"([^"]*)"|'([^']*)')""")
    for path in (ROOT / "templates").rglob("*.html"):
        found |= {a or b for a, b in tag.findall(path.read_text(encoding="utf-8"))}
    return found


def test_catalogue_covers_every_translatable_string_in_the_source(po_entries):
    """Catch a new string that was never extracted: rerun makemessages, translate, compilemessages."""
    in_po = {e["msgid"] for e in po_entries}
    sources = _source_msgids()
    assert len(sources) > 400
    assert sorted(sources - in_po) == []
