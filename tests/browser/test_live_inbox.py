"""The live inbox in headless Chromium at phone width: a lead another store shares appears
without a reload, highlighted, with the navigation's count; polling stops while hidden; the
bottom tab bar and its "more" sheet. Screenshots 30-32 (see test_browser.py for where)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from leadshare.demo import DEMO_PASSWORD

from .live import demo_server
from .test_browser import driver, page_errors, screenshot, sign_in, wait  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The demo server polling every second, and the app to share leads through its API."""
    apps = []
    with demo_server(
        tmp_path_factory.mktemp("live"), prepare=apps.append, INBOX_POLL_SECONDS=1
    ) as url:
        yield url, apps[0]


def share_as_shenzhen(app) -> str:
    """Shenzhen Nanshan shares a customer in Guangzhou Tianhe (offered to the Tianhe store)."""
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/token",
        json={"email": "staff.sz01@demo.leadshare.cn", "password": DEMO_PASSWORD},
    ).json["token"]
    response = client.post(
        "/api/v1/leads",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "customer": {"name": "李先生", "phone": "139 2000 5678"},
            "location": {"address": "广州市天河区珠江新城"},
            "brand": "奥迪",
            "model": "Q5L",
            "timeframe": "1m",
            "source": {"channel": "short_video"},
            "consent_to_share": True,
        },
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_a_new_offer_appears_without_a_reload_at_phone_width(live, driver):  # noqa: F811
    base, app = live
    sign_in(driver, base, "staff.gz01@demo.leadshare.cn")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    driver.get(f"{base}/inbox")
    driver.execute_script("document.documentElement.dataset.sameDocument = '1'")
    tabbar = driver.find_element(By.CSS_SELECTOR, "nav.tabs")
    assert tabbar.location["y"] > 844 - 100  # at the bottom of the screen
    shown = [e for e in tabbar.find_elements(By.CSS_SELECTOR, "a, .more-tab") if e.is_displayed()]
    assert len(shown) <= 5
    assert "广州天河区丰田·奥迪店" in driver.find_element(By.CSS_SELECTOR, ".topbar .who").text

    lead_id = share_as_shenzhen(app)
    card = wait(
        driver,
        EC.presence_of_element_located((By.CSS_SELECTOR, f"[data-offer-id='{lead_id}']")),
        seconds=15,
    )
    assert "fresh" in card.get_attribute("class")
    assert driver.execute_script("return document.documentElement.dataset.sameDocument") == "1"
    count = driver.find_element(By.CSS_SELECTOR, "nav.tabs [data-count='offers']")
    assert count.is_displayed() and int(count.text) >= 1
    wait(driver, lambda _: "剩余" in card.find_element(By.CSS_SELECTOR, ".countdown").text)
    screenshot(driver, "30-inbox-live")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)

    # Hidden (another app in front): no more polling; shown again: it polls at once.
    driver.execute_cdp_cmd("Emulation.setFocusEmulationEnabled", {"enabled": False})
    driver.execute_script(
        "Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});"
        "document.dispatchEvent(new Event('visibilitychange'));"
    )
    assert driver.execute_script("return window.leadshareLive.running()") is False
    driver.execute_script(
        "Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});"
        "document.dispatchEvent(new Event('visibilitychange'));"
    )
    assert driver.execute_script("return window.leadshareLive.running()") is True

    # The claim form the poll brought in works like any other.
    card.find_element(By.CSS_SELECTOR, "form[action$='/claim'] button").click()
    wait(driver, EC.url_contains(f"/leads/{lead_id}"))
    assert "认领成功" in driver.find_element(By.CSS_SELECTOR, ".flash").text
    assert page_errors(driver) == []


def test_more_sheet_holds_the_rest_and_marks_the_current_page(live, driver):  # noqa: F811
    base, _app = live
    sign_in(driver, base, "manager.gz01@demo.leadshare.cn")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    driver.get(f"{base}/store/settings")
    more = driver.find_element(By.CSS_SELECTOR, "nav.tabs .more-tab")
    assert more.get_attribute("aria-current") == "page"
    current = driver.find_element(By.CSS_SELECTOR, "nav.tabs .sheet a[aria-current='page']")
    assert not current.is_displayed()
    more.click()
    assert current.is_displayed() and current.get_attribute("href").endswith("/store/settings")
    screenshot(driver, "31-more-sheet")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    driver.get(f"{base}/store/statement")
    current = driver.find_element(By.CSS_SELECTOR, "nav.tabs a[aria-current='page']")
    assert current.get_attribute("href").endswith("/admin/statements")


def test_search_and_the_auditors_list_fit_a_phone(live, driver):  # noqa: F811
    base, _app = live
    sign_in(driver, base, "staff.sz01@demo.leadshare.cn")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    driver.get(f"{base}/referrals?q=139+2000+5678")
    assert "李先生" in driver.find_element(By.CSS_SELECTOR, "main").text
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390
    screenshot(driver, "32-search")
    sign_in(driver, base, "auditor.vw@demo.leadshare.cn")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    driver.get(f"{base}/leads")
    assert driver.find_element(By.CSS_SELECTOR, "select[name=group_id]").is_displayed()
    assert driver.find_element(By.CSS_SELECTOR, "a[download]").is_displayed()
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 390
    screenshot(driver, "33-auditor-leads")


def test_admin_tools_fit_a_phone(live, driver, tmp_path):  # noqa: F811
    base, _app = live
    sign_in(driver, base, "group.admin@demo.leadshare.cn")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    driver.get(f"{base}/admin/users")
    driver.find_element(By.CSS_SELECTOR, "table a[href^='/admin/users/']").click()
    wait(driver, EC.presence_of_element_located((By.ID, "wecom_userid")))
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 390
    screenshot(driver, "34-edit-user")
    csv_file = tmp_path / "stores.csv"
    csv_file.write_text(
        "code,name,brands,latitude,longitude,service_radius_km\n"
        "GZ90,广州新开奥迪店,奥迪,23.1,113.3,30\nBAD,,奥迪,91,113.3,30\n",
        encoding="utf-8",
    )
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    driver.get(f"{base}/admin/dealers/import")
    driver.find_element(By.ID, "file").send_keys(str(csv_file))
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    report = wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, ".import-report")))
    assert "广州新开奥迪店" in report.text
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 390
    screenshot(driver, "35-import-stores")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    driver.get(f"{base}/admin/webhooks?status=pending")
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 390
    screenshot(driver, "36-webhooks")
    assert page_errors(driver) == []


def test_platform_pages_fit_a_phone(live, driver):  # noqa: F811
    base, _app = live
    sign_in(driver, base, "admin@demo.leadshare.cn")
    for path, shot in (("/platform/groups", "37-platform-groups"), ("/platform/oems", "38-oems")):
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
        driver.get(f"{base}{path}")
        assert "示范汽车集团" in driver.page_source or "大众" in driver.page_source
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 390
        screenshot(driver, shot)
    assert page_errors(driver) == []
