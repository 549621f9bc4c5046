"""Account schemas: users and their roles, and the sign-in that trades a password for a token."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, fields, validate, validates_schema

from ..schemas import InputSchema, PageArgsSchema, UTCDateTime
from ..vocabulary import DEALER_ROLES, Role

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
    must_change_password = fields.Boolean()
    wecom_userid = fields.Function(
        lambda user: user.wecom_member.userid if user.wecom_member else None, allow_none=True
    )
    wecom_corp_id = fields.Function(
        lambda user: user.wecom_member.corp_id if user.wecom_member else None, allow_none=True
    )
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


class PasswordResetSchema(ma.Schema):
    user_id = fields.Integer()
    temporary_password = fields.String(
        metadata={"description": "shown once; the user must replace it at the next sign-in"}
    )


class TokenRequestSchema(InputSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))


class TokenSchema(ma.Schema):
    token = fields.String()
    expires_at = UTCDateTime()


OPTIONAL_WECOM_ID = validate.Regexp(
    r"^([A-Za-z0-9_.@-]{1,64})?$", error="Use 1 to 64 letters, digits, _.@-."
)


class UserEditSchema(InputSchema):
    """An admin's edit of a user on the users page (tenancy/user_edit.py): empty WeCom userid
    unlinks the member."""

    name = fields.String(validate=validate.Length(min=1, max=100))
    role = fields.String(
        required=True, validate=validate.OneOf([Role.STAFF, Role.MANAGER, Role.GROUP_ADMIN])
    )
    dealer_id = fields.Integer(allow_none=True)
    is_active = fields.Boolean()
    wecom_userid = fields.String(validate=OPTIONAL_WECOM_ID)
    wecom_corp_id = fields.String(validate=OPTIONAL_WECOM_ID)

    @validates_schema
    def store_roles_need_a_store(self, data, **kwargs):
        if data.get("role") in DEALER_ROLES and data.get("dealer_id") is None:
            raise ValidationError("Choose a store.", "dealer_id")
