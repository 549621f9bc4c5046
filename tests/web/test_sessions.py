"""Sessions that fit a phone: remember me, revocation, forms kept across an ended session,
the change-password page and a group admin's password reset."""

from __future__ import annotations

import html as html_module
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from leadshare.auth.models import User, UserSession
from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.leads.models import Lead
from leadshare.vocabulary import Role
from tests.api.lead_world import build_world

from .pages import Browser, csrf_token, lead_form, lead_id_from

PASSWORD = "password123"


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def signed_in(app, user, remember: bool = False, password: str = PASSWORD):
    """A test client signed in through the form, with or without "remember me"."""
    client = app.test_client()
    token = csrf_token(client.get("/login").text)
    fields = {"csrf_token": token, "email": user.email, "password": password}
    if remember:
        fields["remember"] = "y"
    response = client.post("/login", data=fields)
    assert response.status_code == 302, response.text
    return client


def restarted(app, client):
    """The same browser after a restart: only its persistent cookies are left."""
    fresh = app.test_client()
    for name in ("session",):
        cookie = client.get_cookie(name)
        if cookie is not None and cookie.expires is not None:
            fresh.set_cookie(name, cookie.value)
    return fresh


def signed_out(response) -> bool:
    return response.status_code == 302 and response.location.startswith("/login")


def leads_of(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Lead))


# --- remember me --------------------------------------------------------------------------


def test_remember_me_survives_a_browser_restart(app, world):
    phone = signed_in(app, world.users["tianhe"], remember=True)
    cookie = phone.get_cookie("session")
    assert cookie.expires is not None and cookie.http_only
    days = (cookie.expires.replace(tzinfo=None) - utcnow()).days
    assert 29 <= days <= 30
    assert restarted(app, phone).get("/inbox").status_code == 200


def test_without_remember_me_a_browser_restart_signs_out(app, world):
    phone = signed_in(app, world.users["tianhe"])
    assert phone.get_cookie("session").expires is None
    assert phone.get("/inbox").status_code == 200
    assert signed_out(restarted(app, phone).get("/inbox"))


def test_a_remembered_session_lasts_30_days_on_the_server_and_no_longer(app, world):
    phone = signed_in(app, world.users["tianhe"], remember=True)
    with app.app_context():
        row = db.session.scalars(select(UserSession)).one()
        assert timedelta(days=29) < row.expires_at - utcnow() <= timedelta(days=30)
        db.session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert signed_out(restarted(app, phone).get("/inbox"))


def test_an_ordinary_session_expires_after_its_hours(app, world):
    signed_in(app, world.users["tianhe"])
    with app.app_context():
        row = db.session.scalars(select(UserSession)).one()
        assert timedelta(hours=11) < row.expires_at - utcnow() <= timedelta(hours=12)


def test_a_password_change_ends_the_remembered_phone(app, world):
    phone = signed_in(app, world.users["tianhe"], remember=True)
    desk = Browser(app, world.users["tianhe"])
    changed = desk.post(
        "/account/password",
        current_password=PASSWORD,
        password="n3w-password-1",
        confirm="n3w-password-1",
    )
    assert changed.status_code == 302
    assert signed_out(restarted(app, phone).get("/inbox"))
    assert signed_out(phone.get("/inbox"))
    assert desk.get("/inbox").status_code == 200  # the device that changed it stays signed in


def test_sign_out_everywhere_ends_remembered_sessions_and_tokens(app, world, client):
    phone = signed_in(app, world.users["tianhe"], remember=True)
    desk = Browser(app, world.users["tianhe"])
    assert desk.post("/logout/everywhere").status_code == 302
    assert signed_out(restarted(app, phone).get("/inbox"))
    assert signed_out(desk.get("/inbox"))
    me = client.get("/api/v1/auth/me", headers=world.headers["tianhe"])
    assert me.status_code == 401


def test_deactivation_ends_the_remembered_phone(app, world, client):
    phone = signed_in(app, world.users["tianhe"], remember=True)
    client.patch(
        f"/api/v1/users/{world.users['tianhe'].id}",
        json={"active": False},
        headers=world.headers["admin"],
    )
    assert signed_out(restarted(app, phone).get("/inbox"))


# --- a form is never lost -----------------------------------------------------------------


def _hidden(html: str) -> dict[str, str]:
    """The hidden fields of the page's main form (the sign-in or the resubmit form)."""
    form = html.split("<main", 1)[1]
    fields = {}
    for tag in re.findall(r"<input [^>]*>", form):
        if 'type="hidden"' in tag:
            name = re.search(r'name="([^"]+)"', tag).group(1)
            fields[name] = html_module.unescape(re.search(r'value="([^"]*)"', tag).group(1))
    return fields


def _end_sessions(app) -> None:
    with app.app_context():
        db.session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()


def test_a_form_sent_after_the_session_expired_is_kept_and_sent_after_sign_in(app, world):
    referrer = Browser(app, world.users["referrer"])
    form_page = referrer.get("/leads/new")
    assert form_page.status_code == 200
    _end_sessions(app)  # the session ends while the form is being typed
    sent = referrer.post("/leads/new", **lead_form(notes="客户周末有空，要白色"))
    assert sent.status_code == 401
    assert "客户周末有空，要白色" in sent.text and "data-draft-kept" in sent.text
    carried = _hidden(sent.text)
    assert carried["draft.phone"] == "138 1234 5678" and carried["draft_target"] == "/leads/new"
    assert leads_of(app) == 0
    signed = referrer.client.post(
        "/login",
        data={**carried, "email": world.users["referrer"].email, "password": PASSWORD},
    )
    assert signed.status_code == 200 and "data-resubmit" in signed.text
    assert "客户周末有空，要白色" in signed.text  # shown, so the person sees what is sent
    again = _hidden(signed.text)
    assert again["name"] == "张三" and "draft.name" not in again
    done = referrer.client.post("/leads/new", data=again)
    assert done.status_code == 302 and leads_of(app) == 1
    assert lead_id_from(done.location)


def test_a_wrong_password_on_the_way_keeps_the_form(app, world):
    referrer = Browser(app, world.users["referrer"])
    _end_sessions(app)
    carried = _hidden(referrer.post("/leads/new", **lead_form()).text)
    wrong = referrer.client.post(
        "/login", data={**carried, "email": world.users["referrer"].email, "password": "nope"}
    )
    assert wrong.status_code == 401
    assert _hidden(wrong.text)["draft.name"] == "张三"


SAME_SITE = {"Origin": "http://localhost"}


def test_a_form_sent_after_a_browser_restart_is_kept(app, world):
    """No cookie at all: the CSRF check fails first, and still nothing typed is lost."""
    referrer = Browser(app, world.users["referrer"])
    fields = {"csrf_token": referrer.token, **lead_form()}
    cold = app.test_client()
    sent = cold.post("/leads/new", data=fields, headers=SAME_SITE)
    assert sent.status_code == 401 and _hidden(sent.text)["draft.address"] == "广东省广州市天河区"
    carried = _hidden(sent.text)
    signed = cold.post(
        "/login", data={**carried, "email": world.users["referrer"].email, "password": PASSWORD}
    )
    assert signed.status_code == 200
    assert cold.post("/leads/new", data=_hidden(signed.text)).status_code == 302
    assert leads_of(app) == 1


def test_an_expired_csrf_token_on_a_signed_in_form_keeps_it(app, world):
    referrer = Browser(app, world.users["referrer"])
    data = {"csrf_token": "an-expired-token", **lead_form()}
    refused = referrer.client.post("/leads/new", data=data, headers=SAME_SITE)
    assert refused.status_code == 400
    assert "data-resubmit" in refused.text and "客户周末有空" in refused.text
    assert leads_of(app) == 0
    done = referrer.client.post("/leads/new", data=_hidden(refused.text))
    assert done.status_code == 302 and leads_of(app) == 1


def test_a_refused_resubmission_shows_the_form_filled_with_its_message(app, world):
    referrer = Browser(app, world.users["referrer"])
    data = {"csrf_token": "an-expired-token", **lead_form(phone="12345")}
    refused = referrer.client.post("/leads/new", data=data, headers=SAME_SITE)
    again = referrer.client.post("/leads/new", data=_hidden(refused.text))
    assert again.status_code == 422 and 'value="12345"' in again.text


def test_a_forged_cross_site_form_gets_no_send_button(app, world):
    """A form from another site (or with no token at all) is refused plainly: offering to send
    its fields with a good token would undo the CSRF protection."""
    admin = Browser(app, world.users["admin"])
    for headers, token in (
        ({"Origin": "https://evil.example"}, "forged"),
        ({}, "forged"),
        (SAME_SITE, None),
    ):
        data = {"amount": "10", "dealer_id": str(world.referrer.id)}
        if token:
            data["csrf_token"] = token
        refused = admin.client.post("/admin/payouts", data=data, headers=headers)
        assert refused.status_code == 400 and "data-resubmit" not in refused.text
        assert "表单已过期或并非来自本站" in refused.text
    cold = app.test_client().post(
        "/leads/new", data={"csrf_token": "x", **lead_form()}, headers={"Origin": "https://x.cn"}
    )
    assert cold.status_code == 400 and "data-draft-kept" not in cold.text


# --- changing and resetting passwords --------------------------------------------------------


@pytest.mark.parametrize("who", ["referrer", "tianhe2", "admin"])
def test_every_role_opens_the_change_password_page(app, world, who):
    page = Browser(app, world.users[who]).get("/account/password")
    assert page.status_code == 200 and "修改密码" in page.text
    assert "/logout/everywhere" in page.text


def test_the_auditor_and_platform_admin_open_it_too(app, make):
    for user in (make.user(Role.OEM_AUDITOR, oem=make.oem()), make.user(Role.PLATFORM_ADMIN)):
        assert Browser(app, user).get("/account/password").status_code == 200


@pytest.mark.parametrize("who, page", [("referrer", "/inbox"), ("admin", "/leads")])
def test_the_navigation_links_to_the_change_password_page(app, world, who, page):
    html = Browser(app, world.users[who]).get(page).text
    assert 'href="/account/password"' in html


def test_a_wrong_current_password_or_a_mismatch_changes_nothing(app, world):
    desk = Browser(app, world.users["tianhe"])
    wrong = desk.post(
        "/account/password", current_password="guess", password="n3w-pass!", confirm="n3w-pass!"
    )
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
    mismatch = desk.post(
        "/account/password", current_password=PASSWORD, password="n3w-pass!", confirm="other-1!"
    )
    assert mismatch.status_code == 422 and "两次输入不一致" in mismatch.text
    short = desk.post("/account/password", current_password=PASSWORD, password="x", confirm="x")
    assert short.status_code == 422
    assert signed_in(app, world.users["tianhe"])  # the old password still works


def test_a_changed_password_signs_in(app, world):
    desk = Browser(app, world.users["tianhe"])
    desk.post(
        "/account/password", current_password=PASSWORD, password="n3w-pass!", confirm="n3w-pass!"
    )
    assert signed_in(app, world.users["tianhe"], password="n3w-pass!")


def _reset(app, world, who: str = "tianhe") -> str:
    admin = Browser(app, world.users["admin"])
    user_id = world.users[who].id
    confirm = admin.get(f"/admin/users/{user_id}/password")
    assert confirm.status_code == 200 and world.users[who].email in confirm.text
    shown = admin.post(f"/admin/users/{user_id}/password")
    assert shown.status_code == 200
    return re.search(r"data-temporary-password><code>([a-z0-9]+)</code>", shown.text).group(1)


def test_group_admin_resets_a_password_and_it_must_be_changed_at_sign_in(app, world, client):
    phone = signed_in(app, world.users["tianhe"], remember=True)
    temporary = _reset(app, world)
    assert len(temporary) == 12
    assert signed_out(phone.get("/inbox"))  # the reset signs the user out everywhere
    browser = Browser(app)
    first = browser.post("/login", email=world.users["tianhe"].email, password=temporary)
    assert first.status_code == 302 and first.location.startswith("/account/password")
    assert browser.get("/inbox").location.startswith("/account/password")
    token = client.post(
        "/api/v1/auth/token", json={"email": world.users["tianhe"].email, "password": temporary}
    )
    assert token.status_code == 403 and token.json["reason"] == "password_change_required"
    page = browser.get("/account/password")
    assert "管理员已重置您的密码" in page.text
    browser.token = csrf_token(page.text)
    changed = browser.post(
        "/account/password", current_password=temporary, password="mine-123", confirm="mine-123"
    )
    assert changed.status_code == 302
    assert browser.get("/inbox").status_code == 200
    with app.app_context():
        assert db.session.get(User, world.users["tianhe"].id).must_change_password is False


def test_group_admin_resets_through_the_api_too(app, world, client):
    path = f"/api/v1/users/{world.users['tianhe'].id}/password-reset"
    answer = client.post(path, headers=world.headers["admin"])
    assert answer.status_code == 200 and len(answer.json["temporary_password"]) == 12
    me = client.get("/api/v1/auth/me", headers=world.headers["tianhe"])
    assert me.status_code == 401  # the user's tokens ended with the reset


def test_only_the_users_admins_may_reset(app, world, make, auth, client):
    path = f"/api/v1/users/{world.users['tianhe'].id}/password-reset"
    assert client.post(path, headers=world.headers["tianhe2"]).status_code == 403
    stranger = auth(make.user(Role.GROUP_ADMIN, group=make.group()))
    assert client.post(path, headers=stranger).status_code == 404
    own = f"/api/v1/users/{world.users['admin'].id}/password-reset"
    refused = client.post(own, headers=world.headers["admin"])
    assert refused.status_code == 403 and refused.json["reason"] == "cannot_reset_self"
    staff = Browser(app, world.users["tianhe2"])
    assert staff.get(f"/admin/users/{world.users['tianhe'].id}/password").status_code == 403
    other = Browser(app, make.user(Role.GROUP_ADMIN, group=make.group()))
    assert other.get(f"/admin/users/{world.users['tianhe'].id}/password").status_code == 404


def test_the_admin_user_list_links_to_the_reset(app, world):
    users = Browser(app, world.users["admin"]).get("/admin/users").text
    assert f"/admin/users/{world.users['tianhe'].id}/password" in users
