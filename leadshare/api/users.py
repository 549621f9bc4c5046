"""Users: one role each, attached to a dealer, a group or an OEM."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError, fields, validate, validates_schema

from ..auth.current import current_actor
from ..schemas import InputSchema, PageArgsSchema, UTCDateTime, page_of
from ..tenancy import service
from ..vocabulary import DEALER_ROLES, Role
from .common import filtered_page
from .openapi import refusals

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Users and roles")

PASSWORD = validate.Length(min=8, max=200, error="Use 8 to 200 characters.")


class UserSchema(ma.Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String(allow_none=True)
    role = fields.String()
    dealer_id = fields.Integer(allow_none=True)
    group_id = fields.Integer(allow_none=True)
    oem_id = fields.Integer(allow_none=True)
    active = fields.Boolean(attribute="is_active_user")
    created_at = UTCDateTime()


class UserCreateSchema(InputSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
    name = fields.String(validate=validate.Length(min=1, max=100))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    dealer_id = fields.Integer()
    group_id = fields.Integer()
    oem_id = fields.Integer()

    @validates_schema
    def role_needs_its_place(self, data, **kwargs):
        needs = {Role.GROUP_ADMIN: "group_id", Role.OEM_AUDITOR: "oem_id"}
        needs.update({r: "dealer_id" for r in DEALER_ROLES})
        field = needs.get(data.get("role"))
        if field and data.get(field) is None:
            raise ValidationError(f"A {data['role']} needs a {field}.", field)


class UserUpdateSchema(InputSchema):
    password = fields.String(load_only=True, validate=PASSWORD)
    current_password = fields.String(load_only=True)
    name = fields.String(validate=validate.Length(min=1, max=100))
    is_active = fields.Boolean(data_key="active")


class UserQueryArgsSchema(PageArgsSchema):
    role = fields.String(validate=validate.OneOf([r.value for r in Role]))
    dealer_id = fields.Integer()


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
        return service.create_user(current_actor(), data)


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
        return service.update_user(current_actor(), user_id, data)
