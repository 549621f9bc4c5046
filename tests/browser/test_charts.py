"""Every chart in headless Chromium: drawn (SVG with the data's labels), nothing fetched from
anywhere but the live server on 127.0.0.1, no script error or CSP refusal; screenshots 20-24.

The live server holds the demo group plus 36 leads shared over ten weeks between stores in
six provinces, accepted, declined, lost and delivered, made through the API.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from leadshare.clock import utcnow
from leadshare.demo import DEMO_PASSWORD
from leadshare.extensions import db
from leadshare.leads.models import Lead
from leadshare.tenancy.models import Dealer

from ..demo_leads import CUSTOMERS, REFERRERS
from .live import demo_server
from .test_browser import By, driver, page_errors, screenshot, sign_in, wait  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.no_rollback]

VIN = "1M8GDM9AXKP042788"


def _token(client, email: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.json
    return {"Authorization": f"Bearer {answer.json['token']}"}


def _scene(app) -> None:
    """36 leads over ten weeks; the store offered each one gets a staff user to act."""
    with app.app_context():
        assert db.session.scalar(select(Dealer.id).where(Dealer.code == "SZ01"))
        db.session.remove()
    client = app.test_client()
    admin = _token(client, "group.admin@demo.leadshare.cn")
    staff: dict[int, dict[str, str]] = {}

    def acting(dealer_id: int) -> dict[str, str]:
        if dealer_id not in staff:
            email = f"staff.{dealer_id}@charts.example.cn"
            made = client.post(
                "/api/v1/users",
                json={
                    "email": email,
                    "password": DEMO_PASSWORD,
                    "role": "staff",
                    "dealer_id": dealer_id,
                },
                headers=admin,
            )
            assert made.status_code == 201, made.json
            staff[dealer_id] = _token(client, email)
        return staff[dealer_id]

    referrers = {code: _token(client, f"staff.{code}@demo.leadshare.cn") for code in REFERRERS}
    made = []
    for n in range(36):
        lat, lon = CUSTOMERS[n % len(CUSTOMERS)]
        body = {
            "customer": {"name": "王五", "phone": f"1390000{n:04d}"},
            "location": {"latitude": lat, "longitude": lon},
            "brand": "大众",
            "source": {"channel": "walk_in"},
            "consent_to_share": True,
        }
        posted = client.post(
            "/api/v1/leads", json=body, headers=referrers[REFERRERS[n % len(REFERRERS)]]
        )
        if posted.status_code != 201:  # not shareable from this store (its own area)
            continue
        lead = posted.json
        offer = lead.get("current_offer")
        if not offer:
            continue
        who = acting(offer["dealer"]["id"])
        path = f"/api/v1/leads/{lead['id']}"
        if n % 5 == 4:
            client.post(f"{path}/decline", json={"reason": "no_stock"}, headers=who)
            continue
        if n % 7 == 6:
            continue  # left pending
        assert client.post(f"{path}/claim", headers=who).status_code == 200
        steps = [{"status": "contacted"}, {"status": "visited"}]
        if n % 3 == 0:
            steps.append({"status": "ordered", "order_ref": f"SO-{n}"})
            steps.append({"status": "delivered", "vin": VIN})
        elif n % 4 == 1:
            steps.append({"status": "lost", "lost_reason": "price" if n % 2 else "unreachable"})
        for step in steps:
            done = client.post(f"{path}/progress", json=step, headers=who)
            assert done.status_code == 200, done.json
        made.append(lead["id"])
    assert len(made) >= 15
    with app.app_context():  # spread them over ten weeks, each accepted after a while
        now = utcnow()
        for n, lead in enumerate(db.session.scalars(select(Lead).order_by(Lead.id))):
            created = now - timedelta(days=(n * 2) % 70, hours=n % 9)
            if lead.accepted_at is not None:
                lead.accepted_at = created + timedelta(minutes=5 + (n * 37) % 900)
            lead.created_at = created
        db.session.commit()


@pytest.fixture(scope="module")
def chart_server(tmp_path_factory):
    with demo_server(
        tmp_path_factory.mktemp("charts"),
        prepare=_scene,
        PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",  # scrypt in production; speed here
    ) as url:
        yield url


DRAWN = """
const out = {};
document.querySelectorAll('[data-chart]').forEach(function (el) {
  const svg = el.querySelector('svg');
  out[el.dataset.chart] = {
    drawn: el.dataset.drawn === 'true',
    shapes: svg ? svg.querySelectorAll('path, rect').length : 0,
    text: svg ? svg.textContent : '',
    height: el.getBoundingClientRect().height
  };
});
return out;
"""
ZOOM_MAP = """
const el = document.querySelector('[data-chart="map"]');
const chart = window.echarts.getInstanceByDom(el);
chart.dispatchAction({type: 'graphRoam', seriesIndex: 0, zoom: arguments[0],
  originX: el.clientWidth / 2, originY: el.clientHeight / 2});
"""
RESOURCES = "return performance.getEntriesByType('resource').map(function (e) { return e.name; })"


def _all_drawn(browser) -> bool:
    found = browser.execute_script(DRAWN)
    return bool(found) and all(chart["drawn"] for chart in found.values())


def charts_on(browser, base: str, path: str) -> dict:
    """Open a page, wait until each chart is drawn; only the host was asked for anything."""
    browser.get(f"{base}{path}")
    wait(browser, _all_drawn)
    found = browser.execute_script(DRAWN)
    fetched = browser.execute_script(RESOURCES)
    assert fetched and all(url.startswith(base + "/") for url in fetched), fetched
    assert page_errors(browser) == []
    return found


def test_every_chart_is_drawn_with_its_data_and_nothing_leaves_the_host(chart_server, driver):  # noqa: F811
    base = chart_server
    sign_in(driver, base, "group.admin@demo.leadshare.cn")

    funnel = charts_on(driver, base, "/audit/funnel")
    assert set(funnel) >= {"funnel", "accept", "declines", "lost"}
    assert "已分享" in funnel["funnel"]["text"] and "%" in funnel["funnel"]["text"]
    assert "中位数" in funnel["accept"]["text"] and "90 分位" in funnel["accept"]["text"]
    assert "价格" in funnel["lost"]["text"] or "客户联系不上" in funnel["lost"]["text"]
    assert all(c["shapes"] > 5 and c["height"] >= 140 for c in funnel.values())
    screenshot(driver, "20-funnel-charts")

    trends = charts_on(driver, base, "/audit/trends?by=province")
    assert "分享线索数（上一期）" in trends["trend"]["text"] and trends["trend"]["shapes"] > 10
    assert trends["by"]["shapes"] > 5
    screenshot(driver, "21-trends")

    tiles = charts_on(driver, base, "/audit/map")
    text = tiles["map"]["text"]
    assert all(name in text for name in ("台湾", "香港", "澳门", "新疆", "上海"))
    assert tiles["map"]["shapes"] > 40  # 34 squares and the flows' arrows
    assert "SZ01" not in text  # the stores are unnamed points until zoomed in
    screenshot(driver, "22-map")
    driver.execute_script(ZOOM_MAP, 3)
    zoomed = wait(driver, lambda b: "SZ01" in b.execute_script(DRAWN)["map"]["text"])
    assert zoomed
    screenshot(driver, "25-map-zoomed")
    driver.execute_script(ZOOM_MAP, 1 / 3)
    wait(driver, lambda b: "SZ01" not in b.execute_script(DRAWN)["map"]["text"])

    league = charts_on(driver, base, "/audit/league")
    assert "SZ01" in league["balance"]["text"] or "GZ01" in league["balance"]["text"]
    screenshot(driver, "23-league")

    sign_in(driver, base, "manager.gz01@demo.leadshare.cn")
    mine = charts_on(driver, base, "/audit/league")
    assert "集团中位数" in mine["compare"]["text"] and "本店" in mine["compare"]["text"]
    assert driver.find_element(By.CSS_SELECTOR, "tr.median")
    screenshot(driver, "24-league-manager")
