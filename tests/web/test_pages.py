"""The web pages through the test client: each role's pages, forms, refusals and languages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from leadshare.app import create_app
from leadshare.auth.models import User
from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.leads.models import Lead, LeadEvent, Offer
from leadshare.tenancy.models import Dealer
from leadshare.vocabulary import Role
from leadshare.web.nav import nav_for
from tests.api.lead_world import build_world, lead_payload

from .. import TEST_SECRET_KEY
from .pages import VALID_VIN, Browser, lead_form, lead_id_from

STAFF_PAGES = ("/inbox", "/held", "/leads/new", "/board", "/referrals", "/leads")
ADMIN_PAGES = ("/admin/dealers", "/admin/dealers/new", "/admin/users", "/admin/users/new")
BAD_CHECK_DIGIT_VIN = "1M8GDM9A1KP042788"


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def browser(app, world, who: str, lang: str | None = None) -> Browser:
    return Browser(app, world.users[who], lang=lang)


def share(app, world, who: str = "referrer", **fields) -> str:
    """Share a lead through the form; returns its id."""
    response = browser(app, world, who).post("/leads/new", **lead_form(**fields))
    assert response.status_code == 302, response.text
    return lead_id_from(response.location)


def share_by_api(client, world, **overrides) -> str:
    response = client.post(
        "/api/v1/leads", json=lead_payload(**overrides), headers=world.headers["referrer"]
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def lead_row(app, lead_id: str) -> Lead:
    with app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.public_id == lead_id))
        db.session.expunge(lead)
        return lead


# --- signing in, languages, cookies ----------------------------------------------------------


@pytest.mark.parametrize("path", STAFF_PAGES + ADMIN_PAGES + ("/store/settings",))
def test_pages_send_anonymous_visitors_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_login_page_is_chinese_first_and_english_after_the_switch(app):
    visitor = Browser(app)
    page = visitor.get("/login").text
    assert '<html lang="zh-CN">' in page
    assert "登录" in page and "邮箱" in page
    switched = visitor.post("/language", lang="en", next="/login")
    assert switched.status_code == 302 and switched.location == "/login"
    page = visitor.get("/login").text
    assert '<html lang="en">' in page
    assert "Email" in page and "邮箱" not in page and "中文" in page


def test_language_switch_shows_english_on_staff_pages(app, world):
    share(app, world)
    chinese = browser(app, world, "tianhe").get("/inbox").text
    assert "待处理" in chinese and "认领" in chinese and "拒绝原因" in chinese
    english = browser(app, world, "tianhe", lang="en").get("/inbox").text
    assert "Inbox" in english and "Claim" in english and "Why decline?" in english
    assert "认领" not in english


def test_language_choice_survives_sign_out_and_sign_in(app, world):
    staff = browser(app, world, "tianhe", lang="en")
    staff.post("/logout")
    assert "Sign in" in staff.get("/login").text


def test_wrong_password_shows_the_message_in_both_languages(app, world):
    visitor = Browser(app)
    response = visitor.post("/login", email=world.users["tianhe"].email, password="nope")
    assert response.status_code == 401
    assert "邮箱或密码错误" in response.text and "Wrong email or password" in response.text


def test_session_cookie_is_http_only_and_same_site(app, world):
    visitor = Browser(app)
    response = visitor.post("/login", email=world.users["tianhe"].email, password="password123")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_are_not_cached_and_allow_only_own_scripts(app, world):
    response = browser(app, world, "tianhe").get("/inbox")
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_static_assets_are_served_with_a_fingerprint(app, world):
    page = browser(app, world, "tianhe").get("/inbox").text
    css = page.split('rel="stylesheet" href="')[1].split('"')[0]
    assert css.startswith("/assets/app.css?v=")
    response = Browser(app).get(css)
    assert response.status_code == 200 and "immutable" in response.headers["Cache-Control"]


# --- who may open what -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "landing"), [("tianhe", "/inbox"), ("tianhe2", "/inbox"), ("admin", "/leads")]
)
def test_start_page_sends_each_role_to_its_landing_page(app, world, who, landing):
    response = browser(app, world, who).get("/")
    assert response.status_code == 302 and response.location == landing


def test_staff_pages_open_for_staff(app, world):
    staff = browser(app, world, "tianhe")
    for path in STAFF_PAGES:
        assert staff.get(path).status_code == 200, path


@pytest.mark.parametrize("path", (*ADMIN_PAGES, "/store/settings"))
def test_staff_cannot_open_admin_or_manager_pages(app, world, path):
    response = browser(app, world, "tianhe").get(path)
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "无权访问" in response.text


def test_group_admin_opens_admin_pages_but_not_staff_pages(app, world):
    admin = browser(app, world, "admin")
    for path in (*ADMIN_PAGES, "/leads"):
        assert admin.get(path).status_code == 200, path
    for path in ("/inbox", "/leads/new", "/board", "/store/settings"):
        assert admin.get(path).status_code == 403, path


def test_auditor_opens_the_lead_list_only(app, world, make):
    auditor = Browser(app, make.user(Role.OEM_AUDITOR, oem=make.oem(brands=["奥迪"])))
    assert auditor.get("/").location == "/leads"
    assert auditor.get("/leads").status_code == 200
    for path in ("/inbox", "/admin/dealers", "/admin/users", "/store/settings"):
        assert auditor.get(path).status_code == 403, path


def test_navigation_shows_each_role_its_pages(app, world):
    staff_page = browser(app, world, "tianhe").get("/inbox").text
    assert 'href="/board"' in staff_page and 'href="/admin/dealers"' not in staff_page
    assert 'href="/store/settings"' not in staff_page
    manager_page = browser(app, world, "tianhe2").get("/inbox").text
    assert 'href="/store/settings"' in manager_page
    admin_page = browser(app, world, "admin").get("/leads").text
    assert 'href="/admin/dealers"' in admin_page and 'href="/inbox"' not in admin_page


def test_navigation_slot_appears_once_a_feature_registers_its_page(app, world, database_url):
    other = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": TEST_SECRET_KEY})
    with other.test_request_context():
        other.view_functions.pop("web.programs")  # as before the rewards pages existed
        assert "web.programs" not in [item.endpoint for item in nav_for(world.users["admin"])]
        other.view_functions["web.programs"] = lambda: "programs"
        assert "web.programs" in [item.endpoint for item in nav_for(world.users["admin"])]
        assert "web.programs" not in [item.endpoint for item in nav_for(world.users["tianhe"])]


def test_another_stores_lead_is_a_404_page(app, world):
    lead_id = share(app, world)
    response = browser(app, world, "futian").get(f"/leads/{lead_id}")
    assert response.status_code == 404
    assert response.mimetype == "text/html" and "未找到" in response.text
    assert browser(app, world, "tianhe").get("/leads/ld_doesnotexist").status_code == 404


def test_unknown_paths_get_an_html_404_but_the_api_keeps_json(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "页面不存在" in page.text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json["reason"] == "not_found"


def test_form_without_csrf_token_is_refused(app, world, client):
    lead_id = share(app, world)
    staff = browser(app, world, "tianhe")
    response = staff.client.post(f"/leads/{lead_id}/claim", data={})
    assert response.status_code == 400
    assert response.mimetype == "text/html" and "表单已过期或并非来自本站" in response.text
    lead = client.get(f"/api/v1/leads/{lead_id}", headers=world.headers["tianhe"]).json
    assert lead["status"] == "offered"


# --- the staff flow --------------------------------------------------------------------------


def test_full_staff_flow_by_forms(app, world):
    referrer = browser(app, world, "referrer")
    posted = referrer.post("/leads/new", follow_redirects=True, **lead_form())
    assert posted.status_code == 200
    assert "已分享：派给 广州天河奥迪" in posted.text
    lead_id = lead_id_from(posted.request.path)

    receiver = browser(app, world, "tianhe")
    inbox = receiver.get("/inbox").text
    assert f"/leads/{lead_id}/claim" in inbox and "data-expires=" in inbox
    claimed = receiver.post(f"/leads/{lead_id}/claim", follow_redirects=True)
    assert "认领成功" in claimed.text
    assert "+8613812345678" in claimed.text  # the holder sees the contact

    held = receiver.get("/held").text
    assert f"/leads/{lead_id}/progress" in held
    asked = receiver.post(f"/leads/{lead_id}/progress", status="visited")
    assert asked.status_code == 200 and "将以下阶段记录为已达成：已联系, 已到店。" in asked.text
    assert lead_row(app, lead_id).status == "accepted"  # nothing recorded before confirming
    visited = receiver.post(
        f"/leads/{lead_id}/progress", follow_redirects=True, status="visited", confirmed="1"
    )
    assert "已记录：客户已到店。" in visited.text

    bad = receiver.post(
        f"/leads/{lead_id}/progress", status="delivered", order_ref="SO-1", vin=BAD_CHECK_DIGIT_VIN
    )
    assert bad.status_code == 422
    assert "校验位（第 9 位）是 1，按其余字符应为 X" in bad.text
    assert f'value="{BAD_CHECK_DIGIT_VIN}"' in bad.text  # what was typed stays in the box
    assert lead_row(app, lead_id).status == "visited"

    delivered = receiver.post(
        f"/leads/{lead_id}/progress",
        follow_redirects=True,
        status="delivered",
        order_ref="SO-1",
        vin=VALID_VIN.lower(),
        confirmed="1",
    )
    assert "已记录：已交车。" in delivered.text
    lead = lead_row(app, lead_id)
    assert (lead.status, lead.vin, lead.order_ref) == ("delivered", VALID_VIN, "SO-1")

    referrals = referrer.get("/referrals").text
    assert "已交车" in referrals and "广州天河奥迪" in referrals


def test_delivery_without_an_order_number_asks_for_it(app, world):
    lead_id = share(app, world)
    receiver = browser(app, world, "tianhe")
    receiver.post(f"/leads/{lead_id}/claim")
    response = receiver.post(f"/leads/{lead_id}/progress", status="delivered", vin=VALID_VIN)
    assert response.status_code == 422
    assert "这一步需要填写：订单号。" in response.text


def test_impossible_step_shows_invalid_transition_message(app, world):
    lead_id = share(app, world)
    receiver = browser(app, world, "tianhe")
    receiver.post(f"/leads/{lead_id}/claim")
    receiver.post(f"/leads/{lead_id}/progress", status="visited", confirmed="1")
    response = receiver.post(
        f"/leads/{lead_id}/progress", follow_redirects=True, status="contacted"
    )
    assert "线索当前为「已到店」，不能变更为「已联系」。" in response.text
    assert lead_row(app, lead_id).status == "visited"


def test_offered_store_sees_masked_contact_and_referrer_sees_it_all(app, world):
    lead_id = share(app, world)
    offered = browser(app, world, "tianhe")
    for path in ("/inbox", f"/leads/{lead_id}"):
        page = offered.get(path).text
        assert "138****5678" in page and "13812345678" not in page and "张*" in page
    assert "+8613812345678" in browser(app, world, "referrer").get(f"/leads/{lead_id}").text


def test_decline_asks_for_a_reason_then_passes_the_lead_on(app, world):
    lead_id = share(app, world)
    receiver = browser(app, world, "tianhe")
    refused = receiver.post(f"/leads/{lead_id}/decline", follow_redirects=True, next="/inbox")
    assert "请选择拒绝原因。" in refused.text
    assert f"/leads/{lead_id}/claim" in refused.text  # still offered to us
    declined = receiver.post(
        f"/leads/{lead_id}/decline", follow_redirects=True, reason="no_stock", next="/inbox"
    )
    assert "已拒绝" in declined.text
    assert f"/leads/{lead_id}/claim" in browser(app, world, "baiyun").get("/inbox").text


def test_claim_after_another_store_shows_who_was_first(app, make, auth, client):
    world = build_world(make, auth, max_offers_per_lead=1)
    lead_id = share_by_api(client, world)
    declined = client.post(
        f"/api/v1/leads/{lead_id}/decline",
        json={"reason": "capacity"},
        headers=world.headers["tianhe"],
    )
    assert declined.json["status"] == "open"
    baiyun, panyu = browser(app, world, "baiyun"), browser(app, world, "panyu")
    assert f"/leads/{lead_id}/claim" in panyu.get("/board").text
    assert "认领成功" in baiyun.post(f"/leads/{lead_id}/claim", follow_redirects=True).text
    late = panyu.post(f"/leads/{lead_id}/claim", follow_redirects=True, next="/board")
    assert "其他门店已先一步认领了这条线索。" in late.text


def test_claiming_an_expired_offer_says_so(app, world, client):
    lead_id = share_by_api(client, world)
    with app.app_context():
        db.session.execute(update(Offer).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    response = browser(app, world, "tianhe").post(f"/leads/{lead_id}/claim", follow_redirects=True)
    assert "这条线索派给本店的时限已过" in response.text


def test_duplicate_customer_shows_message_with_link_to_the_earlier_lead(app, world):
    first = share(app, world)
    response = browser(app, world, "referrer").post("/leads/new", **lead_form(name="张三丰"))
    assert response.status_code == 409
    assert "未分享：该客户已在集团内。" in response.text
    assert f'href="/leads/{first}"' in response.text
    assert 'value="张三丰"' in response.text  # the form keeps what was typed


def test_duplicate_from_a_store_that_cannot_see_the_earlier_lead_gives_no_link(app, world):
    first = share(app, world)
    response = browser(app, world, "futian").post("/leads/new", **lead_form())
    assert response.status_code == 409
    assert "未分享：该客户已在集团内。" in response.text and f"/leads/{first}" not in response.text


def test_customer_the_store_can_serve_itself_is_not_shared(app, world):
    response = browser(app, world, "referrer").post(
        "/leads/new", **lead_form(address="广东省深圳市南山区")
    )
    assert response.status_code == 409
    assert "本店经营该品牌且客户在本店服务区域内" in response.text


def test_invalid_lead_form_shows_each_fields_message_and_stores_nothing(app, world):
    response = browser(app, world, "referrer").post(
        "/leads/new", **lead_form(name="", phone="12345", consent=None, channel="")
    )
    assert response.status_code == 422
    text = response.text
    assert "分享客户信息须取得客户的单独同意" in text
    assert "手机号无效，请检查号码。" in text
    assert text.count("此项必填。") == 2  # name and channel
    with app.app_context():
        assert db.session.scalar(select(Lead.id)) is None


def test_invalid_lead_form_in_english(app, world):
    response = browser(app, world, "referrer", lang="en").post(
        "/leads/new", **lead_form(phone="", wechat_id="")
    )
    assert response.status_code == 422
    assert "Give a phone number or a WeChat ID." in response.text


def test_referrer_withdraws_a_lead_before_it_is_claimed(app, world):
    lead_id = share(app, world)
    response = browser(app, world, "referrer").post(
        f"/leads/{lead_id}/withdraw", follow_redirects=True, reason="客户改主意"
    )
    assert "已撤回" in response.text
    assert lead_row(app, lead_id).status == "withdrawn"
    assert f"/leads/{lead_id}/claim" not in browser(app, world, "tianhe").get("/inbox").text


def test_lead_without_a_location_waits_for_a_clearer_address(app, world):
    referrer = browser(app, world, "referrer")
    posted = referrer.post("/leads/new", follow_redirects=True, **lead_form(address="火星殖民地"))
    assert "地址无法定位" in posted.text
    lead_id = lead_id_from(posted.request.path)
    assert f"/leads/{lead_id}/correct" in posted.text  # the correction form asks for it
    still_lost = referrer.post(f"/leads/{lead_id}/location", address="月球背面")
    assert still_lost.status_code == 422 and "无法定位该地址" in still_lost.text
    located = referrer.post(
        f"/leads/{lead_id}/location", follow_redirects=True, address="广州市天河区"
    )
    assert "位置已保存" in located.text
    assert lead_row(app, lead_id).status == "offered"


def test_lead_page_explains_why_it_was_routed_there(app, world):
    lead_id = share(app, world)
    page = browser(app, world, "admin").get(f"/leads/{lead_id}").text
    assert "为什么派给这家门店" in page
    assert "最近的合格门店：GZ1 广州天河奥迪" in page
    assert "GZ2 广州白云奥迪" in page  # next in line
    assert "已校验" in page


def test_times_are_shown_in_the_groups_time_zone(app, make, auth):
    world = build_world(make, auth, timezone="Asia/Tokyo")
    lead_id = share(app, world)
    created = lead_row(app, lead_id).created_at
    page = browser(app, world, "referrer").get(f"/leads/{lead_id}").text
    assert (created + timedelta(hours=9)).strftime("%Y-%m-%d %H:%M") in page


def test_geocode_preview_uses_the_session(app, world):
    response = browser(app, world, "referrer").get("/api/v1/geocode?q=广州天河")
    assert response.status_code == 200 and response.json["district"] == "天河区"


# --- manager ---------------------------------------------------------------------------------


def test_manager_changes_the_stores_operating_settings(app, world):
    manager = browser(app, world, "tianhe2")
    assert 'name="service_radius_km"' in manager.get("/store/settings").text
    bad = manager.post("/store/settings", service_radius_km="far", daily_capacity="")
    assert bad.status_code == 422 and "请输入数字。" in bad.text
    saved = manager.post(
        "/store/settings", follow_redirects=True, daily_capacity="5", service_radius_km="25"
    )
    assert "门店设置已保存。" in saved.text
    with app.app_context():
        store = db.session.get(Dealer, world.tianhe.id)
        assert (store.is_accepting, store.daily_capacity, store.service_radius_km) == (
            False,
            5,
            25.0,
        )


def test_staff_cannot_change_store_settings(app, world):
    response = browser(app, world, "tianhe").post("/store/settings", service_radius_km="5")
    assert response.status_code == 403


# --- group admin -----------------------------------------------------------------------------


def test_group_admin_lists_and_filters_stores(app, world):
    admin = browser(app, world, "admin")
    everything = admin.get("/admin/dealers").text
    assert "广州天河奥迪" in everything and "深圳福田丰田" in everything
    toyota = admin.get("/admin/dealers?brand=丰田").text
    assert "深圳福田丰田" in toyota and "广州天河奥迪" not in toyota
    search = admin.get("/admin/dealers?q=GZ2").text
    assert "广州白云奥迪" in search and "广州番禺奥迪" not in search


def test_group_admin_creates_and_edits_a_store(app, world):
    admin = browser(app, world, "admin")
    created = admin.post(
        "/admin/dealers/new",
        follow_redirects=True,
        code="SZ9",
        name="深圳福田奥迪",
        brands="奥迪, 大众",
        address="广东省深圳市福田区",
        service_radius_km="30",
        accepting_leads="y",
        active="y",
    )
    assert "门店 SZ9 已保存。" in created.text
    with app.app_context():
        store = db.session.scalar(select(Dealer).where(Dealer.code == "SZ9"))
        assert store.brands == ["奥迪", "大众"] and store.latitude is not None
        store_id, position = store.id, (store.latitude, store.longitude)
    form = admin.get(f"/admin/dealers/{store_id}").text
    assert 'value="奥迪, 大众"' in form
    edited = admin.post(
        f"/admin/dealers/{store_id}",
        follow_redirects=True,
        code="SZ9",
        name="深圳福田奥迪",
        brands="奥迪",
        address="广东省深圳市福田区",
        latitude=str(position[0]),
        longitude=str(position[1]),
        service_radius_km="45",
        accepting_leads="y",
    )
    assert "门店 SZ9 已保存。" in edited.text
    with app.app_context():
        store = db.session.get(Dealer, store_id)
        assert (store.brands, store.service_radius_km, store.is_active) == (["奥迪"], 45.0, False)
        assert store.geo_precision != "exact"  # the untouched address was not re-geocoded


def test_store_form_refusals_are_shown(app, world):
    admin = browser(app, world, "admin")
    taken = admin.post(
        "/admin/dealers/new", code="GZ1", name="重复", brands="奥迪", address="广州市天河区"
    )
    assert taken.status_code == 409 and "集团内已有门店使用该编码" in taken.text
    nowhere = admin.post(
        "/admin/dealers/new", code="X1", name="无处", brands="奥迪", address="火星"
    )
    assert nowhere.status_code == 422 and "无法定位该地址" in nowhere.text
    empty = admin.post("/admin/dealers/new", code="", name="", brands="", address="广州市")
    assert empty.status_code == 422 and empty.text.count("此项必填。") == 3


def test_group_admin_creates_and_deactivates_a_user(app, world):
    admin = browser(app, world, "admin")
    missing_store = admin.post(
        "/admin/users/new", email="new@example.com", password="password123", role="staff"
    )
    assert missing_store.status_code == 422
    created = admin.post(
        "/admin/users/new",
        follow_redirects=True,
        email="New@Example.com",
        name="新同事",
        password="password123",
        role="staff",
        dealer_id=str(world.tianhe.id),
    )
    assert "用户 new@example.com 已创建。" in created.text
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new@example.com"))
        db.session.expunge(user)
    assert user.dealer_id == world.tianhe.id
    assert Browser(app, user).get("/inbox").status_code == 200
    listed = admin.get(f"/admin/users?dealer_id={world.tianhe.id}").text
    assert "new@example.com" in listed and world.users["baiyun"].email not in listed
    off = admin.post(f"/admin/users/{user.id}/active", follow_redirects=True, active="0")
    assert "new@example.com 已停用。" in off.text
    visitor = Browser(app)
    refused = visitor.post("/login", email="new@example.com", password="password123")
    assert refused.status_code == 401


# --- OEM auditor -----------------------------------------------------------------------------


def test_auditor_sees_the_brands_leads_masked_with_a_verified_trail(app, world, make, client):
    lead_id = share(app, world)
    toyota_lead = share_by_api(
        client, world, brand="丰田", customer={"name": "王五", "wechat_id": "wangwu"}
    )
    auditor = Browser(app, make.user(Role.OEM_AUDITOR, oem=make.oem(brands=["奥迪"])))
    listing = auditor.get("/leads").text
    assert f"/leads/{lead_id}" in listing and f"/leads/{toyota_lead}" not in listing
    assert "张*" in listing and "138****5678" in listing and "13812345678" not in listing
    assert "✓ 已校验" in listing
    page = auditor.get(f"/leads/{lead_id}")
    assert page.status_code == 200 and "138****5678" in page.text
    assert f"/leads/{lead_id}/claim" not in page.text
    assert auditor.get(f"/leads/{toyota_lead}").status_code == 404


def test_auditor_sees_a_broken_badge_when_the_trail_was_altered(app, world, make):
    lead_id = share(app, world)
    with app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.public_id == lead_id))
        db.session.execute(
            update(LeadEvent)
            .where(LeadEvent.lead_id == lead.id, LeadEvent.seq == 1)
            .values(data={"share_reason": "brand_not_carried"})
        )
        db.session.commit()
    auditor = Browser(app, make.user(Role.OEM_AUDITOR, oem=make.oem(brands=["奥迪"])))
    assert "第 1 条记录校验失败" in auditor.get("/leads").text


def test_lead_list_filters_by_status(app, world, client):
    offered = share(app, world)
    withdrawn = share_by_api(client, world, customer={"name": "李四", "wechat_id": "lisi88"})
    client.post(f"/api/v1/leads/{withdrawn}/withdraw", json={}, headers=world.headers["referrer"])
    admin = browser(app, world, "admin")
    page = admin.get("/leads?status=withdrawn").text
    assert f"/leads/{withdrawn}" in page and f"/leads/{offered}" not in page


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "https://evil.example/"])
def test_sign_in_never_sends_people_to_another_site(app, world, target):
    visitor = Browser(app)
    response = visitor.client.post(
        f"/login?next={target}",
        data={
            "csrf_token": visitor.token,
            "email": world.users["tianhe"].email,
            "password": "password123",
        },
    )
    assert response.status_code == 302 and response.location == "/"
