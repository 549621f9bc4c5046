"""What a receiving store needs to decide (issue 15 item 6): before claiming, the offered store
sees district, brand, model, budget, timeframe, channel and the referrer's note without phone
numbers or WeChat IDs; a district-precision distance reads 同区 or 约 N 公里, never 0.0 公里."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from leadshare.extensions import db
from leadshare.tenancy.models import Dealer
from leadshare.vocabulary import Role

from ..web.pages import Browser
from .lead_world import build_world, lead_payload

NOTE = "客户周末有空，电话 139-0000-1234，微信 zhangsan_88，想试驾 A6L"
REDACTED = "客户周末有空，电话 […]，微信 […]，想试驾 A6L"


@pytest.fixture
def world(make, auth):
    world = build_world(make, auth)
    world.headers["auditor"] = auth(make.user(Role.OEM_AUDITOR, oem=make.oem(brands=["奥迪"])))
    return world


def share(client, world, address: str) -> dict:
    payload = lead_payload(
        location={"address": address},
        customer={"name": "张三", "phone": "138 1234 5678", "wechat_id": "zs_wx_2026"},
        notes=NOTE + "，备用 zs_wx_2026",
    )
    response = client.post("/api/v1/leads", json=payload, headers=world.headers["referrer"])
    assert response.status_code == 201, response.json
    return response.json


def test_the_offered_store_reads_the_facts_and_a_note_without_contacts(client, world):
    lead = share(client, world, "广州市天河区")
    holder = lead["current_offer"]["dealer"]["code"]
    assert holder == "GZ1"
    shown = client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers["tianhe"]).json
    assert shown["customer"]["masked"] and shown["customer"]["phone"] == "138****5678"
    assert (shown["location"]["city"], shown["location"]["district"]) == ("广州市", "天河区")
    assert (shown["brand"], shown["model"], shown["budget"], shown["timeframe"]) == (
        "奥迪",
        "A6L",
        "40-50万",
        "1m",
    )
    assert shown["source"]["channel"] == "livestream"
    assert shown["notes"] == REDACTED + "，备用 […]"
    mine = client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers["referrer"]).json
    assert mine["notes"].startswith(NOTE)  # the referrer reads its own note as written
    audited = client.get(f"/api/v1/leads/{lead['id']}", headers=world.headers["auditor"]).json
    assert audited["notes"] is None


def test_the_inbox_shows_what_to_decide_on_and_same_district(app, client, world):
    lead = share(client, world, "广州市天河区")
    with app.app_context():
        db.session.execute(
            update(Dealer).where(Dealer.id == world.tianhe.id).values(adcode="440106")
        )
        db.session.commit()
    page = Browser(app, world.users["tianhe"], lang="zh").get("/inbox").text
    card = page[page.index("data-offer") :]
    for fact in ("天河区", "奥迪 A6L", "40-50万", "1 个月内", "直播", REDACTED):
        assert fact in card, fact
    assert "1234" not in card and "zhangsan_88" not in card and "zs_wx_2026" not in card
    assert "与本店同区" in card and "0.0" not in card
    detail = Browser(app, world.users["tianhe"], lang="zh").get(f"/leads/{lead['id']}").text
    assert "与本店同区" in detail and REDACTED in detail
    assert re.search(r"距客户 约 [1-9]\d* 公里", detail) and "0.0 公里" not in detail


def test_a_district_in_another_district_reads_about_n_km_never_zero(app, client, world):
    lead = share(client, world, "广州市白云区")
    assert lead["current_offer"]["dealer"]["code"] == "GZ2"
    page = Browser(app, world.users["baiyun"], lang="zh").get("/inbox").text
    distance = re.search(r"data-distance>· ([^<]+)<", page).group(1)
    assert re.fullmatch(r"距本店约 [1-9]\d* 公里", distance), distance
    assert "0.0 公里" not in page
