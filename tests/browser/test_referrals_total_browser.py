"""The referrals page at phone width: the store's earnings total above its shared leads
(issue 15, item 8)."""

from __future__ import annotations

import pytest

from .live import demo_server
from .test_browser import By, driver, page_errors, screenshot, sign_in  # noqa: F401
from .test_held_credits_browser import _fits_the_phone

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("referrals")) as url:
        yield url


def test_staff_read_their_stores_earnings_total_on_the_phone(server, driver):  # noqa: F811
    sign_in(driver, server, "staff.sz01@demo.leadshare.cn")
    driver.get(server + "/referrals")
    total = driver.find_element(By.CSS_SELECTOR, ".earnings-total").text
    assert total.startswith("本店转介绍共获奖励") and "CNY" in total
    _fits_the_phone(driver)
    assert page_errors(driver) == []
    screenshot(driver, "33-referrals-total")
