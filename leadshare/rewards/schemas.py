"""Reward schemas: exact money, programs and rules, the ledger, payouts, statements, voids.

The API and the pages both load and dump with these.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, fields, validate, validates_schema

from ..leads.schemas import CHANNELS
from ..schemas import (
    Date,
    InputSchema,
    PageArgsSchema,
    QueryArgsSchema,
    UTCDateTime,
    format_arg,
    lang_arg,
)
from .enums import AccountKind, AlertKind, EntryKind, RewardEvent
from .money import format_amount, parse_amount

MONEY_DOC = {
    "type": "string",
    "pattern": r"^-?[0-9]{1,13}(\.[0-9]{1,2})?$",
    "example": "200.00",
    "description": "exact amount in major units, at most 2 decimals",
}


class Money(fields.Field):
    """Exact money: a decimal string like "200.00" (or an integer) in, a decimal string out."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", MONEY_DOC)
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format_amount(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float):
            raise ValidationError('Send amounts as decimal strings like "200.00".')
        try:
            return parse_amount(value)
        except (ValueError, TypeError) as exc:
            raise ValidationError(str(exc)) from exc


class RuleSchema(ma.Schema):
    id = fields.Integer(dump_only=True)
    event = fields.String(required=True, validate=validate.OneOf([e.value for e in RewardEvent]))
    amount = Money(required=True, attribute="amount_minor", data_key="amount")
    brand = fields.String(allow_none=True, validate=validate.Length(min=1, max=100))
    channel = fields.String(allow_none=True, validate=validate.OneOf(CHANNELS))


class RuleInSchema(RuleSchema, InputSchema):
    amount = Money(required=True)


class ProgramWriteSchema(InputSchema):
    group_id = fields.Integer()
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    starts_on = Date(required=True)
    ends_on = Date(allow_none=True)
    budget = Money(required=True)
    rules = fields.List(
        fields.Nested(RuleInSchema), required=True, validate=validate.Length(min=1, max=50)
    )
    per_dealer_monthly_cap = Money(allow_none=True)
    active = fields.Boolean()
    hold_days = fields.Integer(
        validate=validate.Range(min=0, max=365),
        metadata={"description": "days a credit stays pending before it is available (30)"},
    )
    alert_below = Money(
        allow_none=True,
        metadata={
            **MONEY_DOC,
            "description": "tell the group admins when the remaining budget falls below this",
        },
    )
    requires_retail_confirmation = fields.Boolean(
        metadata={
            "description": "delivered credits stay pending until the OEM's retail report"
            " confirms the delivery (false)"
        }
    )
    retail_deadline_days = fields.Integer(
        validate=validate.Range(min=1, max=365),
        metadata={"description": "days after delivery a confirmation may come, else reversed (60)"},
    )

    @validates_schema
    def dates_in_order(self, data, **kwargs):
        if data.get("ends_on") and data.get("starts_on") and data["ends_on"] < data["starts_on"]:
            raise ValidationError("The program cannot end before it starts.", "ends_on")


class ProgramPatchSchema(ProgramWriteSchema):
    class Meta:
        exclude = ("group_id",)

    @validates_schema
    def budget_only_through_funding(self, data, **kwargs):
        if "budget" in data:
            raise ValidationError(
                "Budget grows only through POST .../fund (a ledger entry).", "budget"
            )


class FundSchema(InputSchema):
    amount = Money(required=True)


class ProgramSchema(ma.Schema):
    id = fields.Integer()
    group_id = fields.Integer()
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    budget = Money()
    used = Money()
    remaining = Money()
    per_dealer_monthly_cap = Money(attribute="per_dealer_monthly_cap_minor", allow_none=True)
    active = fields.Boolean(attribute="is_active")
    hold_days = fields.Integer()
    alert_below = Money(attribute="alert_below_minor", allow_none=True)
    requires_retail_confirmation = fields.Boolean()
    retail_deadline_days = fields.Integer()
    rules = fields.List(fields.Nested(RuleSchema))
    credits = fields.Integer()
    skips = fields.Dict(keys=fields.String(), values=fields.Integer())
    created_at = UTCDateTime()


class SkipSchema(ma.Schema):
    id = fields.Integer()
    lead_id = fields.Function(lambda skip: skip.lead.public_id)
    dealer_id = fields.Integer()
    event = fields.String()
    amount = Money(attribute="amount_minor")
    reason = fields.String()
    created_at = UTCDateTime()


class AccountSchema(ma.Schema):
    id = fields.Integer()
    key = fields.String()
    kind = fields.String()
    owner_id = fields.Integer()
    balance = Money(attribute="balance_minor")


class PostingSchema(ma.Schema):
    account = fields.Function(lambda p: p.account.key)
    amount = Money(attribute="amount_minor")


class EntrySchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String()
    memo = fields.String(allow_none=True)
    lead_id = fields.Function(lambda entry: entry.lead.public_id if entry.lead else None)
    program_id = fields.Integer(allow_none=True)
    dealer_id = fields.Integer(allow_none=True)
    event = fields.String(allow_none=True)
    reverses_id = fields.Integer(allow_none=True)
    created_at = UTCDateTime()
    postings = fields.List(fields.Nested(PostingSchema))


class AccountQuerySchema(PageArgsSchema):
    kind = fields.String(validate=validate.OneOf([kind.value for kind in AccountKind]))


class EntryQuerySchema(PageArgsSchema):
    kind = fields.String(validate=validate.OneOf([kind.value for kind in EntryKind]))
    program_id = fields.Integer()
    dealer_id = fields.Integer()
    lead_id = fields.String()


class PayoutSchema(InputSchema):
    dealer_id = fields.Integer(required=True)
    amount = Money(required=True)
    memo = fields.String(validate=validate.Length(max=500))


class StatementArgsSchema(QueryArgsSchema):
    month = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$", error="Use YYYY-MM from 2000-01 to 2100-12."
        ),
    )
    format = format_arg()
    lang = lang_arg()


class StatementLineSchema(ma.Schema):
    at = UTCDateTime()
    kind = fields.String()
    account = fields.String(
        metadata={"enum": ["pending", "available"], "description": "the money the line moves"}
    )
    lead_id = fields.String(allow_none=True)
    customer = fields.String(
        allow_none=True, metadata={"description": "the lead's customer name, masked (`张**`)"}
    )
    program = fields.String(allow_none=True)
    event = fields.String(allow_none=True)
    amount = fields.String()
    releases_at = UTCDateTime(
        allow_none=True,
        metadata={"description": "a held credit: when its pending amount becomes available"},
    )
    memo = fields.String(allow_none=True)


class StatementSchema(ma.Schema):
    dealer = fields.Dict()
    month = fields.String()
    currency = fields.String()
    timezone = fields.String(metadata={"description": "the group's time zone (CSV times)"})
    opening_balance = fields.String(metadata={"description": "available money at the start"})
    opening_pending = fields.String(metadata={"description": "money on hold at the start"})
    lines = fields.List(fields.Nested(StatementLineSchema))
    closing_balance = fields.String(metadata={"description": "available money at the end"})
    closing_pending = fields.String(metadata={"description": "money on hold at the end"})


class AlertQuerySchema(PageArgsSchema):
    program_id = fields.Integer()
    kind = fields.String(validate=validate.OneOf([kind.value for kind in AlertKind]))


class AlertSchema(ma.Schema):
    id = fields.Integer()
    program_id = fields.Integer()
    program = fields.Function(lambda alert: alert.program.name)
    kind = fields.String(metadata={"enum": [kind.value for kind in AlertKind]})
    remaining = Money(attribute="remaining_minor")
    alert_below = Money(attribute="alert_below_minor", allow_none=True)
    amount = Money(attribute="amount_minor", allow_none=True)
    lead_id = fields.Function(lambda alert: alert.lead.public_id if alert.lead else None)
    created_at = UTCDateTime()


class VoidSchema(InputSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
