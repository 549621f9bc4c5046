"""WeCom sign-in in headless Chromium at phone width, against the fake WeCom on 127.0.0.1.

The browser names itself as WeCom's in-app browser (`wxwork` in its user agent), opens a page,
goes through the fake authorize page and lands signed in; screenshots of the change-password
page and of the page a member nobody linked gets (`13-change-password`, `14-wecom-error`).
"""

from __future__ import annotations

import threading

import pytest
from flask_migrate import upgrade
from selenium.webdriver.common.by import By
from sqlalchemy import select
from werkzeug.serving import make_server

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.auth.models import User
from leadshare.demo import DEMO_GROUP_CODE, load_demo
from leadshare.extensions import db
from leadshare.settings import Settings
from leadshare.tenancy.models import Group
from leadshare.tenancy.service import console_operator
from leadshare.wecom import service as wecom
from tests.browser import test_browser as browser_story

from ..api.wecom_world import IN_WECOM
from ..fake_wecom import FakeWecom

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]

driver = browser_story.driver  # the same headless Chromium fixture as the staff story
CORP = "wwdemo0001"


@pytest.fixture(scope="module")
def fake():
    with FakeWecom() as running:
        running.corp(CORP, "demo-app-secret")
        yield running


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, fake):
    """The demo on 127.0.0.1 with its WeCom app on the fake, and 广州天河's staff linked."""
    database = tmp_path_factory.mktemp("wecom-browser") / "leadshare.db"
    server = make_server("127.0.0.1", 0, None, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "SECRET_KEY": "wecom-browser-test-secret",
            "GEOCODER": "none",
            "PUBLIC_BASE_URL": base,
            "WECOM_API_BASE": fake.base_url,
            "WECOM_AUTHORIZE_URL": fake.authorize_url,
            "WECOM_SECRETS": {DEMO_GROUP_CODE: "demo-app-secret"},
        }
    )
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        load_demo(Settings.from_config(app.config))
        group = db.session.scalar(select(Group).where(Group.code == DEMO_GROUP_CODE))
        staff = db.session.scalar(select(User).where(User.email == "staff.gz01@demo.leadshare.cn"))
        settings = Settings.from_config(app.config)
        app_fields = {"corp_id": CORP, "agent_id": 1000002}
        wecom.set_app(console_operator(), group.id, app_fields, settings)
        wecom.set_member(console_operator(), staff.id, {"userid": "gz01-staff"})
        db.session.remove()
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join(timeout=10)


def test_a_page_opened_in_wecom_signs_in_and_the_phone_pages_fit(driver, live_server, fake):
    own_agent = driver.execute_script("return navigator.userAgent")
    driver.execute_cdp_cmd("Network.setUserAgentOverride", {"userAgent": IN_WECOM["User-Agent"]})
    try:
        driver.delete_all_cookies()
        fake.visitor = {"userid": "gz01-staff"}
        driver.get(f"{live_server}/inbox")
        browser_story.wait(driver, lambda d: d.current_url.startswith(f"{live_server}/inbox"))
        assert "广州天河" in driver.find_element(By.CSS_SELECTOR, ".who").text
        assert fake.authorized == 1 and len(fake.calls_to("auth/getuserinfo")) == 1

        driver.get(f"{live_server}/account/password")
        assert driver.find_element(By.ID, "current_password").is_displayed()
        browser_story.screenshot(driver, "13-change-password")
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 1366

        browser_story.sign_out(driver)
        fake.visitor = {"userid": "nobody-linked"}
        driver.get(f"{live_server}/inbox")
        refusal = browser_story.wait(
            driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-wecom-refusal]")
        )
        assert refusal[0].get_attribute("data-wecom-refusal") == "unknown_member"
        assert "集团管理员" in refusal[0].text
        browser_story.screenshot(driver, "14-wecom-error")
    finally:
        driver.execute_cdp_cmd("Network.setUserAgentOverride", {"userAgent": own_agent})
