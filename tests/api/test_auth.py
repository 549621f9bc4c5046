"""Tokens: issue, use, expire, and die with a password change or a deactivation."""

from leadshare.vocabulary import Role


def test_token_for_right_password_works_on_the_api(client, make, auth):
    admin = make.user(Role.PLATFORM_ADMIN)
    response = client.post(
        "/api/v1/auth/token", json={"email": admin.email.upper(), "password": "password123"}
    )
    assert response.status_code == 200
    assert response.json["token"] and response.json["expires_at"]
    me = client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {response.json['token']}"}
    )
    assert me.status_code == 200
    assert me.json["email"] == admin.email
    assert "password" not in me.json and "password_hash" not in me.json


def test_wrong_password_and_unknown_email_get_the_same_401(client, make):
    user = make.user(Role.PLATFORM_ADMIN)
    wrong = client.post("/api/v1/auth/token", json={"email": user.email, "password": "nope-nope"})
    unknown = client.post(
        "/api/v1/auth/token", json={"email": "ghost@example.com", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json["message"] == unknown.json["message"]
    assert wrong.json["reason"] == "invalid_credentials"


def test_token_request_without_fields_is_422(client):
    response = client.post("/api/v1/auth/token", json={})
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"email", "password"}


def test_api_without_token_is_401(client):
    response = client.get("/api/v1/groups")
    assert response.status_code == 401
    assert response.json["reason"] == "unauthenticated"


def test_garbage_token_is_401(client):
    response = client.get("/api/v1/groups", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.json["reason"] == "invalid_token"


def test_token_stops_working_after_password_change(client, make, auth):
    admin = make.user(Role.PLATFORM_ADMIN)
    headers = auth(admin)
    changed = client.patch(
        f"/api/v1/users/{admin.id}",
        json={"password": "new-password-1", "current_password": "password123"},
        headers=headers,
    )
    assert changed.status_code == 200
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert client.get("/api/v1/auth/me", headers=auth(admin, "new-password-1")).status_code == 200


def test_changing_own_password_needs_the_current_one(client, make, auth):
    user = make.user(Role.PLATFORM_ADMIN)
    response = client.patch(
        f"/api/v1/users/{user.id}",
        json={"password": "new-password-1", "current_password": "wrong"},
        headers=auth(user),
    )
    assert response.status_code == 422
    assert response.json["reason"] == "wrong_password"


def test_token_stops_working_when_user_is_deactivated(client, make, auth):
    group = make.group()
    admin = make.user(Role.GROUP_ADMIN, group=group)
    staff = make.user(Role.STAFF, dealer=make.dealer(group))
    staff_headers = auth(staff)
    assert client.get("/api/v1/auth/me", headers=staff_headers).status_code == 200
    response = client.patch(
        f"/api/v1/users/{staff.id}", json={"active": False}, headers=auth(admin)
    )
    assert response.status_code == 200 and response.json["active"] is False
    assert client.get("/api/v1/auth/me", headers=staff_headers).status_code == 401
    login = client.post(
        "/api/v1/auth/token", json={"email": staff.email, "password": "password123"}
    )
    assert login.status_code == 401


def test_expired_token_is_refused(app, client, make, auth):
    user = make.user(Role.PLATFORM_ADMIN)
    headers = auth(user)
    app.config["TOKEN_TTL_SECONDS"] = -1
    try:
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    finally:
        app.config["TOKEN_TTL_SECONDS"] = 43200


def test_web_login_sets_session_and_logout_clears_it(app, make):
    user = make.user(Role.PLATFORM_ADMIN)
    client = app.test_client()
    page = client.get("/login")
    assert page.status_code == 200
    token = (
        page.get_data(as_text=True)
        .split('name="csrf_token" type="hidden" value="')[1]
        .split('"')[0]
    )
    response = client.post(
        "/login", data={"email": user.email, "password": "password123", "csrf_token": token}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/auth/me").json["email"] == user.email  # session works for reads
    home = client.get("/").get_data(as_text=True)
    csrf = home.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    assert client.get("/").status_code == 302


def test_web_login_without_csrf_token_is_refused(app, make):
    user = make.user(Role.PLATFORM_ADMIN)
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": "password123"})
    assert response.status_code == 400


def test_web_login_with_wrong_password_shows_message(app, make):
    user = make.user(Role.PLATFORM_ADMIN)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"email": user.email, "password": "bad", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Wrong email or password" in response.get_data(as_text=True)


def test_session_cookie_cannot_write_through_the_api(app, make):
    user = make.user(Role.PLATFORM_ADMIN)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post(
        "/login", data={"email": user.email, "password": "password123", "csrf_token": token}
    )
    response = client.post("/api/v1/groups", json={"name": "X", "code": "X"})
    assert response.status_code == 401


# --- web sessions end when they should --------------------------------------------------------


def _signed_in_client(app, user, password: str = "password123"):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"email": user.email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302
    assert client.get("/api/v1/auth/me").status_code == 200
    return client


def _replay(app, client):
    """A second browser carrying a copy of the first one's session cookie."""
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def test_session_cookie_copied_before_sign_out_is_refused_after_it(app, make):
    user = make.user(Role.PLATFORM_ADMIN)
    client = _signed_in_client(app, user)
    copy = _replay(app, client)
    assert copy.get("/api/v1/auth/me").status_code == 200
    home = client.get("/").get_data(as_text=True)
    csrf = home.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    assert copy.get("/api/v1/auth/me").status_code == 401
    assert copy.get("/").status_code == 302


def test_session_ends_when_the_password_changes(app, client, make, auth):
    group = make.group()
    admin = make.user(Role.GROUP_ADMIN, group=group)
    staff = make.user(Role.STAFF, dealer=make.dealer(group))
    session = _signed_in_client(app, staff)
    copy = _replay(app, session)
    changed = client.patch(
        f"/api/v1/users/{staff.id}", json={"password": "new-password-1"}, headers=auth(admin)
    )
    assert changed.status_code == 200
    assert session.get("/api/v1/auth/me").status_code == 401
    assert copy.get("/api/v1/auth/me").status_code == 401
    assert _signed_in_client(app, staff, "new-password-1").get("/").status_code == 302


def test_session_and_token_end_on_deactivation_and_stay_dead_after_reactivation(
    app, client, make, auth
):
    group = make.group()
    admin = make.user(Role.GROUP_ADMIN, group=group)
    staff = make.user(Role.STAFF, dealer=make.dealer(group))
    session = _signed_in_client(app, staff)
    copy = _replay(app, session)
    staff_headers = auth(staff)
    admin_headers = auth(admin)
    off = client.patch(f"/api/v1/users/{staff.id}", json={"active": False}, headers=admin_headers)
    assert off.status_code == 200
    assert session.get("/api/v1/auth/me").status_code == 401
    on = client.patch(f"/api/v1/users/{staff.id}", json={"active": True}, headers=admin_headers)
    assert on.status_code == 200 and on.json["active"] is True
    assert session.get("/api/v1/auth/me").status_code == 401
    assert copy.get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/auth/me", headers=staff_headers).status_code == 401
    assert client.get("/api/v1/auth/me", headers=auth(staff)).status_code == 200


def test_session_cookie_holds_a_random_token_not_the_user_id(app, make, app_ctx):
    from leadshare.auth.models import UserSession
    from leadshare.extensions import db

    user = make.user(Role.PLATFORM_ADMIN)
    _signed_in_client(app, user)
    with app_ctx:
        rows = db.session.query(UserSession).filter_by(user_id=user.id).all()
    assert len(rows) == 1 and rows[0].ended_at is None and len(rows[0].token_hash) == 64
