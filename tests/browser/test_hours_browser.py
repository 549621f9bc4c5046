"""The store hours story in a real browser at phone width: the manager sets the store's hours and
a closure on the settings page; the held-leads page shows when contact is due and who follows up.
Screenshots like the other browser stories (`hours-*`)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from .test_browser import (
    CHROMIUM,  # noqa: F401 - the module skips without Chromium
    By,
    driver,  # noqa: F401 - fixture
    flash_text,
    live_server,  # noqa: F401 - fixture
    page_errors,
    screenshot,
    sign_in,
    submit,
)

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]


def test_a_manager_sets_hours_and_a_closure_and_staff_see_the_contact_due(
    live_server,  # noqa: F811
    driver,  # noqa: F811
):
    base = live_server
    sign_in(driver, base, "manager.gz01@demo.leadshare.cn")
    driver.get(f"{base}/store/settings")
    for day in ("mon", "tue", "wed", "thu", "fri"):
        field = driver.find_element(By.ID, day)
        field.clear()
        field.send_keys("09:00-12:00, 13:30-21:00")
    driver.find_element(By.ID, "holidays").send_keys("10:00-18:00")
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form.hours-form button[type=submit]"))
    assert "营业时间已保存" in flash_text(driver)
    assert driver.find_element(By.ID, "mon").get_attribute("value") == "09:00-12:00, 13:30-21:00"
    starts = date.today() + timedelta(days=20)
    driver.find_element(By.ID, "starts_on").send_keys(starts.strftime("%m%d%Y"))
    driver.find_element(By.ID, "ends_on").send_keys((starts + timedelta(days=1)).strftime("%m%d%Y"))
    driver.find_element(By.ID, "reason").send_keys("盘点")
    submit(driver, driver.find_element(By.XPATH, "//form[@action='/store/closures']//button"))
    assert "已添加停业日期" in flash_text(driver)
    assert "盘点" in driver.find_element(By.CSS_SELECTOR, ".closures").text
    screenshot(driver, "hours-settings")

    sign_in(driver, base, "staff.gz01@demo.leadshare.cn")
    driver.get(f"{base}/board")
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form[action$='/claim'] button"))
    driver.get(f"{base}/held")
    due = driver.find_element(By.CSS_SELECTOR, ".sla")
    assert "前联系客户" in due.text and "顾问" in due.text
    screenshot(driver, "hours-held")
    assert page_errors(driver) == []


def test_the_group_admin_types_in_next_years_holidays_and_reads_the_change_log(
    live_server,  # noqa: F811
    driver,  # noqa: F811
):
    base = live_server
    sign_in(driver, base, "group.admin@demo.leadshare.cn")
    driver.get(f"{base}/admin/hours?year=2026")
    calendar = driver.find_element(By.CSS_SELECTOR, ".calendar").text
    assert "春节" in calendar and "来源：国家公布的法定节假日（内置）" in calendar
    screenshot(driver, "hours-calendar-2026")
    driver.get(f"{base}/admin/hours?year=2027")
    assert "尚无 2027 年" in driver.find_element(By.CSS_SELECTOR, ".calendar").text
    driver.find_element(By.ID, "days").send_keys(
        "2027年1月1日 放假 元旦\n2027-02-06 至 2027-02-12 放假 春节\n2027-02-20 上班"
    )
    submit(
        driver,
        driver.find_element(By.XPATH, "//form[contains(@action, '/admin/calendar')]//button"),
    )
    assert "2027 年日历已保存" in flash_text(driver)
    calendar = driver.find_element(By.CSS_SELECTOR, ".calendar").text
    assert "调休上班" in calendar and "来源：本集团录入的日期" in calendar
    assert "2027-02-06 至 2027-02-12 放假 春节" in driver.find_element(By.ID, "days").text
    screenshot(driver, "hours-calendar-2027")

    for day in ("sat", "sun"):
        field = driver.find_element(By.ID, day)
        field.clear()
        field.send_keys("10:00-18:00")
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form.hours-form button[type=submit]"))
    driver.get(f"{base}/privacy/changes")
    first = driver.find_element(By.CSS_SELECTOR, "article.change")
    assert "集团设置 修改" in first.text and "周六、周日 10:00-18:00" in first.text
    assert "节假日日历 新建" in driver.find_element(By.TAG_NAME, "main").text
    screenshot(driver, "privacy-changes")
    wide = driver.execute_script("return document.documentElement.scrollWidth")
    assert wide <= 1366
    assert page_errors(driver) == []
