"""Account services called directly: creating users in scope, a password change ending every
session and token, and sign-in throttling with its failures committed although refused."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from leadshare.auth.models import LoginFailure, User
from leadshare.auth.service import authenticate
from leadshare.auth.sessions import start_session, user_of_session
from leadshare.auth.tokens import issue_token, user_from_token
from leadshare.errors import Conflict, Forbidden, Invalid, TooManyRequests, Unauthorized
from leadshare.extensions import db
from leadshare.tenancy import service
from leadshare.uow import unit_of_work
from leadshare.vocabulary import Role

PASSWORD = "password123"
ADDRESS = "203.0.113.9"


def failures() -> int:
    return db.session.scalar(select(func.count()).select_from(LoginFailure))


def test_staff_created_for_a_store_belong_to_its_group(ctx, make, settings):
    store = make.dealer(make.group())
    admin = make.user(Role.GROUP_ADMIN, group_id=store.group_id)
    data = {"email": " New.Staff@Example.com ", "password": "s3cret-pass", "role": "staff"}
    user = service.create_user(admin, {**data, "dealer_id": store.id}, settings)
    assert (user.email, user.dealer_id, user.group_id) == (
        "new.staff@example.com",
        store.id,
        store.group_id,
    )
    assert user.check_password("s3cret-pass") and user.password_hash.startswith("pbkdf2")


def test_a_group_admin_may_not_create_a_platform_admin(ctx, make, settings):
    admin = make.user(Role.GROUP_ADMIN, group=make.group())
    data = {"email": "boss@example.com", "password": "s3cret-pass", "role": "platform_admin"}
    with pytest.raises(Forbidden) as refused:
        service.create_user(admin, data, settings)
    assert refused.value.reason == "role_not_allowed"


def test_a_store_of_another_group_is_an_unknown_dealer(ctx, make, settings):
    admin = make.user(Role.GROUP_ADMIN, group=make.group())
    foreign = make.dealer(make.group())
    data = {"email": "x@example.com", "password": "s3cret-pass", "role": "staff"}
    with pytest.raises(Invalid) as refused:
        service.create_user(admin, {**data, "dealer_id": foreign.id}, settings)
    assert refused.value.reason == "unknown_dealer"


def test_an_email_is_taken_whatever_its_case(ctx, make, settings):
    existing = make.user(Role.STAFF, dealer=make.dealer(make.group()))
    data = {"email": existing.email.upper(), "password": "s3cret-pass", "role": "platform_admin"}
    with pytest.raises(Conflict) as refused:
        service.create_user(service.console_operator(), data, settings)
    assert refused.value.reason == "email_taken"


def test_the_console_operator_creates_the_first_platform_admin(ctx, settings):
    data = {"email": "root@example.com", "password": "s3cret-pass", "role": "platform_admin"}
    user = service.create_user(service.console_operator(), data, settings)
    assert db.session.scalar(select(User.role).where(User.id == user.id)) == "platform_admin"
    assert db.session.scalar(select(func.count()).where(User.email == "console")) == 0


def test_a_password_change_ends_every_session_and_token(ctx, make, settings):
    user = make.user(Role.STAFF, dealer=make.dealer(make.group()))
    session_token = start_session(db.session.get(User, user.id), settings.sessions.lifetime(False))
    token, _ = issue_token(user, settings.secret_key, settings.token_ttl_seconds)
    assert user_of_session(session_token) is not None
    assert user_from_token(token, settings.secret_key, settings.token_ttl_seconds) is not None
    change = {"password": "n3w-password", "current_password": PASSWORD}
    service.update_user(user, user.id, change, settings)
    assert user_of_session(session_token) is None
    assert user_from_token(token, settings.secret_key, settings.token_ttl_seconds) is None
    assert db.session.get(User, user.id).check_password("n3w-password")


def test_a_wrong_current_password_changes_nothing(ctx, make, settings):
    user = make.user(Role.STAFF, dealer=make.dealer(make.group()))
    change = {"password": "n3w-password", "current_password": "guess"}
    with pytest.raises(Invalid) as refused:
        service.update_user(user, user.id, change, settings)
    assert refused.value.reason == "wrong_password"
    assert db.session.get(User, user.id).check_password(PASSWORD)


def test_a_refused_sign_in_is_counted_and_the_count_is_kept(ctx, make, settings):
    user = make.user(Role.STAFF, dealer=make.dealer(make.group()))
    with pytest.raises(Unauthorized) as refused:
        authenticate(user.email, "wrong-password", ADDRESS, settings)
    assert refused.value.reason == "invalid_credentials"
    db.session.rollback()  # what the request's end does: the failure was committed before
    assert failures() == 1


def test_after_the_pair_limit_even_the_right_password_waits(ctx, make, settings):
    strict = replace(settings, login=replace(settings.login, pair_max_failures=2))
    user = make.user(Role.STAFF, dealer=make.dealer(make.group()))
    for _ in range(2):
        with pytest.raises(Unauthorized):
            authenticate(user.email, "wrong-password", ADDRESS, strict)
    with pytest.raises(TooManyRequests) as refused:
        authenticate(user.email, PASSWORD, ADDRESS, strict)
    assert refused.value.reason == "too_many_attempts" and refused.value.retry_after > 0
    assert authenticate(user.email, PASSWORD, "198.51.100.7", strict).id == user.id


def test_an_unknown_email_is_refused_like_a_wrong_password(ctx, settings):
    with pytest.raises(Unauthorized) as refused:
        authenticate("nobody@example.com", "whatever-it-is", ADDRESS, settings)
    assert refused.value.message == "Wrong email or password."
    assert failures() == 1


def test_a_sign_in_clears_the_pairs_failures(ctx, make, settings):
    user = make.user(Role.STAFF, dealer=make.dealer(make.group()))
    with pytest.raises(Unauthorized):
        authenticate(user.email, "wrong-password", ADDRESS, settings)
    assert authenticate(f" {user.email.upper()} ", PASSWORD, ADDRESS, settings).id == user.id
    assert failures() == 0


def test_a_sign_in_inside_another_unit_of_work_is_refused(ctx, make, settings):
    user = make.user(Role.STAFF, dealer=make.dealer(make.group()))
    with pytest.raises(RuntimeError), unit_of_work():
        authenticate(user.email, "wrong-password", ADDRESS, settings)
