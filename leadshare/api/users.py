"""Users: one role each, attached to a dealer, a group or an OEM."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth import passwords
from ..auth.current import current_actor
from ..auth.schemas import (
    PasswordResetSchema,
    UserCreateSchema,
    UserQueryArgsSchema,
    UserSchema,
    UserUpdateSchema,
)
from ..schemas import page_of
from ..settings import current_settings
from ..tenancy import service
from ..wecom import service as wecom
from ..wecom.schemas import WecomMemberSchema, WecomMemberWriteSchema
from .common import filtered_page
from .openapi import refusals

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Users and roles")


@blp.route("")
class Users(MethodView):
    @blp.arguments(UserQueryArgsSchema, location="query")
    @blp.response(200, page_of(UserSchema))
    def get(self, args):
        """List users in your scope."""
        return filtered_page(service.list_users, args)

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    @refusals(blp, {409: "A user has this email; reason: email_taken."})
    def post(self, data):
        """Create a user."""
        return service.create_user(current_actor(), data, current_settings())


@blp.route("/<int:user_id>")
class UserById(MethodView):
    @blp.response(200, UserSchema)
    def get(self, user_id):
        """One user."""
        return service.get_user(current_actor(), user_id)

    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, data, user_id):
        """Change a password, a name, or (admins) deactivate a user."""
        return service.update_user(current_actor(), user_id, data, current_settings())


@blp.route("/<int:user_id>/wecom")
class UserWecom(MethodView):
    @blp.response(200, WecomMemberSchema)
    @refusals(blp, {404: "No such user, or not linked to WeCom; reasons: not_found, not_set."})
    def get(self, user_id):
        """The WeCom member (corp id, userid) a user signs in as."""
        return wecom.get_member(current_actor(), user_id)

    @blp.arguments(WecomMemberWriteSchema)
    @blp.response(200, WecomMemberSchema)
    @refusals(
        blp,
        {
            409: "Another user is linked to this member; reason: wecom_userid_taken.",
            422: "Invalid fields, or no corp id and no group app; reasons: validation_error, "
            "corp_id_required.",
        },
    )
    def put(self, data, user_id):
        """Link a user to a WeCom member: `userid`, and `corp_id` for a 上下游 store's corp."""
        return wecom.set_member(current_actor(), user_id, data)

    @blp.response(204)
    def delete(self, user_id):
        """Unlink a user from WeCom."""
        wecom.remove_member(current_actor(), user_id)


@blp.route("/<int:user_id>/password-reset")
class UserPasswordReset(MethodView):
    @blp.response(200, PasswordResetSchema)
    @refusals(blp, {403: "Not an admin, or yourself; reasons: role_not_allowed, cannot_reset_self"})
    def post(self, user_id):
        """Reset a user's password to a temporary one that must be changed at the next sign-in."""
        user, password = passwords.reset_password(current_actor(), user_id, current_settings())
        return {"user_id": user.id, "temporary_password": password}
