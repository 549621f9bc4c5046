"""Reward programs, the ledger, payouts, statements and voids (SPEC section 6)."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError, fields, validate, validates_schema

from ..auth.current import current_actor
from ..leads.schemas import CHANNELS, LeadSchema
from ..responses import csv_attachment
from ..rewards import service
from ..rewards.money import format_amount, parse_amount
from ..rewards.rules import RewardEvent
from ..rewards.statements import statement, statement_csv
from ..schemas import (
    Date,
    InputSchema,
    PageArgsSchema,
    QueryArgsSchema,
    UTCDateTime,
    format_arg,
    page_of,
)
from .common import CSV_DOC, filtered_page
from .leads import presented
from .openapi import refusals

MONEY_DOC = {
    "type": "string",
    "pattern": r"^-?[0-9]{1,13}(\.[0-9]{1,2})?$",
    "example": "200.00",
    "description": "exact amount in major units, at most 2 decimals",
}

blp = Blueprint("rewards", __name__, url_prefix="/api/v1", description="Rewards and ledger")


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
    kind = fields.String(
        validate=validate.OneOf(["treasury", "program", "dealer_rewards", "paid_out"])
    )


class EntryQuerySchema(PageArgsSchema):
    kind = fields.String(validate=validate.OneOf(["funding", "credit", "reversal", "payout"]))
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


class StatementLineSchema(ma.Schema):
    at = UTCDateTime()
    kind = fields.String()
    lead_id = fields.String(allow_none=True)
    program = fields.String(allow_none=True)
    event = fields.String(allow_none=True)
    amount = fields.String()
    memo = fields.String(allow_none=True)


class StatementSchema(ma.Schema):
    dealer = fields.Dict()
    month = fields.String()
    currency = fields.String()
    opening_balance = fields.String()
    lines = fields.List(fields.Nested(StatementLineSchema))
    closing_balance = fields.String()


class VoidSchema(InputSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


def _with_figures(program):
    for name, value in service.program_figures(program).items():
        setattr(program, name, value)
    return program


@blp.route("/reward-programs")
class Programs(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_of(ProgramSchema))
    def get(self, args):
        """List your group's reward programs with budget used and remaining."""
        page = service.list_programs(current_actor(), args["page"], args["per_page"])
        page.items = [_with_figures(p) for p in page.items]
        return page

    @blp.arguments(ProgramWriteSchema)
    @blp.response(201, ProgramSchema)
    def post(self, data):
        """Create a program; its budget is funded from the group's treasury."""
        return _with_figures(service.create_program(current_actor(), data))


@blp.route("/reward-programs/<int:program_id>")
class ProgramById(MethodView):
    @blp.response(200, ProgramSchema)
    def get(self, program_id):
        """One program with budget used, remaining, credits and skips by reason."""
        return _with_figures(service.get_program(current_actor(), program_id))

    @blp.arguments(ProgramPatchSchema(partial=True))
    @blp.response(200, ProgramSchema)
    def patch(self, data, program_id):
        """Change a program; new rules apply to later credits only."""
        return _with_figures(service.update_program(current_actor(), program_id, data))


@blp.route("/reward-programs/<int:program_id>/fund", methods=["POST"])
@blp.arguments(FundSchema)
@blp.response(200, ProgramSchema)
def fund(data, program_id):
    """Add budget: a funding entry from the treasury to the program."""
    return _with_figures(service.fund_program(current_actor(), program_id, data["amount"]))


@blp.route("/reward-programs/<int:program_id>/skips")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(SkipSchema))
def skips(args, program_id):
    """Credits that were due but skipped (budget_exhausted, dealer_cap_reached)."""
    return service.list_skips(current_actor(), program_id, args["page"], args["per_page"])


@blp.route("/ledger/accounts")
@blp.arguments(AccountQuerySchema, location="query")
@blp.response(200, page_of(AccountSchema))
def accounts(args):
    """Ledger accounts and balances (a manager: its own store's accounts)."""
    return filtered_page(service.list_accounts, args)


@blp.route("/ledger/entries")
@blp.arguments(EntryQuerySchema, location="query")
@blp.response(200, page_of(EntrySchema))
def entries(args):
    """Journal entries with their postings, newest first."""
    return filtered_page(service.list_entries, args)


@blp.route("/payouts", methods=["POST"])
@blp.arguments(PayoutSchema)
@blp.response(201, EntrySchema)
@refusals(
    blp,
    {
        409: "The balance is too small (`balance` says how much there is);"
        " reasons: insufficient_balance."
    },
)
def payouts(data):
    """Pay a dealer: from its reward account to paid-out, never more than the balance."""
    return service.pay_out(current_actor(), data["dealer_id"], data["amount"], data.get("memo"))


@blp.route("/dealers/<int:dealer_id>/statement")
@blp.arguments(StatementArgsSchema, location="query")
@blp.response(200, StatementSchema)
@blp.alt_response(200, success=True, **CSV_DOC)
def dealer_statement(args, dealer_id):
    """A dealer's monthly reward statement (format=csv for Excel)."""
    data = statement(current_actor(), dealer_id, args["month"])
    if args["format"] == "csv":
        return csv_attachment(
            statement_csv(data), f"statement-{data['dealer']['code']}-{args['month']}.csv"
        )
    return data


@blp.route("/leads/<string:lead_id>/void", methods=["POST"])
@blp.arguments(VoidSchema)
@blp.response(200, LeadSchema)
@refusals(blp, {409: "reasons: already_voided."})
def void(data, lead_id):
    """Void a fraudulent lead (group admin): every credit it earned is reversed."""
    return presented(service.void_lead, lead_id, data["reason"])
