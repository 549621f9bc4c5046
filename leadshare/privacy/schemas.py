"""What a privacy request may carry, and how the access log, alerts and an export are shown."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, fields, validate, validates_schema

from ..schemas import InputSchema, QueryArgsSchema, UTCDateTime, format_arg, lang_arg
from .admin_log import CHANGE_KINDS

REFERENCE = validate.Length(min=1, max=100)


class CustomerArgsMixin:
    phone = fields.String(validate=validate.Length(min=1, max=40))
    wechat_id = fields.String(validate=validate.Length(min=1, max=100))
    reference = fields.String(
        required=True,
        validate=REFERENCE,
        metadata={"description": "The customer request's reference (ticket, letter number)."},
    )
    group_id = fields.Integer(metadata={"description": "Platform admins: the request's group."})

    @validates_schema
    def names_the_customer(self, data, **kwargs):
        if not data.get("phone") and not data.get("wechat_id"):
            raise ValidationError("Give the customer's phone or WeChat ID.", "phone")


class CustomerQueryArgsSchema(CustomerArgsMixin, QueryArgsSchema):
    """Find or export a customer: ?phone=...&reference=..."""


class ErasureSchema(CustomerArgsMixin, InputSchema):
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "Why the data is erased (recorded in the trail)."},
    )


class CustomerLeadSchema(ma.Schema):
    id = fields.String()
    status = fields.String()
    brand = fields.String()
    created_at = UTCDateTime()
    erased_at = UTCDateTime(allow_none=True)


class CustomerLeadsSchema(ma.Schema):
    leads = fields.List(fields.Nested(CustomerLeadSchema))


class ExportSchema(ma.Schema):
    reference = fields.String()
    exported_at = UTCDateTime()
    customer = fields.Dict()
    leads = fields.List(fields.Dict(), metadata={"description": "Each lead, trail and log."})


class ErasedSchema(ma.Schema):
    reference = fields.String()
    erased = fields.List(fields.String(), metadata={"description": "The leads erased now."})
    erased_at = UTCDateTime()


class AccessQueryArgsSchema(QueryArgsSchema):
    lead_id = fields.String(validate=validate.Length(min=1, max=32))
    user_id = fields.Integer(validate=validate.Range(min=1))


class AccessSchema(ma.Schema):
    at = UTCDateTime()
    lead_id = fields.Function(lambda a: a.lead.public_id if getattr(a, "lead", None) else None)
    user_id = fields.Integer()
    fields_shown = fields.List(fields.String(), attribute="fields", data_key="fields")
    via = fields.String()
    path = fields.String(allow_none=True)
    is_held = fields.Boolean()
    reference = fields.String(allow_none=True)


class AccessListSchema(ma.Schema):
    items = fields.List(fields.Nested(AccessSchema))


class AlertQueryArgsSchema(QueryArgsSchema):
    day = fields.Date(metadata={"description": "The group's local day; today by default."})
    group_id = fields.Integer()


class AlertUserSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    dealer_id = fields.Integer(allow_none=True)


class AlertSchema(ma.Schema):
    user = fields.Nested(AlertUserSchema)
    day = fields.Date()
    views = fields.Integer()
    threshold = fields.Integer()


class AlertListSchema(ma.Schema):
    items = fields.List(fields.Nested(AlertSchema))


class ChangeQueryArgsSchema(QueryArgsSchema):
    from_ = UTCDateTime(data_key="from")
    to = UTCDateTime()
    group_id = fields.Integer(metadata={"description": "Platform admins: one group's changes."})
    actor_id = fields.Integer(metadata={"description": "One admin's changes."})
    object_type = fields.String(
        validate=validate.OneOf(sorted(CHANGE_KINDS)),
        metadata={"description": "One kind of row: user, store, group, program, ..."},
    )
    format = format_arg()
    lang = lang_arg()


class ChangeSchema(ma.Schema):
    at = UTCDateTime()
    actor_id = fields.Integer()
    action = fields.String(metadata={"description": "<object_type>.create, .change or .delete"})
    object_type = fields.String()
    object_id = fields.String(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)


class ChangeListSchema(ma.Schema):
    items = fields.List(fields.Nested(ChangeSchema))
