"""Who follows a lead up, in a real browser at phone width (issue 14 item 8): a consultant
claims a lead, sees an appointment that has come on the inbox (the in-app line: the demo store
has no webhook), records the follow-up with the next appointment on the lead page; the manager
hands the lead to another member and reads who follows up on "Our leads"; the group admin sees
the consultant but not the notes. Screenshots 45-49."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from selenium.webdriver.support.select import Select

from leadshare.auth.models import User
from leadshare.clock import format_local, utcnow
from leadshare.extensions import db
from leadshare.hours import followup
from leadshare.leads.models import Lead

from .live import demo_server
from .test_browser import (
    CHROMIUM,  # noqa: F401 - the module skips without Chromium
    By,
    driver,  # noqa: F401 - fixture
    flash_text,
    page_errors,
    screenshot,
    sign_in,
    submit,
    tap,
)

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]
STAFF = "staff.gz01@demo.leadshare.cn"
MANAGER = "manager.gz01@demo.leadshare.cn"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The demo on a live server, and its app (to write a note "an hour ago")."""
    apps = []
    with demo_server(tmp_path_factory.mktemp("follow-up"), prepare=apps.append) as url:
        yield url, apps[0]


def note_an_hour_ago(app, lead_id: str) -> None:
    """The consultant's note of an hour ago, whose appointment came five minutes ago."""
    now = utcnow()
    with app.app_context():
        writer = db.session.scalar(db.select(User).where(User.email == STAFF))
        data = {"text": "客户说下午有空，电话回访", "next_at": now - timedelta(minutes=5)}
        followup.add_note(writer, lead_id, data, now=now - timedelta(hours=1))
        db.session.remove()


def test_a_consultant_follows_up_and_the_manager_sees_who_acts(served, driver):  # noqa: F811
    base, app = served
    sign_in(driver, base, STAFF)
    driver.get(f"{base}/board")
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form[action$='/claim'] button"))
    lead_id = re.search(r"/leads/(ld_[0-9a-f]+)", driver.current_url).group(1)
    note_an_hour_ago(app, lead_id)

    driver.get(f"{base}/inbox")
    line = driver.find_element(By.CSS_SELECTOR, "[data-due-appointments]")
    assert "跟进预约已到时间" in line.text and "电话回访" not in line.text
    screenshot(driver, "45-appointment-due-inbox")

    submit(driver, line.find_element(By.CSS_SELECTOR, "a"))
    assert "预约已到时间" in driver.find_element(By.CSS_SELECTOR, "[data-follow-up]").text
    tap(driver, driver.find_element(By.CSS_SELECTOR, ".note-form summary"))
    driver.find_element(By.ID, "note-text").send_keys("已电话回访，客户周六上午来店试驾")
    ahead = utcnow() + timedelta(days=3)
    with app.app_context():
        zone = db.session.scalar(db.select(Lead).where(Lead.public_id == lead_id)).group.timezone
    box = format_local(ahead, zone, "%Y-%m-%dT%H:%M")
    driver.execute_script(
        "arguments[0].value = arguments[1];", driver.find_element(By.ID, "note-next_at"), box
    )
    submit(driver, driver.find_element(By.CSS_SELECTOR, ".note-form button[type=submit]"))
    assert "跟进记录已保存" in flash_text(driver)
    panel = driver.find_element(By.CSS_SELECTOR, "[data-follow-up]").text
    assert "周六上午来店试驾" in panel and f"下次预约：{box.replace('T', ' ')}" in panel
    screenshot(driver, "46-follow-up-recorded")
    driver.get(f"{base}/inbox")
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-due-appointments]")

    sign_in(driver, base, MANAGER)
    driver.get(f"{base}/leads/{lead_id}")
    picker = Select(driver.find_element(By.ID, "consultant-user_id"))
    manager_option = next(o for o in picker.options if "manager" in o.text or "经理" in o.text)
    picker.select_by_value(manager_option.get_attribute("value"))
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form.hand-over button"))
    assert "已转交" in flash_text(driver)
    screenshot(driver, "47-handed-over")

    driver.get(f"{base}/held")
    summary = driver.find_element(By.CSS_SELECTOR, "[data-consultants]")
    assert "谁在跟进" in summary.text and "在跟线索" in summary.text
    screenshot(driver, "48-who-follows-up")

    sign_in(driver, base, "group.admin@demo.leadshare.cn")
    driver.get(f"{base}/leads/{lead_id}")
    panel = driver.find_element(By.CSS_SELECTOR, "[data-follow-up]").text
    assert "顾问" in panel and "跟进记录属于客户联系信息" in panel and "试驾" not in panel
    screenshot(driver, "49-notes-masked-for-the-group-admin")
    assert page_errors(driver) == []
