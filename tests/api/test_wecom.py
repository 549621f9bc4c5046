"""WeCom sign-in against a fake WeCom server: success, each refusal, and the token's refresh."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from leadshare.extensions import db
from leadshare.vocabulary import Role
from leadshare.wecom.models import WecomApp

from .lead_world import build_world, lead_payload
from .wecom_world import AGENT, CORP, IN_WECOM, configure, link, running_fake, sign_in


@pytest.fixture
def fake_wecom(app, monkeypatch):
    yield from running_fake(app, monkeypatch)


def _world(app, make, auth, client):
    world = build_world(make, auth)
    configure(client, world.group, world.headers["admin"])
    link(client, world.users["tianhe"], world.headers["admin"], "zhangsan")
    return world


def test_a_page_opened_in_wecom_signs_in_through_wecom_and_lands_on_it(
    app, make, auth, client, fake_wecom
):
    _world(app, make, auth, client)
    browser = app.test_client()
    sign = sign_in(browser, fake_wecom, "/inbox?tab=new", "CODE-1", userid="zhangsan")
    assert sign.authorize.location.startswith(
        "https://open.weixin.qq.com/connect/oauth2/authorize?"
    )
    assert sign.authorize.location.endswith("#wechat_redirect")
    assert sign.query["appid"] == CORP and sign.query["agentid"] == str(AGENT)
    assert sign.query["scope"] == "snsapi_base" and sign.query["response_type"] == "code"
    assert sign.query["redirect_uri"] == "http://127.0.0.1:8000/wecom/callback"
    assert sign.callback.status_code == 302 and sign.callback.location == "/inbox?tab=new"
    inbox = browser.get("/inbox", headers=IN_WECOM)
    assert inbox.status_code == 200 and "广州天河奥迪" in inbox.text
    [token_call] = fake_wecom.calls_to("gettoken")
    assert token_call.query == {"corpid": CORP, "corpsecret": "app-secret-0001"}
    [info] = fake_wecom.calls_to("auth/getuserinfo")
    assert info.query == {"access_token": "token-1", "code": "CODE-1"}


def test_the_wecom_session_is_remembered_past_the_web_view_closing(
    app, make, auth, client, fake_wecom
):
    _world(app, make, auth, client)
    browser = app.test_client()
    sign_in(browser, fake_wecom, "/inbox", "CODE-1", userid="zhangsan")
    cookie = browser.get_cookie("session")
    assert cookie.expires is not None  # a persistent cookie: WeCom's web view keeps it
    reopened = app.test_client()
    reopened.set_cookie("session", cookie.value)
    assert reopened.get("/inbox", headers=IN_WECOM).status_code == 200


def test_the_access_token_is_cached_until_wecom_says_it_expired(
    app, make, auth, client, fake_wecom
):
    _world(app, make, auth, client)
    sign_in(app.test_client(), fake_wecom, "/inbox", "CODE-1", userid="zhangsan")
    sign_in(app.test_client(), fake_wecom, "/inbox", "CODE-2", userid="zhangsan")
    assert len(fake_wecom.calls_to("gettoken")) == 1  # cached between sign-ins
    fake_wecom.expire_tokens()
    third = sign_in(app.test_client(), fake_wecom, "/inbox", "CODE-3", userid="zhangsan")
    assert third.callback.status_code == 302 and third.callback.location == "/inbox"
    assert len(fake_wecom.calls_to("gettoken")) == 2  # 42001: fetched once more
    tokens = [c.query["access_token"] for c in fake_wecom.calls_to("auth/getuserinfo")]
    assert tokens == ["token-1", "token-1", "token-1", "token-2"]


def test_an_invalid_token_errcode_40014_is_also_refreshed(app, make, auth, client, fake_wecom):
    _world(app, make, auth, client)
    fake_wecom.fail_next("auth/getuserinfo", 40014)
    sign = sign_in(app.test_client(), fake_wecom, "/inbox", "CODE-1", userid="zhangsan")
    assert sign.callback.status_code == 302
    assert len(fake_wecom.calls_to("gettoken")) == 2


def _refusal(sign) -> str:
    page = sign.callback.text
    assert 'data-wecom-refusal="' in page and "Traceback" not in page
    return page.split('data-wecom-refusal="', 1)[1].split('"', 1)[0]


def test_a_bad_code_gets_a_clear_page(app, make, auth, client, fake_wecom):
    _world(app, make, auth, client)
    sign = sign_in(app.test_client(), fake_wecom, "/inbox", "NO-SUCH-CODE")
    assert sign.callback.status_code == 400 and _refusal(sign) == "bad_code"
    assert "企业微信" in sign.callback.text


def test_a_code_is_good_once(app, make, auth, client, fake_wecom):
    _world(app, make, auth, client)
    browser = app.test_client()
    first = sign_in(browser, fake_wecom, "/inbox", "CODE-1", userid="zhangsan")
    again = app.test_client()
    replay = sign_in(again, fake_wecom, "/inbox", "CODE-1")
    assert first.callback.status_code == 302
    assert replay.callback.status_code == 400 and _refusal(replay) == "bad_code"


def test_an_unknown_member_gets_a_clear_page(app, make, auth, client, fake_wecom):
    _world(app, make, auth, client)
    sign = sign_in(app.test_client(), fake_wecom, "/inbox", "CODE-1", userid="wangwu")
    assert sign.callback.status_code == 403 and _refusal(sign) == "unknown_member"
    assert app.test_client().get("/inbox").status_code == 302  # nobody was signed in


def test_a_visitor_who_is_no_member_gets_a_clear_page(app, make, auth, client, fake_wecom):
    _world(app, make, auth, client)
    sign = sign_in(app.test_client(), fake_wecom, "/inbox", "CODE-1", openid="oXYZ")
    assert sign.callback.status_code == 403 and _refusal(sign) == "not_a_member"


def test_a_deactivated_user_is_not_signed_in_by_wecom(app, make, auth, client, fake_wecom):
    world = _world(app, make, auth, client)
    client.patch(
        f"/api/v1/users/{world.users['tianhe'].id}",
        json={"active": False},
        headers=world.headers["admin"],
    )
    sign = sign_in(app.test_client(), fake_wecom, "/inbox", "CODE-1", userid="zhangsan")
    assert sign.callback.status_code == 403 and _refusal(sign) == "unknown_member"


def test_other_errcode_answers_get_a_page_with_the_code(app, make, auth, client, fake_wecom):
    _world(app, make, auth, client)
    fake_wecom.fail_next("auth/getuserinfo", 60011)
    sign = sign_in(app.test_client(), fake_wecom, "/inbox", "CODE-1", userid="zhangsan")
    assert sign.callback.status_code == 502 and _refusal(sign) == "wecom_error"
    assert "60011" in sign.callback.text


def test_a_wrong_secret_is_a_wecom_error_not_a_500(app, make, auth, client, fake_wecom):
    world = _world(app, make, auth, client)
    configure(client, world.group, world.headers["admin"], secret="not-the-secret")
    sign = sign_in(app.test_client(), fake_wecom, "/inbox", "CODE-1", userid="zhangsan")
    assert sign.callback.status_code == 502 and _refusal(sign) == "wecom_error"
    assert "40001" in sign.callback.text


def test_wecom_out_of_reach_gets_a_page(app, make, auth, client, fake_wecom, monkeypatch):
    _world(app, make, auth, client)
    monkeypatch.setitem(app.config, "WECOM_API_BASE", "http://127.0.0.1:9/cgi-bin")
    sign = sign_in(app.test_client(), fake_wecom, "/inbox", "CODE-1", userid="zhangsan")
    assert sign.callback.status_code == 503 and _refusal(sign) == "wecom_unavailable"


def test_a_forged_or_foreign_state_is_refused(app, make, auth, client, fake_wecom):
    _world(app, make, auth, client)
    browser = app.test_client()
    authorize = browser.get("/inbox", headers=IN_WECOM)
    state = authorize.location.split("state=", 1)[1].split("&", 1)[0]
    forged = browser.get("/wecom/callback", query_string={"code": "C", "state": state + "x"})
    assert forged.status_code == 400 and 'data-wecom-refusal="bad_state"' in forged.text
    other_browser = app.test_client()  # a state handed to someone else: its nonce is not theirs
    foreign = other_browser.get("/wecom/callback?code=C&state=" + state)
    assert foreign.status_code == 400 and 'data-wecom-refusal="bad_state"' in foreign.text
    missing = app.test_client().get("/wecom/callback")
    assert missing.status_code == 400


def test_a_notification_link_opens_the_lead_and_signs_in_on_the_way(
    app, make, auth, client, fake_wecom
):
    world = _world(app, make, auth, client)
    lead = client.post("/api/v1/leads", json=lead_payload(), headers=world.headers["referrer"])
    lead_id = lead.json["id"]
    assert lead.json["current_offer"]["dealer"]["id"] == world.tianhe.id
    browser = app.test_client()
    sign = sign_in(browser, fake_wecom, f"/leads/{lead_id}", "CODE-1", userid="zhangsan")
    assert sign.callback.location == f"/leads/{lead_id}"
    page = browser.get(f"/leads/{lead_id}", headers=IN_WECOM)
    assert page.status_code == 200 and f"/leads/{lead_id}/claim" in page.text


def test_outside_wecom_a_page_still_goes_to_the_password_sign_in(
    app, make, auth, client, fake_wecom
):
    _world(app, make, auth, client)
    response = app.test_client().get("/inbox")
    assert response.status_code == 302 and urlsplit(response.location).path == "/login"


def test_without_any_wecom_app_a_wecom_visitor_gets_the_password_sign_in(app, make, client):
    response = client.get("/inbox", headers=IN_WECOM)
    assert response.status_code == 302 and urlsplit(response.location).path == "/login"


def test_a_downstream_store_is_known_by_its_corp_and_userid(app, make, auth, client, fake_wecom):
    """上下游: a store that is a corp of its own answers its own corp id; the same userid in the
    group's corp is somebody else."""
    world = _world(app, make, auth, client)
    link(client, world.users["baiyun"], world.headers["admin"], "zhangsan", corp_id="wwdown0002")
    downstream = app.test_client()
    sign_in(downstream, fake_wecom, "/inbox", "CODE-1", userid="zhangsan", corpid="wwdown0002")
    upstream = app.test_client()
    sign_in(upstream, fake_wecom, "/inbox", "CODE-2", userid="zhangsan")
    assert "广州白云奥迪" in downstream.get("/inbox").text
    assert "广州天河奥迪" in upstream.get("/inbox").text


def test_the_wecom_start_page_names_the_group(app, make, auth, client, fake_wecom):
    world = _world(app, make, auth, client)
    start = app.test_client().get(f"/wecom/start?group={world.group.code}&next=/board")
    assert start.status_code == 302 and "appid=" + CORP in start.location
    unknown = app.test_client().get("/wecom/start?group=NOPE")
    assert unknown.status_code == 404 and 'data-wecom-refusal="not_configured"' in unknown.text


# --- the admin API ------------------------------------------------------------------------


def test_group_admin_sets_the_app_and_the_secret_is_stored_encrypted(
    app, make, auth, client, fake_wecom
):
    world = build_world(make, auth)
    answer = configure(client, world.group, world.headers["admin"])
    assert answer["secret_source"] == "database" and "secret" not in answer
    read = client.get(f"/api/v1/groups/{world.group.id}/wecom", headers=world.headers["admin"])
    assert read.json == answer
    with app.app_context():
        stored = db.session.query(WecomApp).one().secret_encrypted
    assert stored and "app-secret-0001" not in stored
    kept = configure(client, world.group, world.headers["admin"], secret=None)
    assert kept["secret_source"] == "database"  # a PUT without a secret keeps the stored one


def test_a_secret_without_an_encryption_key_is_refused(app, make, auth, client, monkeypatch):
    world = build_world(make, auth)
    monkeypatch.setitem(app.config, "WECOM_ENCRYPTION_KEY", None)
    response = client.put(
        f"/api/v1/groups/{world.group.id}/wecom",
        json={"corp_id": CORP, "agent_id": AGENT, "secret": "s"},
        headers=world.headers["admin"],
    )
    assert response.status_code == 422 and response.json["reason"] == "encryption_key_missing"


def test_a_secret_from_the_environment_signs_in_without_being_stored(
    app, make, auth, client, fake_wecom, monkeypatch
):
    world = build_world(make, auth)
    monkeypatch.setitem(app.config, "WECOM_SECRETS", {world.group.code: "app-secret-0001"})
    answer = configure(client, world.group, world.headers["admin"], secret=None)
    assert answer["secret_source"] == "environment"
    link(client, world.users["tianhe"], world.headers["admin"], "zhangsan")
    sign = sign_in(app.test_client(), fake_wecom, "/inbox", "CODE-1", userid="zhangsan")
    assert sign.callback.status_code == 302


def test_only_the_groups_admins_and_platform_admins_configure_wecom(app, make, auth, client):
    world = build_world(make, auth)
    other_admin = make.user(Role.GROUP_ADMIN, group=make.group())
    platform = make.user(Role.PLATFORM_ADMIN)
    path = f"/api/v1/groups/{world.group.id}/wecom"
    body = {"corp_id": CORP, "agent_id": AGENT}
    assert client.put(path, json=body, headers=world.headers["tianhe"]).status_code == 403
    assert client.put(path, json=body, headers=auth(other_admin)).status_code == 404
    assert client.put(path, json=body, headers=auth(platform)).status_code == 200
    assert client.get(path, headers=auth(other_admin)).status_code == 404
    assert client.delete(path, headers=world.headers["admin"]).status_code == 204
    gone = client.get(path, headers=world.headers["admin"])
    assert gone.status_code == 404 and gone.json["reason"] == "not_set"


def test_bad_app_fields_are_422(app, make, auth, client):
    world = build_world(make, auth)
    path = f"/api/v1/groups/{world.group.id}/wecom"
    for body in ({"corp_id": "a b", "agent_id": 1}, {"corp_id": CORP, "agent_id": 0}, {}):
        response = client.put(path, json=body, headers=world.headers["admin"])
        assert response.status_code == 422, body


def test_admin_links_a_user_and_the_user_shows_it(app, make, auth, client, fake_wecom):
    world = build_world(make, auth)
    tianhe = world.users["tianhe"]
    path = f"/api/v1/users/{tianhe.id}/wecom"
    no_app = client.put(path, json={"userid": "zhangsan"}, headers=world.headers["admin"])
    assert no_app.status_code == 422 and no_app.json["reason"] == "corp_id_required"
    configure(client, world.group, world.headers["admin"])
    linked = client.put(path, json={"userid": "zhangsan"}, headers=world.headers["admin"])
    assert linked.json == {"user_id": tianhe.id, "corp_id": CORP, "userid": "zhangsan"}
    user = client.get(f"/api/v1/users/{tianhe.id}", headers=world.headers["admin"]).json
    assert user["wecom_userid"] == "zhangsan" and user["wecom_corp_id"] == CORP
    taken = client.put(
        f"/api/v1/users/{world.users['baiyun'].id}/wecom",
        json={"userid": "zhangsan"},
        headers=world.headers["admin"],
    )
    assert taken.status_code == 409 and taken.json["reason"] == "wecom_userid_taken"
    assert (
        client.put(path, json={"userid": "zhangsan"}, headers=world.headers["tianhe"]).status_code
        == 403
    )
    other_admin = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    assert client.put(path, json={"userid": "x"}, headers=other_admin).status_code == 404
    assert client.delete(path, headers=world.headers["admin"]).status_code == 204
    assert client.get(path, headers=world.headers["admin"]).status_code == 404


def test_the_openapi_document_lists_the_wecom_and_reset_operations(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert set(paths["/api/v1/groups/{group_id}/wecom"]) >= {"get", "put", "delete"}
    assert set(paths["/api/v1/users/{user_id}/wecom"]) >= {"get", "put", "delete"}
    assert "post" in paths["/api/v1/users/{user_id}/password-reset"]
    put = paths["/api/v1/groups/{group_id}/wecom"]["put"]
    assert "encryption_key_missing" in put["responses"]["422"]["description"]
