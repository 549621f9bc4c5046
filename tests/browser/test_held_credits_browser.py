"""Held credits and budget banners in headless Chromium (issue 17 items 2 and 5): the group
admin's reward pages at phone width fit the screen, show money on hold and the budget banner."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadshare.extensions import db
from leadshare.rewards.models import RewardProgram

from .live import demo_server
from .test_browser import By, driver, page_errors, screenshot, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]

PAGES = ("/admin/programs", "/admin/payouts")


def _warn_early(app) -> None:
    """The demo program warns below more than it has left, so its banner shows."""
    with app.app_context():
        program = db.session.scalar(select(RewardProgram))
        program.alert_below_minor = 100_000_000
        db.session.commit()


@pytest.fixture(scope="module")
def held_server(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("held"), prepare=_warn_early) as url:
        yield url


def _fits_the_phone(driver) -> None:  # noqa: F811 - the browser, not the fixture
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    )
    width = driver.execute_script("return document.documentElement.scrollWidth")
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert width <= 390, f"{driver.current_url} is {width} px wide at phone width"


def test_reward_pages_show_money_on_hold_and_the_budget_banner_at_phone_width(
    held_server,
    driver,  # noqa: F811
):
    base = held_server
    sign_in(driver, base, "group.admin@demo.leadshare.cn")
    for n, path in enumerate(PAGES):
        driver.get(base + path)
        banner = driver.find_element(By.CSS_SELECTOR, ".budget-alert").text
        assert "已低于预警金额" in banner, path
        _fits_the_phone(driver)
        assert page_errors(driver) == [], path
        screenshot(driver, f"30-held-{n}")
    payouts = driver.find_element(By.TAG_NAME, "main").text
    assert "冻结中" in payouts
    program = driver.find_element(By.CSS_SELECTOR, ".budget-alert a").get_attribute("href")
    driver.get(program)
    assert "奖励冻结期" in driver.find_element(By.TAG_NAME, "main").text
    _fits_the_phone(driver)
    screenshot(driver, "30-held-program")
    driver.get(base + "/admin/statements")
    options = driver.find_elements(By.CSS_SELECTOR, "select[name=dealer_id] option")
    store = next(o.get_attribute("value") for o in options if o.text.startswith("SZ01"))
    driver.get(f"{base}/admin/statements?dealer_id={store}")
    statement = driver.find_element(By.TAG_NAME, "main").text
    assert "冻结中" in statement and "可提现时间" in statement and "950.00" in statement
    _fits_the_phone(driver)
    screenshot(driver, "30-held-statement")
