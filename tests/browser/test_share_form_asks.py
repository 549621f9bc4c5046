"""At phone width: the share form's brand select and the "which city?" question (issue 15).

Screenshots (phone and desktop) go where tests/browser/test_browser.py puts them.
"""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select

from . import test_browser as story
from .test_browser import flash_text, page_errors, screenshot, sign_in, submit, tap, wait

live_server, driver = story.live_server, story.driver  # the staff story's fixtures
pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}


def test_share_form_offers_brands_and_asks_which_city(live_server, driver):
    base = live_server
    sign_in(driver, base, "staff.sz01@demo.leadshare.cn")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    driver.get(f"{base}/leads/new")
    brand = Select(driver.find_element(By.ID, "brand"))
    names = [o.get_attribute("value") for o in brand.options]
    assert names[0] == "" and {"大众", "奥迪", "宝马", "丰田"} <= set(names[1:])
    assert brand.first_selected_option.text == "选择品牌"

    driver.find_element(By.ID, "name").send_keys("赵先生")
    driver.find_element(By.ID, "phone").send_keys("139 2000 5678")
    address = driver.find_element(By.ID, "address")
    address.send_keys("朝阳区建国路88号")
    output = (By.CSS_SELECTOR, "[data-geocode-output]")
    wait(driver, EC.text_to_be_present_in_element(output, "哪个城市"))
    choices = driver.find_elements(By.CSS_SELECTOR, "[data-geocode-output] button.choice")
    assert [c.text for c in choices] == ["北京市 · 朝阳区", "长春市 · 朝阳区"]
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390  # nothing sticks out at phone width
    brand.select_by_value("大众")
    Select(driver.find_element(By.ID, "channel")).select_by_value("short_video")
    tap(driver, driver.find_element(By.ID, "consent"))
    screenshot(driver, "15-share-which-city")

    choices[0].click()  # one tap: the city is written in front of the address
    assert address.get_attribute("value") == "北京市朝阳区建国路88号"
    wait(driver, EC.text_to_be_present_in_element(output, "朝阳区"))
    assert "哪个城市" not in driver.find_element(*output).text
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form.card button[type=submit]"))
    assert "已分享" in flash_text(driver)

    # Shared without answering: the lead waits and its page asks the same question.
    driver.get(f"{base}/leads/new")
    driver.find_element(By.ID, "name").send_keys("钱女士")
    driver.find_element(By.ID, "phone").send_keys("139 2000 5679")
    driver.find_element(By.ID, "address").send_keys("朝阳区建国路99号")
    Select(driver.find_element(By.ID, "brand")).select_by_value("奥迪")
    Select(driver.find_element(By.ID, "channel")).select_by_value("walk_in")
    tap(driver, driver.find_element(By.ID, "consent"))
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form.card button[type=submit]"))
    assert "请在下方点选客户所在城市" in flash_text(driver)
    question = driver.find_element(By.CSS_SELECTOR, "[data-which-city]")
    taps = question.find_elements(By.CSS_SELECTOR, "button.choice")
    assert [t.text.split("\n")[0] for t in taps] == ["北京市 · 朝阳区", "长春市 · 朝阳区 吉林省"]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    screenshot(driver, "16-lead-which-city")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    submit(driver, driver.find_element(By.CSS_SELECTOR, "[data-which-city] button.choice"))
    assert "位置已保存" in flash_text(driver)
    assert re.search(r"/leads/ld_[0-9a-f]+$", driver.current_url)
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-which-city]")
    assert page_errors(driver) == []
