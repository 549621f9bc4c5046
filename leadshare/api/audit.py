"""Audit for OEMs and group admins: lead lists, funnel, flows, chain checks (SPEC section 7).

Read-only. An OEM auditor reads its OEM's brands across every group, a group admin its own
group; every other role answers 403. Contact details are masked in every output. Each report
answers JSON, or with `format=csv` a UTF-8 CSV (with BOM, for Excel) as an attachment.
"""

from __future__ import annotations

import marshmallow as ma
from flask import Response, stream_with_context
from flask_smorest import Blueprint
from marshmallow import ValidationError, fields, validate, validates_schema

from ..audit import export, reports
from ..auth.current import current_actor
from ..clock import utcnow
from ..csvsafe import Table, csv_chunks
from ..leads.enums import LeadStatus
from ..leads.schemas import CHANNELS, CustomerSchema, LeadBaseSchema, PlaceSchema
from ..responses import csv_attachment
from ..schemas import PageArgsSchema, QueryArgsSchema, UTCDateTime, format_arg, page_of
from .common import CSV_DOC, filtered_page

blp = Blueprint(
    "audit", __name__, url_prefix="/api/v1/audit", description="Audit for OEMs and group admins"
)


# --- input ---------------------------------------------------------------------------------


class ForwardRangeSchema(QueryArgsSchema):
    """`created_from` must come before `created_to`; the error names them as the client does."""

    @validates_schema
    def range_is_forward(self, data, **kwargs):
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start >= end:
            since, until = (
                self.fields[name].data_key or name for name in ("created_from", "created_to")
            )
            raise ValidationError(f"{until} must be after {since}.", until)


class AuditFilterArgsSchema(ForwardRangeSchema):
    brand = fields.String(validate=validate.Length(min=1, max=100))
    group_id = fields.Integer()
    province = fields.String(validate=validate.Length(min=1, max=50))
    city = fields.String(validate=validate.Length(min=1, max=50))
    status = fields.String(validate=validate.OneOf([s.value for s in LeadStatus]))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    created_from = UTCDateTime()
    created_to = UTCDateTime()
    format = format_arg()


class AuditLeadArgsSchema(AuditFilterArgsSchema, PageArgsSchema):
    pass


class FunnelArgsSchema(AuditFilterArgsSchema):
    group_by = fields.String(load_default="none", validate=validate.OneOf(reports.GROUP_BYS))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=10000))
    table = fields.String(
        load_default="funnel", validate=validate.OneOf(("funnel", "lost_by_holder"))
    )


class FlowArgsSchema(AuditFilterArgsSchema):
    level = fields.String(load_default="dealer", validate=validate.OneOf(reports.LEVELS))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=10000))
    table = fields.String(load_default="matrix", validate=validate.OneOf(("matrix", "reciprocity")))


class VerifyArgsSchema(ForwardRangeSchema):
    created_from = UTCDateTime(required=True, data_key="from")
    created_to = UTCDateTime(required=True, data_key="to")
    format = format_arg()


# --- output --------------------------------------------------------------------------------


class RefSchema(ma.Schema):
    id = fields.Integer(allow_none=True)
    code = fields.String(allow_none=True)
    name = fields.String(allow_none=True)


class MaskedCustomerSchema(CustomerSchema):
    """Always masked for auditors (a schema of its own in the OpenAPI document)."""


class AuditLocationSchema(PlaceSchema):
    """The customer's area only: no address, no coordinates."""


class AuditLeadSchema(LeadBaseSchema):
    stage_reached = fields.String(allow_none=True)
    channel = fields.String()
    campaign = fields.String(allow_none=True)
    group = fields.Nested(RefSchema)
    referrer = fields.Nested(RefSchema)
    holder = fields.Nested(RefSchema, allow_none=True)
    customer = fields.Nested(MaskedCustomerSchema)
    location = fields.Nested(AuditLocationSchema)
    minutes_to_accept = fields.Float(allow_none=True)
    voided_at = UTCDateTime(allow_none=True)
    void_reason = fields.String(allow_none=True)


class StageCountsSchema(ma.Schema):
    posted = fields.Integer()
    offered = fields.Integer()
    accepted = fields.Integer()
    contacted = fields.Integer()
    visited = fields.Integer()
    ordered = fields.Integer()
    delivered = fields.Integer()
    lost = fields.Integer()
    open = fields.Integer()
    unroutable = fields.Integer()
    withdrawn = fields.Integer()
    lost_without_contact = fields.Integer()


class StageRatesSchema(ma.Schema):
    posted_to_offered = fields.Float(allow_none=True)
    offered_to_accepted = fields.Float(allow_none=True)
    accepted_to_contacted = fields.Float(allow_none=True)
    contacted_to_visited = fields.Float(allow_none=True)
    visited_to_ordered = fields.Float(allow_none=True)
    ordered_to_delivered = fields.Float(allow_none=True)
    posted_to_delivered = fields.Float(allow_none=True)


class TimeToAcceptSchema(ma.Schema):
    accepted = fields.Integer()
    median_minutes = fields.Float(allow_none=True)
    p90_minutes = fields.Float(allow_none=True)


class ReasonCountSchema(ma.Schema):
    reason = fields.String()
    count = fields.Integer()
    share = fields.Float(allow_none=True)


class OfferOutcomesSchema(ma.Schema):
    made = fields.Integer()
    pending = fields.Integer()
    accepted = fields.Integer()
    declined = fields.Integer()
    expired = fields.Integer()
    withdrawn = fields.Integer()
    resolved = fields.Integer()
    expired_share = fields.Float(allow_none=True)
    declined_share = fields.Float(allow_none=True)
    decline_reasons = fields.List(fields.Nested(ReasonCountSchema))


class FunnelRowSchema(ma.Schema):
    key = fields.Nested(RefSchema, allow_none=True)
    counts = fields.Nested(StageCountsSchema)
    rates = fields.Nested(StageRatesSchema)
    time_to_accept = fields.Nested(TimeToAcceptSchema)
    offers = fields.Nested(OfferOutcomesSchema)
    lost_reasons = fields.List(fields.Nested(ReasonCountSchema))


class LostByHolderSchema(ma.Schema):
    holder = fields.Nested(RefSchema)
    held = fields.Integer()
    lost = fields.Integer()
    lost_share = fields.Float(allow_none=True)
    lost_without_contact = fields.Integer()
    lost_reasons = fields.List(fields.Nested(ReasonCountSchema))


class FunnelSchema(ma.Schema):
    group_by = fields.String()
    total = fields.Nested(FunnelRowSchema)
    rows_total = fields.Integer()
    rows = fields.List(fields.Nested(FunnelRowSchema))
    lost_by_holder_total = fields.Integer()
    lost_by_holder = fields.List(fields.Nested(LostByHolderSchema))


class FlowCellSchema(ma.Schema):
    from_ = fields.Nested(RefSchema, data_key="from", attribute="from")
    to = fields.Nested(RefSchema)
    leads = fields.Integer()
    accepted = fields.Integer()
    delivered = fields.Integer()
    accept_rate = fields.Float(allow_none=True)
    delivery_rate = fields.Float(allow_none=True)


class ReciprocitySchema(ma.Schema):
    a = fields.Nested(RefSchema)
    b = fields.Nested(RefSchema)
    a_to_b = fields.Integer()
    b_to_a = fields.Integer()
    balance = fields.Integer()


class FlowsSchema(ma.Schema):
    level = fields.String()
    cells_total = fields.Integer()
    cells = fields.List(fields.Nested(FlowCellSchema))
    pairs_total = fields.Integer()
    pairs = fields.List(fields.Nested(ReciprocitySchema))


class BrokenChainSchema(ma.Schema):
    id = fields.String()
    broken_at = fields.Integer(allow_none=True)
    reason = fields.String()


class RangeVerifySchema(ma.Schema):
    checked = fields.Integer()
    broken = fields.List(fields.Nested(BrokenChainSchema))


# --- views ---------------------------------------------------------------------------------


def csv_download(name: str, table: Table) -> Response:
    """Stream a table as an Excel-ready CSV attachment named after the report and the time."""
    filename = f"leadshare-{name}-{utcnow():%Y%m%d-%H%M%S}.csv"
    return csv_attachment(stream_with_context(csv_chunks(table)), filename)


@blp.route("/leads")
@blp.arguments(AuditLeadArgsSchema, location="query")
@blp.response(200, page_of(AuditLeadSchema))
@blp.alt_response(200, success=True, **CSV_DOC)
def leads(args):
    """Leads in your audit scope, newest first, contact details masked.

    Filters: `brand`, `group_id`, `province` and `city` (of the customer, as stored: 广东省,
    深圳市), `status`, `channel`, `created_from` (inclusive) and `created_to` (exclusive).
    Voided leads are listed, with `voided_at`. `stage_reached` is the furthest ladder stage
    (accepted ... delivered), kept when the lead is lost; `minutes_to_accept` runs from posting
    to acceptance. `format=csv` exports every matching lead (no paging).
    """
    actor = current_actor()
    if args.pop("format") == "csv":
        return csv_download("leads", export.lead_table(reports.iter_audit_leads(actor, args)))
    return filtered_page(reports.list_audit_leads, args)


@blp.route("/funnel")
@blp.arguments(FunnelArgsSchema, location="query")
@blp.response(200, FunnelSchema)
@blp.alt_response(200, success=True, **CSV_DOC)
def funnel(args):
    """The lead funnel, in total and per `group_by` (group, province, dealer, channel).

    Counts leads in scope matching the lead-list filters, voided leads excluded. `posted`: all;
    `offered`: routed to a store or claimed from the board; `accepted` ... `delivered`: reached
    that stage (skipped stages count, lost leads keep the stages they reached); `lost`, `open`
    (on the board now), `unroutable`, `withdrawn`: current status; `lost_without_contact`: lost
    with no contact ever recorded. `rates`: each stage over the one before, 4 decimals, null
    when the denominator is 0. `time_to_accept`: median and p90 minutes from posting to
    acceptance. `offers`: routed offers by outcome; `expired_share` and `declined_share` are of
    `resolved` offers (accepted + declined + expired), with the decline reasons.
    `lost_reasons`: the five most frequent. With `group_by=dealer` leads are keyed by their
    holder (key null: not accepted) and offers by the store offered. `lost_by_holder`: per
    holder with lost leads, leads held, lost, lost without contact and the reasons. JSON lists
    the first `limit` (default 200) rows and holders, largest first (all counted in
    `rows_total` and `lost_by_holder_total`); CSV has them all: `table=funnel` (default) or
    `table=lost_by_holder`.
    """
    actor = current_actor()
    limit = None if args["format"] == "csv" else args["limit"]
    report = reports.funnel_report(actor, args, args.pop("group_by"), limit)
    if args["format"] != "csv":
        return report
    if args["table"] == "lost_by_holder":
        return csv_download("lost-by-holder", export.lost_by_holder_table(report))
    return csv_download("funnel", export.funnel_table(report))


@blp.route("/flows")
@blp.arguments(FlowArgsSchema, location="query")
@blp.response(200, FlowsSchema)
@blp.alt_response(200, success=True, **CSV_DOC)
def flows(args):
    """Where leads flow: referrer -> store matrix at `level` dealer, city or province.

    Same filters as the lead list; voided leads excluded. A cell counts the `leads` the
    referring store (or the stores of a city or province, located by their administrative
    code) sent to a store by routing or that a store claimed from the board, how many the store
    `accepted` and `delivered`, `accept_rate` (accepted / leads) and `delivery_rate`
    (delivered / accepted). `pairs` is the reciprocity between two stores: leads each one
    handed the other (accepted by the other), `a` being the one that gave more, and the
    `balance` (a_to_b - b_to_a). JSON lists the first `limit` (default 200) cells and pairs,
    largest first (all counted in `cells_total` and `pairs_total`); CSV has them all:
    `table=matrix` (default) or `table=reciprocity`.
    """
    actor, level = current_actor(), args.pop("level")
    if args["format"] != "csv":
        return reports.flow_report(actor, args, level, args["limit"])
    report = reports.flow_report(actor, args, level, parts=(args["table"],))
    if args["table"] == "reciprocity":
        return csv_download("reciprocity", export.reciprocity_table(report))
    return csv_download("flows", export.flow_table(report))


@blp.route("/verify")
@blp.arguments(VerifyArgsSchema, location="query")
@blp.response(200, RangeVerifySchema)
@blp.alt_response(200, success=True, **CSV_DOC)
def verify(args):
    """Verify the hash chain of every lead in scope created in [from, to).

    `checked`: leads verified; `broken`: each lead whose chain does not verify, with the seq
    where it first breaks and why (`seq_mismatch`, `prev_hash_mismatch`, `hash_mismatch`,
    `head_mismatch`). CSV lists the broken leads.
    """
    report = reports.verify_range(current_actor(), args["created_from"], args["created_to"])
    if args["format"] == "csv":
        return csv_download("verify", export.verify_table(report))
    return report
