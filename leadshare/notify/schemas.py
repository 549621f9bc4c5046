"""Notification schemas: the outbox rows group admins read, their filters, the signing secret."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..leads.presenter import dealer_ref
from ..schemas import PageArgsSchema, UTCDateTime
from .enums import NotificationChannel, NotificationEvent, NotificationStatus
from .formats import SIGNATURE_HEADER


class NotificationSchema(ma.Schema):
    id = fields.String(attribute="message_id")
    event = fields.String()
    channel = fields.String(
        metadata={"description": "`webhook`, `wecom_app` (to people) or `admin_robot`"}
    )
    status = fields.String()
    dealer = fields.Function(lambda n: dealer_ref(n.dealer))
    lead_id = fields.Function(lambda n: (n.payload or {}).get("lead_id"))
    lead_status = fields.Function(lambda n: (n.payload or {}).get("lead_status"))
    attempts = fields.Integer()
    next_attempt_at = UTCDateTime()
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    invalid_users = fields.String(
        allow_none=True,
        metadata={"description": "WeCom members an app message did not reach (`a|b`)"},
    )
    occurred_at = UTCDateTime()
    created_at = UTCDateTime()
    sent_at = UTCDateTime(allow_none=True)
    dead_at = UTCDateTime(allow_none=True)


class NotificationQueryArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf([status.value for status in NotificationStatus]))
    event = fields.String(validate=validate.OneOf([event.value for event in NotificationEvent]))
    dealer_id = fields.Integer()
    lead_id = fields.String(validate=validate.Length(max=32))
    channel = fields.String(
        validate=validate.OneOf([channel.value for channel in NotificationChannel])
    )


class WebhookSecretSchema(ma.Schema):
    dealer_id = fields.Integer()
    secret = fields.String()
    algorithm = fields.Constant("hmac-sha256")
    header = fields.Constant(SIGNATURE_HEADER)
    created_at = UTCDateTime()
