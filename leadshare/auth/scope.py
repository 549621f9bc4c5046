"""Scope rules of SPEC section 1: outside your scope is 404, a role that may not act is 403."""

from __future__ import annotations

from ..errors import Forbidden
from ..models import Role, User


def require_role(actor: User, *roles: Role) -> None:
    """Refuse a role that may never take this action, whatever the object."""
    if actor.role not in roles:
        raise Forbidden(
            f"A {actor.role} may not do this.", reason="role_not_allowed", role=actor.role
        )


def sees_group(actor: User, group_id: int | None) -> bool:
    """Platform admins see every group; group admins and dealer staff see their own."""
    if actor.role == Role.PLATFORM_ADMIN:
        return True
    return group_id is not None and actor.group_id == group_id


def is_group_admin_of(actor: User, group_id: int | None) -> bool:
    return actor.role == Role.PLATFORM_ADMIN or (
        actor.role == Role.GROUP_ADMIN and actor.group_id == group_id
    )
