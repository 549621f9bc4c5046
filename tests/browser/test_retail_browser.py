"""The OEM's retail report at phone width (issue 17, item 3): the auditor uploads the
manufacturer's CSV, reads each row's outcome, and the demo's delivery shows as confirmed."""

from __future__ import annotations

from datetime import date

import pytest

from .live import demo_server
from .test_browser import By, driver, page_errors, screenshot, sign_in, submit  # noqa: F401
from .test_held_credits_browser import _fits_the_phone

pytestmark = pytest.mark.browser

DELIVERED_VIN = "LSVAU2A31N2123456"  # the demo's delivered Audi, held by GZ01


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("retail")) as url:
        yield url


def test_the_auditor_uploads_a_retail_report_and_the_delivery_is_confirmed(
    server,
    driver,  # noqa: F811
    tmp_path,
):
    today = date.today().isoformat()
    report = tmp_path / "一汽-大众零售日报.csv"
    report.write_text(
        "车架号,经销商代码,零售日期\n"
        f"{DELIVERED_VIN},FV-GZ01,{today}\n"
        f"LSVAU2A31N212345X,FV-GZ01,{today}\n"  # a bad check digit
        f"LFV2A21K8A3000001,FV-ZZ99,{today}\n"  # a code no store has
        f"{DELIVERED_VIN},FV-GZ01,{today}\n",
        encoding="utf-8",
    )
    sign_in(driver, server, "auditor.vw@demo.leadshare.cn")
    driver.get(server + "/retail/reports")
    _fits_the_phone(driver)
    screenshot(driver, "50-retail-upload")
    driver.find_element(By.ID, "file").send_keys(str(report))
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form.retail-upload button.primary"))

    assert "/retail/reports/" in driver.current_url
    outcomes = [
        row.get_attribute("class")
        for row in driver.find_elements(By.CSS_SELECTOR, "table.retail-rows tbody tr")
    ]
    assert outcomes == ["outcome-bad", "outcome-bad", "outcome-duplicate"], outcomes
    reasons = driver.find_element(By.CSS_SELECTOR, "table.retail-rows tbody").text
    assert "车架号无效" in reasons and "经销商代码" in reasons, reasons
    counts = driver.find_element(By.CSS_SELECTOR, ".retail-counts").text
    assert "1" in counts
    _fits_the_phone(driver)
    screenshot(driver, "51-retail-report")

    driver.get(server + "/retail/audit")
    cells = {
        row.find_element(By.CSS_SELECTOR, "td").text: [
            td.text for td in row.find_elements(By.CSS_SELECTOR, "td.money")
        ]
        for row in driver.find_elements(By.CSS_SELECTOR, "table.retail-audit tbody tr")
    }
    guangzhou = next(figures for store, figures in cells.items() if store.startswith("GZ01 "))
    assert guangzhou == ["1", "1", "0", "0"], cells  # delivered, confirmed, unconfirmed, flagged
    _fits_the_phone(driver)
    assert page_errors(driver) == []
    screenshot(driver, "52-retail-audit")
