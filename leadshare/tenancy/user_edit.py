"""An admin edits a user in one go: role and store, name, active, and the WeCom member link.

One unit of work: a refusal of any part (an unknown store, a WeCom userid another user has)
changes nothing. A user whose role or store changed, or who was deactivated, is signed out
everywhere (what they may do changed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..auth.models import User
from ..auth.scope import require_role
from ..auth.sessions import end_every_session
from ..errors import Forbidden
from ..settings import Settings
from ..uow import unit_of_work
from ..vocabulary import DEALER_ROLES, Role
from ..wecom import service as wecom
from .service import ADMINS, _place_user, get_user, update_user

GROUP_ROLES = (*DEALER_ROLES, Role.GROUP_ADMIN)
"""The roles a group admin gives and takes: staff, managers and group admins."""


def reassign(actor: User, user: User, role: str, dealer_id: int | None) -> bool:
    """Move the user to `role` (at store `dealer_id` for store roles); True when it changed."""
    if user.id == actor.id:
        raise Forbidden("You cannot change your own role or store.", reason="cannot_change_self")
    if Role(user.role) not in GROUP_ROLES or Role(role) not in GROUP_ROLES:
        raise Forbidden(
            "A user's role can change among staff, manager and group admin only.",
            reason="role_not_allowed",
        )
    before = (user.role, user.dealer_id)
    data: dict[str, Any] = {"role": role, "dealer_id": dealer_id, "group_id": user.group_id}
    user.dealer_id = None
    _place_user(actor, user, data)  # checks the store is in the actor's scope
    user.role = role
    return (user.role, user.dealer_id) != before


def edit_user(actor: User, user_id: int, data: Mapping[str, Any], settings: Settings) -> User:
    """Apply the admin's edit: `role` and `dealer_id`, `name`, `is_active`, and `wecom_userid`
    (with an optional `wecom_corp_id`; empty unlinks)."""
    with unit_of_work():
        require_role(actor, *ADMINS)
        user = get_user(actor, user_id)
        moved = False
        if "role" in data and (data["role"], data.get("dealer_id")) != (
            user.role,
            user.dealer_id,
        ):
            moved = reassign(actor, user, data["role"], data.get("dealer_id"))
        changes = {k: data[k] for k in ("name", "is_active") if k in data}
        if changes.get("is_active") == user.is_active_user:
            changes.pop("is_active")
        if changes:
            update_user(actor, user.id, changes, settings)
        if "wecom_userid" in data:
            member = user.wecom_member
            userid, corp_id = data["wecom_userid"], data.get("wecom_corp_id")
            if not userid and member is not None:
                wecom.remove_member(actor, user.id)
            elif userid and (
                member is None
                or (member.userid, member.corp_id) != (userid, corp_id or member.corp_id)
            ):
                wecom.set_member(actor, user.id, {"userid": userid, "corp_id": corp_id})
        if moved:
            end_every_session(user)
        return user
