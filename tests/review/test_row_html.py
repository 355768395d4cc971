"""The list rows and the comparison group (rendered by Jinja2, pricing.review.row_html) escape what a
catalogue file put in them and speak the user's language."""

from django.urls import reverse

from tests.factories import FlagFactory

HOSTILE = '<img src=x onerror="alert(1)">'


def _hostile_flag(draft_round):
    return FlagFactory(
        round=draft_round,
        listing__generic_name=f"阿莫西林{HOSTILE}",
        listing__strength=f"0.25g{HOSTILE}",
        listing__manufacturer__name=f"某药业{HOSTILE}",
    )


def test_list_rows_escape_catalogue_text(client, regulator, draft_round):
    flag = _hostile_flag(draft_round)
    client.force_login(regulator)
    html = client.get(reverse("pricing:flag_list", args=[draft_round.pk])).content.decode()
    assert HOSTILE not in html
    assert (
        "阿莫西林&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html or "阿莫西林&lt;img src=x onerror=&quot;" in html
    )
    assert f'name="flag_ids" value="{flag.pk}"' in html  # an open round: rows can be picked
    assert f'href="/pricing/flags/{flag.pk}/?back=' in html


def test_comparison_group_escapes_catalogue_text(client, regulator, draft_round):
    flag = _hostile_flag(draft_round)
    client.force_login(regulator)
    html = client.get(reverse("pricing:flag_detail", args=[flag.pk])).content.decode()
    body = html.split('<table class="group">', 1)[1].split("</table>", 1)[0]
    assert HOSTILE not in body
    assert "某药业&lt;img" in body and "<b>目标</b>" in body


def test_rows_speak_english_when_asked(client, regulator, draft_round):
    flag = FlagFactory(round=draft_round, adjusted_limit_price=None)
    client.force_login(regulator)
    listing_html = client.get(
        reverse("pricing:flag_list", args=[draft_round.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'title="Only this company"' in listing_html
    detail_html = client.get(reverse("pricing:flag_detail", args=[flag.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<b>Target</b>" in detail_html


def test_an_empty_list_says_so(client, regulator, draft_round):
    client.force_login(regulator)
    html = client.get(reverse("pricing:flag_list", args=[draft_round.pk])).content.decode()
    assert "没有符合条件的纠偏记录。" in html
