"""The staff story in headless Chromium against a live server, with screenshots of each page.

Runs when /usr/bin/chromium exists, or always when LEADSHARE_BROWSER_TESTS=1 (CI installs
Chromium and sets it, so a missing browser fails there instead of skipping). Screenshots at
phone (390x844) and desktop (1366x900) widths go to $LEADSHARE_SCREENSHOTS, else to a temp
folder, so a test run leaves the tree clean; `make screenshots` refreshes docs/screenshots/.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
if not CHROMIUM.exists() and os.environ.get("LEADSHARE_BROWSER_TESTS") != "1":
    pytest.skip(
        "Chromium is not installed (apt-get install chromium chromium-driver fonts-wqy-zenhei)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from leadshare.demo import DEMO_PASSWORD  # noqa: E402

from .live import demo_server  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]

SCREENSHOTS = Path(
    os.environ.get("LEADSHARE_SCREENSHOTS") or Path(tempfile.gettempdir()) / "leadshare-screenshots"
)
SIZES = {"phone": (390, 844), "desktop": (1366, 900)}
MAX_SHOT_HEIGHT = 2600
VIN = "1M8GDM9AXKP042788"
TYPO_VIN = "1M8GDM9A1KP042788"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The app on 127.0.0.1 with a scratch SQLite database holding the demo group."""
    with demo_server(tmp_path_factory.mktemp("browser")) as url:
        yield url


@pytest.fixture(scope="module")
def driver():
    os.environ.setdefault("SE_AVOID_STATS", "true")
    os.environ.setdefault("SE_OFFLINE", "true")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--window-size=1366,900",
        "--lang=zh-CN",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    chrome.implicitly_wait(0)
    yield chrome
    chrome.quit()


def tap(driver, element) -> None:
    """Click an element after scrolling it to the middle of the screen: at phone width the
    bottom tab bar is fixed over the lowest strip of the page, as it is for a person."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def wait(driver, condition, seconds: float = 10):
    return WebDriverWait(driver, seconds).until(condition)


def screenshot(driver, name: str) -> None:
    """The whole page (up to MAX_SHOT_HEIGHT) at phone and desktop widths."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for size, (width, height) in SIZES.items():
        metrics = {
            "width": width,
            "height": height,
            "deviceScaleFactor": 1,
            "mobile": size == "phone",
        }
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        full = driver.execute_script("return document.documentElement.scrollHeight")
        metrics["height"] = max(height, min(full, MAX_SHOT_HEIGHT))
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        driver.save_screenshot(str(SCREENSHOTS / f"{name}-{size}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def flash_text(driver) -> str:
    return wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, ".flash"))).text


NEW_PAGE_LOADED = (
    "return document.readyState === 'complete' && !document.documentElement.dataset.oldPage"
)


def submit(driver, button) -> None:
    """Click a form's button and wait for the next page's own marker to be loaded.

    The old page is marked first; the wait asks the browser until a fully loaded document
    without that mark answers. Questions asked mid-navigation may fail (ChromeDriver's
    "unhandled inspector error"): they are asked again, never taken as the answer.
    """
    driver.execute_script("document.documentElement.dataset.oldPage = '1'")
    tap(driver, button)
    WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(NEW_PAGE_LOADED)
    )


def sign_in(driver, base: str, email: str, shot: str | None = None) -> None:
    driver.delete_all_cookies()
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(DEMO_PASSWORD)
    if shot:
        screenshot(driver, shot)
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))


def sign_out(driver) -> None:
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button"))


def page_errors(driver) -> list[str]:
    """Script errors and blocked resources (CSP) logged by the browser, favicon aside."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon" not in entry["message"]
    ]


def test_staff_share_a_lead_and_another_store_claims_and_delivers_it(live_server, driver):
    base = live_server

    # Shenzhen Nanshan shares a customer who lives in Guangzhou Tianhe.
    sign_in(driver, base, "staff.sz01@demo.leadshare.cn", shot="01-login")
    assert driver.current_url == f"{base}/inbox"
    driver.get(f"{base}/leads/new")
    driver.find_element(By.ID, "name").send_keys("王女士")
    driver.find_element(By.ID, "phone").send_keys("139 2000 1234")
    driver.find_element(By.ID, "address").send_keys("广州市天河区珠江新城")
    preview = wait(
        driver,
        EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-geocode-output]"), "天河区"),
    )
    assert preview
    assert "区县级" in driver.find_element(By.CSS_SELECTOR, "[data-geocode-output]").text
    Select(driver.find_element(By.ID, "brand")).select_by_value("奥迪")
    driver.find_element(By.ID, "model").send_keys("A4L")
    Select(driver.find_element(By.ID, "timeframe")).select_by_value("1m")
    Select(driver.find_element(By.ID, "channel")).select_by_value("short_video")
    tap(driver, driver.find_element(By.ID, "consent"))
    screenshot(driver, "02-share-a-lead")
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form.card button[type=submit]"))
    assert "已分享：派给 广州天河区丰田·奥迪店" in flash_text(driver)
    lead_id = re.search(r"/leads/(ld_[0-9a-f]+)", driver.current_url).group(1)
    screenshot(driver, "03-lead-offered")
    sign_out(driver)

    # Guangzhou Tianhe finds it in its inbox, with the contact masked and a live countdown.
    sign_in(driver, base, "staff.gz01@demo.leadshare.cn")
    card = driver.find_element(By.XPATH, f"//article[.//form[@action='/leads/{lead_id}/claim']]")
    assert "139****1234" in card.text and "王*" in card.text
    countdown = card.find_element(By.CSS_SELECTOR, ".countdown")
    wait(driver, lambda _: countdown.text.startswith("剩余 1:59:"))
    screenshot(driver, "04-inbox")
    submit(driver, card.find_element(By.CSS_SELECTOR, "form[action$='/claim'] button"))
    assert "认领成功" in flash_text(driver)
    assert "+8613920001234" in driver.find_element(By.CSS_SELECTOR, ".customer").text

    # It records the visit, then the delivery; the VIN typo is caught before sending.
    Select(driver.find_element(By.ID, "status")).select_by_value("visited")
    assert not driver.find_element(By.ID, "vin").is_displayed()
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form.progress-form button"))
    # Skipping 已联系 asks first, naming the stages and the credit it makes.
    asked = driver.find_element(By.CSS_SELECTOR, "[data-will-happen]").text
    assert "将以下阶段记录为已达成：已联系, 已到店。" in asked
    assert "向 深圳南山区奥迪·宝马店 发放奖励：2026 集团转介绍奖励 100.00" in asked
    screenshot(driver, "05a-confirm-skipped-stages")
    submit(driver, driver.find_element(By.CSS_SELECTOR, "[data-confirm-page] button"))
    assert "已记录：客户已到店。" in flash_text(driver)
    Select(driver.find_element(By.ID, "status")).select_by_value("delivered")
    driver.find_element(By.ID, "order_ref").send_keys("SO-20241111-8")
    vin = driver.find_element(By.ID, "vin")
    vin.send_keys(TYPO_VIN)
    hint = driver.find_element(By.CSS_SELECTOR, ".vin-hint")
    assert "校验位（第 9 位）是 1，按其余字符应为 X" in hint.text
    screenshot(driver, "05-record-delivery")
    vin.clear()
    vin.send_keys(VIN)
    assert "车架号校验位正确" in driver.find_element(By.CSS_SELECTOR, ".vin-hint").text
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form.progress-form button"))
    submit(driver, driver.find_element(By.CSS_SELECTOR, "[data-confirm-page] button"))
    assert "已记录：已交车。" in flash_text(driver)
    timeline = driver.find_element(By.CSS_SELECTOR, ".timeline").text
    assert "已交车" in timeline and VIN in timeline and "为什么派给这家门店" in timeline
    screenshot(driver, "06-lead-delivered")

    # The same page in English.
    submit(driver, driver.find_element(By.CSS_SELECTOR, "button[name=lang][value=en]"))
    assert "Timeline" in driver.page_source and "Why it was routed here" in driver.page_source
    screenshot(driver, "07-lead-delivered-en")
    assert page_errors(driver) == []

    # Back in Shenzhen, the referrals page shows where the shared lead went.
    sign_in(driver, base, "staff.sz01@demo.leadshare.cn")
    driver.get(f"{base}/referrals")
    row = driver.find_element(By.XPATH, f"//tr[.//a[@href='/leads/{lead_id}']]").text
    assert "已交车" in row and "广州天河区丰田·奥迪店" in row
    screenshot(driver, "08-my-referrals")

    # The referral earned its program's credits: the referrals page shows the amount.
    earned = driver.find_element(
        By.XPATH, f"//tr[.//a[@href='/leads/{lead_id}']]/td[@data-label='奖励']"
    ).text
    assert earned == "950.00"  # accepted 50 + visited 100 + delivered (Audi) 800
    sign_out(driver)

    # The group admin sees the credits on the programs page and in the ledger.
    sign_in(driver, base, "group.admin@demo.leadshare.cn")
    driver.get(f"{base}/admin/programs")
    assert "2026 集团转介绍奖励" in driver.find_element(By.CSS_SELECTOR, "table.programs").text
    screenshot(driver, "09-programs")
    driver.get(f"{base}/admin/ledger")
    entries = driver.find_element(By.CSS_SELECTOR, "table.entries").text
    assert lead_id in entries and "800.00" in entries
    screenshot(driver, "10-ledger")
    assert page_errors(driver) == []
    sign_out(driver)

    # The OEM auditor (Volkswagen) reads the funnel and the flows of its brands.
    sign_in(driver, base, "auditor.vw@demo.leadshare.cn")
    driver.get(f"{base}/audit/funnel")
    assert (
        "各阶段线索数"
        in driver.find_element(By.CSS_SELECTOR, "table.funnel")
        .find_element(By.XPATH, "./ancestor::section")
        .text
    )
    assert driver.find_elements(By.CSS_SELECTOR, "svg.histogram rect.bin")
    screenshot(driver, "11-funnel")
    driver.get(f"{base}/audit/flows")
    assert driver.find_elements(By.CSS_SELECTOR, "table.heat td")
    screenshot(driver, "12-flows")
    assert page_errors(driver) == []
