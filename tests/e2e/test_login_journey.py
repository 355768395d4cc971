import pytest

from tests.e2e.conftest import login


@pytest.mark.django_db(transaction=True)
def test_regulator_logs_in_and_sees_chinese_navigation(page, live_server, regulator):
    login(page, live_server, "regulator")
    assert "挂网目录" in page.content()
    assert "登录" not in page.title()
