"""The charts draw under the production CSP, which no longer allows 'unsafe-eval' (issue 11)."""

import pytest

from tests.e2e.test_review_journey import login, sample_round  # noqa: F401  (fixture)


@pytest.mark.django_db(transaction=True)
def test_charts_draw_without_eval_and_without_csp_violations(page, live_server, regulator, sample_round):  # noqa: F811
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    login(page, live_server, "regulator")
    response = page.goto(f"{live_server.url}/pricing/rounds/{sample_round.pk}/")
    assert "unsafe-eval" not in response.headers["content-security-policy"]
    page.wait_for_selector("#chart-ratio[data-drawn]")
    page.wait_for_selector("#chart-top-amount[data-drawn]")
    flag = sample_round.flags.order_by("pk").first()
    page.goto(f"{live_server.url}/pricing/flags/{flag.pk}/")
    page.wait_for_selector("#chart-group[data-drawn]")
    assert not [p for p in problems if "Content Security Policy" in p or "eval" in p.lower()], problems
