"""Users: one role each, attached to a dealer, a group or an OEM."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..auth.schemas import UserCreateSchema, UserQueryArgsSchema, UserSchema, UserUpdateSchema
from ..schemas import page_of
from ..settings import current_settings
from ..tenancy import service
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
