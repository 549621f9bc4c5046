"""The return story in headless Chromium (issue 17): the holder returns a lead from its phone,
the referrer contests, the group admin decides on the disputes page; screenshots of each."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from . import test_browser as story  # skips this module too where Chromium is missing
from .test_browser import flash_text, page_errors, screenshot, sign_in, sign_out, submit, tap

live_server, driver = story.live_server, story.driver  # the stories' server and browser

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]


def test_a_returned_lead_is_contested_and_decided(live_server, driver):
    base = live_server
    sign_in(driver, base, "staff.sz01@demo.leadshare.cn")
    driver.get(f"{base}/leads/new")
    driver.find_element(By.ID, "name").send_keys("李先生")
    driver.find_element(By.ID, "phone").send_keys("139 2000 5678")
    driver.find_element(By.ID, "address").send_keys("广州市天河区珠江新城")
    driver.find_element(By.ID, "brand").send_keys("奥迪")
    Select(driver.find_element(By.ID, "channel")).select_by_value("short_video")
    driver.find_element(By.ID, "consent").click()
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form.card button[type=submit]"))
    lead_id = re.search(r"/leads/(ld_[0-9a-f]+)", driver.current_url).group(1)
    sign_out(driver)

    # The holder claims it, then returns it: the phone number does not work.
    sign_in(driver, base, "staff.gz01@demo.leadshare.cn")
    driver.get(f"{base}/leads/{lead_id}")
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form[action$='/claim'] button"))
    tap(driver, driver.find_element(By.CSS_SELECTOR, "details.return summary"))
    Select(driver.find_element(By.ID, "return-reason")).select_by_value("invalid_contact")
    driver.find_element(By.ID, "return-note").send_keys("电话是空号")
    screenshot(driver, "30-return-form")
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form[action$='/return'] button"))
    assert "已退回" in flash_text(driver)
    sign_out(driver)

    # The referrer contests it.
    sign_in(driver, base, "staff.sz01@demo.leadshare.cn")
    driver.get(f"{base}/leads/{lead_id}")
    assert "电话是空号" in driver.find_element(By.CSS_SELECTOR, "[data-return]").text
    tap(driver, driver.find_element(By.CSS_SELECTOR, "details.contest summary"))
    driver.find_element(By.ID, "contest-note").send_keys("昨天还打通过")
    screenshot(driver, "31-return-answer")
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form[action$='/return/contest'] button"))
    assert "已申诉" in flash_text(driver)
    sign_out(driver)

    # The group admin decides on the disputes page: the lead stays with its holder.
    sign_in(driver, base, "group.admin@demo.leadshare.cn")
    driver.get(f"{base}/disputes")
    card = driver.find_element(By.CSS_SELECTOR, f"[data-dispute='{lead_id}']")
    assert "昨天还打通过" in card.text
    Select(card.find_element(By.CSS_SELECTOR, "select[name=outcome]")).select_by_value("kept")
    screenshot(driver, "32-disputes")
    submit(driver, card.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert "已裁定" in flash_text(driver)
    assert not driver.find_elements(By.CSS_SELECTOR, f"[data-dispute='{lead_id}']")
    assert page_errors(driver) == []
