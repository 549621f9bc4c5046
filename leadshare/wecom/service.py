"""A group's WeCom app and member map: set by its admins, read by the sign-in and the messages.

The app secret is stored encrypted (Fernet, WECOM_ENCRYPTION_KEY) or given in the environment
(WECOM_SECRET_<GROUP CODE>, which wins); it is never answered back. A member is known by the
pair (corp id, userid), since a 上下游 store is a corp of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, select

from ..auth.models import User
from ..auth.scope import is_group_admin_of, require_role, sees_user
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..settings import Settings, WecomSettings
from ..tenancy.models import Group
from ..uow import transactional
from ..vocabulary import Role
from .client import App
from .models import WecomApp, WecomMember

ADMINS = (Role.PLATFORM_ADMIN, Role.GROUP_ADMIN)


def _fernet(settings: WecomSettings) -> Fernet | None:
    if not settings.encryption_key:
        return None
    try:
        return Fernet(settings.encryption_key.encode())
    except ValueError as exc:
        raise Invalid(
            "secret",
            "WECOM_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64 bytes).",
            reason="encryption_key_invalid",
        ) from exc


def env_secret(group: Group, settings: WecomSettings) -> str | None:
    """WECOM_SECRET_<GROUP CODE> (upper case, `-` as `_`), when the operator set one."""
    return settings.secrets.get(group.code.upper().replace("-", "_"))


def secret_source(app: WecomApp, settings: WecomSettings) -> str | None:
    """Where the app's secret comes from: `environment`, `database`, or None (not set)."""
    if env_secret(app.group, settings):
        return "environment"
    return "database" if app.secret_encrypted else None


def _admin_group(actor: User, group_id: int) -> Group:
    require_role(actor, *ADMINS)
    group = db.session.get(Group, group_id)
    if group is None or not is_group_admin_of(actor, group.id):
        raise NotFound("No such group.")
    return group


def get_app(actor: User, group_id: int) -> WecomApp:
    """The group's WeCom app, for its admins; 404 `not_set` until one is configured."""
    group = _admin_group(actor, group_id)
    app = db.session.scalar(select(WecomApp).where(WecomApp.group_id == group.id))
    if app is None:
        raise NotFound("This group has no WeCom app yet.", reason="not_set")
    return app


@transactional
def set_app(actor: User, group_id: int, data: Mapping[str, Any], settings: Settings) -> WecomApp:
    """Create or replace the group's WeCom app; a given secret is stored encrypted."""
    group = _admin_group(actor, group_id)
    app = db.session.scalar(select(WecomApp).where(WecomApp.group_id == group.id))
    if app is None:
        app = WecomApp(group=group)
        db.session.add(app)
    app.corp_id, app.agent_id = data["corp_id"], data["agent_id"]
    if data.get("secret"):
        fernet = _fernet(settings.wecom)
        if fernet is None:
            raise Invalid(
                "secret",
                "Set WECOM_ENCRYPTION_KEY to store a secret, or give it in the environment as "
                f"WECOM_SECRET_{group.code.upper()}.",
                reason="encryption_key_missing",
            )
        app.secret_encrypted = fernet.encrypt(data["secret"].encode()).decode()
    db.session.flush()
    return app


@transactional
def remove_app(actor: User, group_id: int) -> None:
    """The group stops signing in through WeCom; its member map stays for a later app."""
    db.session.delete(get_app(actor, group_id))


def app_credentials(group_id: int, settings: WecomSettings) -> App | None:
    """The group's app with its secret in clear, for calling WeCom; None when not usable."""
    app = db.session.scalar(select(WecomApp).where(WecomApp.group_id == group_id))
    if app is None:
        return None
    secret = env_secret(app.group, settings)
    if secret is None and app.secret_encrypted:
        fernet = _fernet(settings)
        try:
            secret = fernet.decrypt(app.secret_encrypted.encode()).decode() if fernet else None
        except InvalidToken:  # the key was changed: the secret must be given again
            secret = None
    return App(corp_id=app.corp_id, agent_id=app.agent_id, secret=secret) if secret else None


def only_group_with_app() -> int | None:
    """The group of the one configured WeCom app, when there is exactly one."""
    groups = db.session.scalars(select(WecomApp.group_id).limit(2)).all()
    return groups[0] if len(groups) == 1 else None


def group_by_code(code: str) -> int | None:
    return db.session.scalar(select(Group.id).where(Group.code == code))


# --- members ------------------------------------------------------------------------------


def _admin_user(actor: User, user_id: int) -> User:
    require_role(actor, *ADMINS)
    user = db.session.get(User, user_id)
    if not sees_user(actor, user):
        raise NotFound("No such user.")
    return user


@transactional
def set_member(actor: User, user_id: int, data: Mapping[str, Any]) -> WecomMember:
    """Link a user to a WeCom member (corp id, userid); the corp defaults to the group's app."""
    user = _admin_user(actor, user_id)
    corp_id = data.get("corp_id")
    if not corp_id:
        corp_id = db.session.scalar(
            select(WecomApp.corp_id).where(WecomApp.group_id == user.group_id)
        )
    if not corp_id:
        raise Invalid(
            "corp_id",
            "Give the member's corp id: the user's group has no WeCom app yet.",
            reason="corp_id_required",
        )
    taken = db.session.scalar(
        select(WecomMember.user_id).where(
            WecomMember.corp_id == corp_id, WecomMember.userid == data["userid"]
        )
    )
    if taken is not None and taken != user.id:
        raise Conflict(
            "Another user is already linked to this WeCom member.", reason="wecom_userid_taken"
        )
    member = db.session.scalar(select(WecomMember).where(WecomMember.user_id == user.id))
    if member is None:
        member = WecomMember(user_id=user.id)
        db.session.add(member)
    member.corp_id, member.userid = corp_id, data["userid"]
    db.session.flush()
    return member


def get_member(actor: User, user_id: int) -> WecomMember:
    user = _admin_user(actor, user_id)
    member = db.session.scalar(select(WecomMember).where(WecomMember.user_id == user.id))
    if member is None:
        raise NotFound("This user is not linked to WeCom.", reason="not_set")
    return member


@transactional
def remove_member(actor: User, user_id: int) -> None:
    user = _admin_user(actor, user_id)
    db.session.execute(delete(WecomMember).where(WecomMember.user_id == user.id))


def user_of_member(corp_id: str, userid: str) -> User | None:
    """The active leadshare user linked to this WeCom member, or None."""
    user = db.session.scalar(
        select(User)
        .join(WecomMember, WecomMember.user_id == User.id)
        .where(WecomMember.corp_id == corp_id, WecomMember.userid == userid)
    )
    return user if user is not None and user.is_active_user else None
