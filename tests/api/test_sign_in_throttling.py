"""Sign-in throttling through the API and the /login page: 429 `too_many_attempts`, Retry-After."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_migrate import upgrade

from leadshare.app import MIGRATIONS_DIR, create_app
from leadshare.auth.models import LoginFailure, User
from leadshare.extensions import db
from leadshare.vocabulary import Role

from .. import TEST_SECRET_KEY
from ..integration.scratch import scratch_database

WRONG = "wrong-password"


def _token(client, email: str, password: str, address: str = "203.0.113.7"):
    return client.post(
        "/api/v1/auth/token",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _fail(client, email: str, times: int, address: str = "203.0.113.7") -> None:
    for _ in range(times):
        assert _token(client, email, WRONG, address).status_code == 401


def _time_passes(app, seconds: int) -> None:
    """Move every recorded failure into the past, as if `seconds` had gone by."""
    with app.app_context():
        for row in db.session.scalars(db.select(LoginFailure)):
            row.occurred_at -= timedelta(seconds=seconds)
        db.session.commit()


def _refused(response, at_least: int, at_most: int) -> None:
    assert response.status_code == 429, response.json
    assert response.json["reason"] == "too_many_attempts"
    assert at_least <= int(response.headers["Retry-After"]) <= at_most
    assert response.json["retry_after"] == int(response.headers["Retry-After"])


def test_five_failures_make_the_pair_wait_a_minute_even_with_the_right_password(client, make):
    user = make.user(Role.PLATFORM_ADMIN)
    _fail(client, user.email, 4)
    assert _token(client, user.email, WRONG).status_code == 401  # the fifth is still checked
    _refused(_token(client, user.email, "password123"), 59, 60)
    _refused(_token(client, user.email, WRONG), 59, 60)


def test_each_further_failure_doubles_the_delay_up_to_an_hour(app, client, make):
    user = make.user(Role.PLATFORM_ADMIN)
    _fail(client, user.email, 5)
    waited = 60
    for expected in (120, 240, 480, 960, 1920, 3600, 3600):
        _time_passes(app, waited + 1)  # the delay is over, the streak goes on
        waited = expected
        assert _token(client, user.email, WRONG).status_code == 401
        _refused(_token(client, user.email, "password123"), expected - 1, expected)


def test_a_streak_ends_after_quiet_and_the_right_password_gets_in_after_the_delay(
    app, client, make
):
    user = make.user(Role.PLATFORM_ADMIN)
    _fail(client, user.email, 5)
    _time_passes(app, 61)
    assert _token(client, user.email, "password123").status_code == 200
    _fail(client, user.email, 4)  # the success cleared the pair's count
    _time_passes(app, 16 * 60)
    _fail(client, user.email, 4)  # quiet for longer than the window: counted from one again
    assert _token(client, user.email, WRONG).status_code == 401
    _refused(_token(client, user.email, WRONG), 59, 60)


def test_successful_sign_ins_are_never_counted(client, make):
    user = make.user(Role.PLATFORM_ADMIN)
    for _ in range(12):
        assert _token(client, user.email, "password123").status_code == 200


def test_the_delay_holds_only_for_that_account_and_address(client, make):
    user = make.user(Role.PLATFORM_ADMIN)
    other = make.user(Role.PLATFORM_ADMIN)
    _fail(client, user.email, 5)
    assert _token(client, user.email, "password123", address="198.51.100.1").status_code == 200
    assert _token(client, other.email, "password123").status_code == 200


def test_fifty_failures_for_one_account_from_anywhere_refuse_it_for_the_hour(app, client, make):
    user = make.user(Role.PLATFORM_ADMIN)
    for n in range(50):
        _fail(client, user.email, 1, address=f"198.51.100.{n}")
    # the hour runs from the first failure: fifty requests on a busy machine may take seconds
    _refused(_token(client, user.email, "password123", address="192.0.2.1"), 3590, 3600)
    _time_passes(app, 1800)
    _refused(_token(client, user.email, "password123", address="192.0.2.1"), 1790, 1800)
    _time_passes(app, 1801)
    assert _token(client, user.email, "password123", address="192.0.2.1").status_code == 200


def test_a_hundred_failures_from_one_address_refuse_it_for_every_account(client, make):
    user = make.user(Role.PLATFORM_ADMIN)
    for n in range(100):
        _fail(client, f"ghost{n}@example.com", 1)
    _refused(_token(client, user.email, "password123"), 3590, 3600)
    assert _token(client, user.email, "password123", address="192.0.2.1").status_code == 200


def test_unknown_and_deactivated_accounts_are_throttled_like_any_other(client, make):
    gone = make.user(Role.PLATFORM_ADMIN, is_active_user=False)
    for email in ("nobody@example.com", gone.email):
        _fail(client, email, 5)
        _refused(_token(client, email, WRONG), 59, 60)


def test_failures_are_kept_as_hashes_and_old_ones_are_pruned(app, client, make):
    user = make.user(Role.PLATFORM_ADMIN)
    _fail(client, user.email, 2)
    _time_passes(app, 2 * 3600)
    _fail(client, user.email, 1)
    with app.app_context():
        rows = db.session.scalars(db.select(LoginFailure)).all()
    assert len(rows) == 1
    assert rows[0].address == "203.0.113.7" and rows[0].streak == 1
    assert user.email not in rows[0].account_hash and len(rows[0].account_hash) == 64


def test_the_token_operation_documents_its_429(client):
    operation = client.get("/api/v1/openapi.json").json["paths"]["/api/v1/auth/token"]["post"]
    assert "Retry-After" in operation["responses"]["429"]["headers"]


# --- the /login page --------------------------------------------------------------------------


def _login(client, email: str, password: str):
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )


@pytest.mark.parametrize(
    ("lang", "text"),
    [("en", "Too many failed sign-ins. Try again in 1 minute."), ("zh_Hans_CN", "1 分钟后再试")],
)
def test_login_page_says_when_to_try_again(app, make, lang, text):
    user = make.user(Role.PLATFORM_ADMIN)
    client = app.test_client()
    client.post("/language", data={"lang": lang})
    for _ in range(5):
        assert _login(client, user.email, WRONG).status_code == 401
    refused = _login(client, user.email, "password123")
    assert refused.status_code == 429
    assert 59 <= int(refused.headers["Retry-After"]) <= 60
    assert text in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not signed in


def test_api_and_login_page_count_the_same_failures(app, client, make):
    user = make.user(Role.PLATFORM_ADMIN)
    _fail(client, user.email, 5, address="203.0.113.9")
    assert _login(app.test_client(), user.email, "password123").status_code == 429


# --- behind a proxy ---------------------------------------------------------------------------


@pytest.mark.no_rollback
def test_behind_trusted_proxies_the_forwarded_address_is_the_client(tmp_path):
    with scratch_database(tmp_path, "proxies") as url:
        app = create_app(
            {
                "SECRET_KEY": TEST_SECRET_KEY,
                "SQLALCHEMY_DATABASE_URI": url,
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                "TRUSTED_PROXIES": 1,
            }
        )
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR))
            user = User(email="proxied@example.com", role=str(Role.PLATFORM_ADMIN))
            user.set_password("password123", app.config["PASSWORD_HASH_METHOD"])
            db.session.add(user)
            db.session.commit()
        client = app.test_client()

        def sign_in(password: str, forwarded_for: str) -> int:
            return client.post(
                "/api/v1/auth/token",
                json={"email": "proxied@example.com", "password": password},
                headers={"X-Forwarded-For": forwarded_for},
            ).status_code

        try:
            assert [sign_in(WRONG, "198.51.100.5") for _ in range(5)] == [401] * 5
            assert sign_in("password123", "198.51.100.5") == 429
            assert sign_in("password123", "198.51.100.6") == 200
        finally:
            with app.app_context():
                db.engine.dispose()
