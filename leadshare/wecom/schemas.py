"""WeCom schemas: the group's app (the secret is write-only) and a user's member link."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..schemas import InputSchema, UTCDateTime

WECOM_ID = validate.Regexp(r"^[A-Za-z0-9_.@-]{1,64}$", error="Use 1 to 64 letters, digits, _.@-.")


class WecomAppSchema(ma.Schema):
    group_id = fields.Integer()
    corp_id = fields.String()
    agent_id = fields.Integer()
    secret_source = fields.String(
        allow_none=True,
        metadata={"description": "`environment`, `database`, or null when no secret is set"},
    )
    updated_at = UTCDateTime()


class WecomAppWriteSchema(InputSchema):
    corp_id = fields.String(required=True, validate=WECOM_ID)
    agent_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    secret = fields.String(
        load_only=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "stored encrypted; omit to keep the stored one"},
    )


class WecomMemberSchema(ma.Schema):
    user_id = fields.Integer()
    corp_id = fields.String()
    userid = fields.String()


class WecomMemberWriteSchema(InputSchema):
    userid = fields.String(required=True, validate=WECOM_ID)
    corp_id = fields.String(
        validate=WECOM_ID,
        metadata={"description": "the member's corp (a 上下游 store's own); default: the group's"},
    )
