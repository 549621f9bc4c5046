"""The privacy pages at phone width in headless Chromium: the consent notice a customer reads,
the share form that offers it, and the admins' alert and access pages (issue 20)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from .test_browser import driver, live_server, screenshot, sign_in  # noqa: F401

PHONE_WIDTH = 390


def _fits_a_phone(chrome) -> None:
    chrome.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE_WIDTH, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    )
    wide = chrome.execute_script("return document.documentElement.scrollWidth")
    chrome.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert wide <= PHONE_WIDTH, f"the page is {wide} px wide on a {PHONE_WIDTH} px phone"


@pytest.mark.browser
def test_the_notice_and_the_share_form_read_well_on_a_phone(driver, live_server):  # noqa: F811
    sign_in(driver, live_server, "staff.sz01@demo.leadshare.cn")
    driver.get(f"{live_server}/leads/new")
    link = driver.find_element(By.CSS_SELECTOR, ".consent-notice a")
    qr = driver.find_element(By.CSS_SELECTOR, ".consent-notice img.qr")
    assert driver.execute_script("return arguments[0].naturalWidth", qr) > 0  # the QR loaded
    _fits_a_phone(driver)
    screenshot(driver, "privacy-share-form")
    driver.delete_all_cookies()  # the customer has no account
    driver.get(link.get_attribute("href"))
    assert "个人信息共享告知" in driver.find_element(By.TAG_NAME, "h1").text
    _fits_a_phone(driver)
    screenshot(driver, "privacy-notice")


@pytest.mark.browser
def test_the_admins_privacy_pages_read_well_on_a_phone(driver, live_server):  # noqa: F811
    sign_in(driver, live_server, "group.admin@demo.leadshare.cn")
    driver.get(f"{live_server}/privacy/alerts")
    assert driver.find_element(By.TAG_NAME, "h1").text
    _fits_a_phone(driver)
    screenshot(driver, "privacy-alerts")
    driver.get(f"{live_server}/privacy/access?user_id=1")
    _fits_a_phone(driver)
    screenshot(driver, "privacy-access")
