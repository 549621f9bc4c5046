"""WeCom web sign-in (OAuth, snsapi_base): the authorize URL, the signed state, the callback.

A page opened inside WeCom without a session is sent to WeCom's authorize URL with a `state`
signed with SECRET_KEY that carries the group, the page to return to and a nonce kept in the
browser's session (so a callback cannot be replayed into another browser). The callback trades
the code for the member (outside any transaction), maps (corp id, userid) to a user, and signs
them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from ..auth.models import User
from ..extensions import db
from ..leads.models import Lead
from ..settings import Settings
from . import service
from .client import CODE_INVALID, WecomClient, WecomError, WecomUnavailable
from .models import WecomApp

STATE_SALT = "leadshare.wecom-state.v1"
STATE_MAX_AGE_SECONDS = 600
USER_AGENT_MARK = "wxwork"
"""WeCom's in-app browser names itself in its user agent (`... wxwork/4.1.0 ...`)."""


class SignInRefused(Exception):
    """Why a WeCom sign-in did not happen, for the error page: a reason and an HTTP status."""

    def __init__(self, reason: str, status: int, errcode: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.errcode = errcode


@dataclass(frozen=True)
class State:
    group_id: int
    target: str
    nonce: str


def in_wecom(user_agent: str | None) -> bool:
    return USER_AGENT_MARK in (user_agent or "").lower()


def group_for_page(endpoint: str | None, view_args: dict, hinted: str | None) -> int | None:
    """Whose WeCom app signs in a visitor of this page.

    A lead page (the link in every notification): the lead's group. Otherwise the group of
    the last WeCom sign-in in this browser (`hinted`), else the one group with an app.
    """
    if endpoint == "web.lead" and view_args.get("lead_id"):
        group_id = db.session.scalar(
            select(Lead.group_id).where(Lead.public_id == str(view_args["lead_id"]))
        )
        if group_id is not None and has_app(group_id):
            return group_id
    if hinted and hinted.isdigit() and has_app(int(hinted)):
        return int(hinted)
    return service.only_group_with_app()


def has_app(group_id: int) -> bool:
    return db.session.scalar(select(WecomApp.id).where(WecomApp.group_id == group_id)) is not None


def authorize_url(
    group_id: int, target: str, nonce: str, callback_url: str, settings: Settings
) -> str | None:
    """WeCom's authorize URL for this group's app, or None when the group has none."""
    app = db.session.scalar(select(WecomApp).where(WecomApp.group_id == group_id))
    if app is None:
        return None
    serializer = URLSafeTimedSerializer(settings.secret_key, salt=STATE_SALT)
    state = serializer.dumps({"g": group_id, "t": target, "n": nonce})
    query = urlencode(
        {
            "appid": app.corp_id,
            "redirect_uri": callback_url,
            "response_type": "code",
            "scope": "snsapi_base",
            "state": state,
            "agentid": app.agent_id,
        }
    )
    return f"{settings.wecom.authorize_url}?{query}#wechat_redirect"


def read_state(state: str | None, nonce: str | None, settings: Settings) -> State:
    """The signed state of a callback; refused when forged, too old or from another browser."""
    serializer = URLSafeTimedSerializer(settings.secret_key, salt=STATE_SALT)
    try:
        data = serializer.loads(state or "", max_age=STATE_MAX_AGE_SECONDS)
    except SignatureExpired as exc:
        raise SignInRefused("state_expired", 400) from exc
    except BadSignature as exc:
        raise SignInRefused("bad_state", 400) from exc
    if not isinstance(data, dict) or not nonce or data.get("n") != nonce:
        raise SignInRefused("bad_state", 400)
    return State(group_id=int(data["g"]), target=str(data["t"]), nonce=nonce)


def member_user(state: State, code: str | None, settings: Settings) -> User:
    """The leadshare user the callback's code belongs to (WeCom is asked with no transaction).

    Refusals: `missing_code`, `not_configured`, `bad_code`, `not_a_member` (WeCom knows the
    visitor but the corp has no such member), `unknown_member` (no user is linked to it),
    `wecom_error` (any other errcode) and `wecom_unavailable`.
    """
    if not code:
        raise SignInRefused("missing_code", 400)
    app = service.app_credentials(state.group_id, settings.wecom)
    if app is None:
        raise SignInRefused("not_configured", 503)
    client = WecomClient(settings.wecom.api_base, settings.wecom.timeout)
    try:
        member = client.member_of_code(app, code)
    except WecomError as exc:
        if exc.errcode in CODE_INVALID:
            raise SignInRefused("bad_code", 400, exc.errcode) from exc
        raise SignInRefused("wecom_error", 502, exc.errcode) from exc
    except WecomUnavailable as exc:
        raise SignInRefused("wecom_unavailable", 503) from exc
    if member is None:
        raise SignInRefused("not_a_member", 403)
    user = service.user_of_member(member.corp_id, member.userid)
    if user is None:
        raise SignInRefused("unknown_member", 403)
    return user
