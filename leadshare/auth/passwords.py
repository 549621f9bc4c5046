"""Changing your own password, and a group admin's reset to a temporary password.

Both end every session and token of the user (auth/sessions.py). A reset's temporary password
must be replaced at the next sign-in: the pages send the user to the change-password page, and
the API refuses a token until then.
"""

from __future__ import annotations

import secrets

from ..errors import Forbidden, Invalid, NotFound
from ..extensions import db
from ..settings import Settings
from ..uow import transactional
from ..vocabulary import Role
from .models import User
from .scope import is_group_admin_of, require_role, sees_user
from .sessions import end_every_session

TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read out over the phone
TEMPORARY_LENGTH = 12


def temporary_password() -> str:
    return "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(TEMPORARY_LENGTH))


@transactional
def change_own_password(user: User, current: str, new: str, settings: Settings) -> User:
    """The signed-in user replaces their password (also a temporary one); every session ends."""
    user = db.session.get(User, user.id)
    if not user.check_password(current or ""):
        raise Invalid("current_password", "The current password is wrong.", reason="wrong_password")
    if current == new:
        raise Invalid("password", "Choose a new password.", reason="same_password")
    user.set_password(new, settings.password_hash_method)
    user.must_change_password = False
    end_every_session(user)
    return user


def user_to_reset(actor: User, user_id: int) -> User:
    """The user whose password the actor may reset: 404 outside scope, 403 for yourself."""
    require_role(actor, Role.PLATFORM_ADMIN, Role.GROUP_ADMIN)
    user = db.session.get(User, user_id)
    if not sees_user(actor, user):
        raise NotFound("No such user.")
    if user.id == actor.id:
        raise Forbidden(
            "Change your own password on the change-password page.", reason="cannot_reset_self"
        )
    if not (actor.role == Role.PLATFORM_ADMIN or is_group_admin_of(actor, user.group_id)):
        raise NotFound("No such user.")
    return user


@transactional
def reset_password(actor: User, user_id: int, settings: Settings) -> tuple[User, str]:
    """An admin of the user's group gives it a temporary password, shown once.

    The user's sessions and tokens end, and the temporary password must be changed at the next
    sign-in. Outside the actor's scope: 404; yourself: 403 (change your own instead).
    """
    user = user_to_reset(actor, user_id)
    password = temporary_password()
    user.set_password(password, settings.password_hash_method)
    user.must_change_password = True
    end_every_session(user)
    return user, password
