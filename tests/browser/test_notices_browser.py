"""The group admins' notices page (issue 16 item 8) at phone width and on a desktop in headless
Chromium: unread notices marked, each with its link, one marked read in place."""

from __future__ import annotations

from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.notify.enums import NotificationEvent
from leadshare.notify.notices import tell_admins
from leadshare.tenancy.models import Group

from .live import demo_server
from .test_browser import driver, screenshot, sign_in  # noqa: F401
from .test_privacy_pages import _fits_a_phone

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]


def _notices(app) -> None:
    with app.app_context():
        group = db.session.scalars(select(Group).order_by(Group.id)).first()
        now = utcnow()
        budget = {"program": "2026 冬季转介绍奖励", "program_id": 1, "currency": "CNY"}
        tell_admins(
            group,
            NotificationEvent.BUDGET_LOW,
            {**budget, "remaining": "80.00", "alert_below": "160.00"},
            now - timedelta(hours=3),
        )
        tell_admins(
            group,
            NotificationEvent.CREDIT_SKIPPED,
            {**budget, "amount": "200.00", "remaining": "80.00", "lead_id": "L-20261208-0042"},
            now - timedelta(hours=1),
        )
        tell_admins(
            group,
            NotificationEvent.CONTACT_VIEWS,
            {
                "user": "王小明（深圳南山奥迪）",
                "user_id": 3,
                "views": 27,
                "threshold": 20,
                "day": "2026-12-08",
            },
            now,
        )
        db.session.commit()


@pytest.fixture(scope="module")
def notices_server(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("notices"), prepare=_notices) as url:
        yield url


def test_the_notices_page_reads_well_on_a_phone(driver, notices_server):  # noqa: F811
    sign_in(driver, notices_server, "group.admin@demo.leadshare.cn")
    driver.get(f"{notices_server}/admin/notices")
    cards = driver.find_elements(By.CSS_SELECTOR, "ul.notices li")
    assert len(cards) == 3 and all("unread" in c.get_attribute("class") for c in cards)
    _fits_a_phone(driver)
    screenshot(driver, "44-admin-notices")
    cards[0].find_element(By.CSS_SELECTOR, "form button").click()
    cards = driver.find_elements(By.CSS_SELECTOR, "ul.notices li")
    assert ["unread" in c.get_attribute("class") for c in cards] == [False, True, True]
    _fits_a_phone(driver)
    screenshot(driver, "45-admin-notice-read")
