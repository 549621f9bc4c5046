"""Chart pages: the figures each chart draws (its `chart-data` JSON block), per role, in scope and
masked, beside their tables; no inline script. Reads the scene of tests/api/test_audit."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from leadshare.extensions import db
from leadshare.tenancy.models import OemBrand
from leadshare.vocabulary import Role, brand_key
from tests.api.test_audit import scene  # noqa: F401  (the module's shared scene)

from ..factories import Factory
from .pages import Browser

SCRIPT = re.compile(r"<script\b([^>]*)>", re.S)


def chart_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)
    assert found, "no chart data on the page"
    return json.loads(found.group(1))


def no_inline_script(html: str) -> None:
    for attributes in SCRIPT.findall(html):
        assert 'src="/assets/' in attributes or 'type="application/json"' in attributes, attributes


@pytest.fixture
def audi(app, scene):  # noqa: F811
    """An OEM auditor of the OEM selling 奥迪 and 大众 in the scene."""
    with app.app_context():
        oem_id = db.session.scalar(select(OemBrand.oem_id).where(OemBrand.key == brand_key("奥迪")))
    return Browser(app, Factory(app).user(Role.OEM_AUDITOR, oem_id=oem_id))


@pytest.fixture
def admin(app, scene):  # noqa: F811
    return Browser(app, scene.world.users["admin"])


@pytest.fixture
def manager(app, scene):  # noqa: F811
    return Browser(app, scene.world.users["tianhe2"])


def test_funnel_page_draws_the_funnel_speed_and_reasons_from_its_tables(audi):
    page = audi.get("/audit/funnel")
    assert page.status_code == 200
    html = page.text
    data = chart_data(html)
    funnel = data["funnel"]["series"][0]
    assert funnel["values"] == [8, 7, 4, 2, 2, 1, 1]
    assert funnel["labels"][2] == "4 · 57%"  # accepted over offered, the rate between stages
    assert data["funnel"]["categories"][0] == "已分享"
    accept = data["accept"]
    assert sum(accept["counts"]) == 4 and len(accept["categories"]) == 8
    assert [m["text"] for m in accept["marks"]] == ["中位数 25 分钟", "90 分位 51 分钟"]
    assert 0.5 < accept["marks"][0]["at"] < 1.5  # 25 min: inside the 15–30m band
    assert data["declines"]["series"][0]["values"] == [3, 1, 1]
    assert sorted(data["lost"]["categories"]) == ["价格", "客户联系不上"]
    assert sum(data["contact"]["counts"]) == 2  # the holders' contact timers (hours/sla.py)
    assert 'class="card sla-stores"' in html and "在营业时间内的中位数" in html
    assert 'data-chart="funnel"' in html and 'class="histogram"' in html
    assert "/assets/vendor/echarts/echarts.min.js?v=" in html and "/assets/charts.js?v=" in html
    assert "13800000001" not in html and "zsf88" not in html
    no_inline_script(html)
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]


def test_trends_page_for_auditor_and_admin_and_not_for_a_manager(audi, admin, manager):
    data = chart_data(audi.get("/audit/trends?period=month").text)
    trend = data["trend"]
    assert sum(trend["series"][0]["values"]) == 8 and "by" not in data
    assert trend["series"][3]["dashed"] and len(trend["categories"]) == 12
    by_brand = admin.get("/audit/trends?by=brand")
    assert by_brand.status_code == 200
    names = [s["name"] for s in chart_data(by_brand.text)["by"]["series"]]
    assert names == ["奥迪", "丰田"]
    assert '<td class="money">7</td>' in by_brand.text  # the table beside the chart
    no_inline_script(by_brand.text)
    assert manager.get("/audit/trends").status_code == 403


def test_trends_page_falls_back_from_a_range_too_long(audi):
    html = audi.get("/audit/trends?from=2000-01-01&to=2026-01-01").text
    assert "flash warning" in html and len(chart_data(html)["trend"]["categories"]) == 12


def test_map_page_is_a_tile_map_with_every_province_and_says_why(audi, admin, manager):
    page = audi.get("/audit/map")
    assert page.status_code == 200
    tiles = {t["name"]: t for t in chart_data(page.text)["map"]["tiles"]}
    assert len(tiles) == 34 and {"台湾", "香港", "澳门", "海南", "西藏"} <= set(tiles)
    assert tiles["广东"]["value"] > 0 and tiles["北京"]["value"] == 0
    assert "审图号" in page.text and "13800000001" not in page.text
    positions = [(t["x"], t["y"]) for t in tiles.values()]
    assert len(set(positions)) == len(positions)  # squares never overlap
    assert admin.get("/audit/map").status_code == 200
    assert manager.get("/audit/map").status_code == 403


def test_tile_map_draws_flows_between_provinces_as_arrows(app, scene):  # noqa: F811
    from leadshare.web.audit import tile_map

    def cell(a, b, leads):
        return {
            "from": {"code": a},
            "to": {"code": b},
            "leads": leads,
            "accepted": 1,
            "delivered": 0,
        }

    with app.test_request_context():
        made = tile_map([cell("440300", "310000", 5), cell("440000", "440100", 2)], [])
    assert made["flows"] == [{"from": "44", "to": "31", "leads": 5, "tip": made["flows"][0]["tip"]}]
    by_code = {t["code"]: t for t in made["tiles"]}
    assert by_code["31"]["value"] == 5 and by_code["44"]["value"] == 2
    assert "省内 2 条" in by_code["44"]["tip"]


def test_map_page_places_the_readers_stores_as_points_with_store_flows(audi, admin):
    spec = chart_data(admin.get("/audit/map").text)["map"]
    tiles = {t["code"] for t in spec["tiles"]}
    stores = {p["id"]: p for p in spec["stores"]}
    assert stores and all(p["province"] in tiles for p in stores.values())
    assert all(abs(p["dx"]) <= 18 and abs(p["dy"]) <= 18 for p in stores.values())  # inside
    assert spec["store_flows"] and all(
        f["from"] in stores and f["to"] in stores and f["from"] != f["to"]
        for f in spec["store_flows"]
    )
    busy = {p["id"] for p in stores.values() if p["busy"]}
    assert busy == {i for f in spec["store_flows"] for i in (f["from"], f["to"])}
    # The OEM auditor's map has only stores of its flows, never the group's idle ones.
    audited = chart_data(audi.get("/audit/map").text)["map"]
    assert audited["stores"] and all(p["busy"] for p in audited["stores"])
    assert {p["id"] for p in audited["stores"]} <= set(stores)


def test_league_page_for_the_group_admin_shows_rewards_and_balance_chart(admin):
    page = admin.get("/audit/league?sort=shared")
    assert page.status_code == 200
    html = page.text
    assert "奖励" in html and "GZ2 广州白云奥迪" in html
    balance = chart_data(html)["balance"]
    assert balance["categories"][0] == "SZ1 深圳南山奥迪"
    assert balance["series"][0]["values"][0] == 3 and balance["series"][1]["values"][0] == -1
    assert html.index("SZ1 深圳南山奥迪</td>") < html.index("GZ1 广州天河奥迪</td>")
    assert "/api/v1/audit/league?format=csv" in html
    no_inline_script(html)


def test_league_page_for_an_oem_auditor_has_no_rewards(audi):
    html = audi.get("/audit/league").text
    assert "奖励" not in html and "B1 B组深圳奥迪" in html and "深圳福田丰田" not in html


def test_league_page_for_a_manager_is_its_store_beside_the_median(manager):
    page = manager.get("/audit/league")
    assert page.status_code == 200
    html = page.text
    assert "GZ1 广州天河奥迪</td>" in html and "GZ2 广州白云奥迪</td>" not in html
    assert 'class="median"' in html
    compare = chart_data(html)["compare"]
    assert compare["series"][0]["values"][0] == 0.25  # its acceptance rate
    assert compare["series"][1]["values"][0] == pytest.approx(0.4166, abs=1e-4)


def test_league_page_is_closed_to_staff(app, scene):  # noqa: F811
    staff = Browser(app, scene.world.users["tianhe"])
    assert staff.get("/audit/league").status_code == 403
