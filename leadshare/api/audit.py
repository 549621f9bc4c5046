"""Audit for OEMs and group admins: lead lists, funnel, flows, chain checks (SPEC section 7).

Read-only. An OEM auditor reads its OEM's brands across every group, a group admin its own
group; every other role answers 403. Contact details are masked in every output. Each report
answers JSON, or with `format=csv` a UTF-8 CSV (with BOM, for Excel) as an attachment: stable
English column keys, or Chinese column labels with `lang=zh` (the pages' download links ask for
the page's language); times in each lead's group time zone with the offset
(`2026-12-04 19:30:00+08:00`).
"""

from __future__ import annotations

from flask import Response, stream_with_context
from flask_smorest import Blueprint

from ..audit import export
from ..audit.flows import flow_report
from ..audit.funnel import funnel_report
from ..audit.lead_list import iter_audit_leads, list_audit_leads
from ..audit.league import league_report, league_table
from ..audit.schemas import (
    AuditLeadArgsSchema,
    AuditLeadSchema,
    FlowArgsSchema,
    FlowsSchema,
    FunnelArgsSchema,
    FunnelSchema,
    LeagueArgsSchema,
    LeagueSchema,
    RangeVerifySchema,
    SpeedArgsSchema,
    SpeedSchema,
    TrendArgsSchema,
    TrendsSchema,
    VerifyArgsSchema,
)
from ..audit.trends import speed_report, trend_report
from ..audit.verify import verify_range
from ..auth.current import current_actor
from ..clock import utcnow
from ..csv_headers import in_language
from ..csvsafe import Table, csv_chunks
from ..responses import csv_attachment
from ..schemas import page_of
from .common import CSV_DOC, filtered_page

blp = Blueprint(
    "audit", __name__, url_prefix="/api/v1/audit", description="Audit for OEMs and group admins"
)


# --- views ---------------------------------------------------------------------------------


def csv_download(name: str, table: Table, lang: str = "en") -> Response:
    """Stream a table as an Excel-ready CSV attachment named after the report and the time,
    its header in `lang` (the API's English keys unless `lang=zh`)."""
    filename = f"leadshare-{name}-{utcnow():%Y%m%d-%H%M%S}.csv"
    return csv_attachment(stream_with_context(csv_chunks(in_language(name, table, lang))), filename)


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
    lang = args.pop("lang")
    if args.pop("format") == "csv":
        return csv_download("leads", export.lead_table(iter_audit_leads(actor, args)), lang)
    return filtered_page(list_audit_leads, args)


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
    `lost_reasons`: each reason of the fixed list given, most frequent first. With
    `group_by=dealer` leads are keyed by their holder (key null: not accepted) and offers by
    the store offered. `lost_by_holder`: per
    holder with lost leads, leads held, lost, lost without contact and the reasons. JSON lists
    the first `limit` (default 200) rows and holders, largest first (all counted in
    `rows_total` and `lost_by_holder_total`); CSV has them all: `table=funnel` (default) or
    `table=lost_by_holder`. `duplicates`: customers whose share was refused as a duplicate, per
    referring store and channel, each customer once (brand, channel and date filters apply);
    `duplicates_total`: distinct customers.
    """
    actor = current_actor()
    limit = None if args["format"] == "csv" else args["limit"]
    report = funnel_report(actor, args, args.pop("group_by"), limit)
    if args["format"] != "csv":
        return report
    if args["table"] == "lost_by_holder":
        return csv_download("lost-by-holder", export.lost_by_holder_table(report), args["lang"])
    return csv_download("funnel", export.funnel_table(report), args["lang"])


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
        return flow_report(actor, args, level, args["limit"])
    report = flow_report(actor, args, level, parts=(args["table"],))
    if args["table"] == "reciprocity":
        return csv_download("reciprocity", export.reciprocity_table(report), args["lang"])
    return csv_download("flows", export.flow_table(report), args["lang"])


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
    report = verify_range(current_actor(), args["created_from"], args["created_to"])
    if args["format"] == "csv":
        return csv_download("verify", export.verify_table(report), args["lang"])
    return report


@blp.route("/trends")
@blp.arguments(TrendArgsSchema, location="query")
@blp.response(200, TrendsSchema)
def trends(args):
    """Leads shared, accepted and delivered per `period` (week or month), with the previous
    range of as many periods beside each, in total and per `by` (brand, group, province).

    Same filters as the lead list; voided leads excluded. A lead counts in the period it was
    shared in (a cohort: `delivered` are the leads shared that period and delivered since).
    Periods are calendar weeks (from Monday) or months in your group's time zone (Asia/Shanghai
    for OEM auditors); `created_from` and `created_to` are widened to whole periods, by default
    the last 12 including the current one; at most 104 weeks or 57 months at once.
    `accept_rate` = accepted / shared, `conversion` = delivered / shared; `shared_change` is
    the growth over the previous range (null when it had none). `series` lists the 8 keys with
    most leads shared (`series_total` counts them all).
    """
    return trend_report(current_actor(), args, args.pop("period"), args.pop("by"))


@blp.route("/speed")
@blp.arguments(SpeedArgsSchema, location="query")
@blp.response(200, SpeedSchema)
def speed(args):
    """How fast stores act: minutes from posting to acceptance (`to_accept`) as a histogram
    with the median and p90, and from acceptance to first contact (`to_contact`) once leads
    carry a contact time (null before). Same filters as the lead list; voided leads excluded.
    """
    return speed_report(current_actor(), args)


@blp.route("/league")
@blp.arguments(LeagueArgsSchema, location="query")
@blp.response(200, LeagueSchema)
@blp.alt_response(200, success=True, **CSV_DOC)
def league(args):
    """The store league table: per store, leads `received` (offered, or claimed from the board),
    offers `accepted`, `acceptance_rate` (of offers answered or expired), the median minutes to
    accept the leads it holds, offers `expired_unseen` and `declined`, leads `held`, the
    `visit_rate` and `delivery_rate` of those, held leads `lost_without_contact`, leads `shared`,
    and the reciprocity: `given` (its shared leads accepted by other stores), `taken` (other
    stores' leads it accepted), `balance` (given - taken) and the three `partners` with the most
    unbalanced exchange. `rewards_earned` (reward credits for its shared leads, reversals left
    out) is shown to group admins and managers, never to OEM auditors (`rewards_shown`).

    An OEM auditor sees its brands' stores in every group (its brands' leads), a group admin its
    group's stores, a manager only its own store; `median` is each figure's median over the
    stores that received or shared a lead. Sorted by `sort` (`order` desc by default; stores
    without the figure last). JSON lists the first `limit` rows; CSV has every row.
    """
    actor, fmt = current_actor(), args.pop("format")
    sort, order, limit = args.pop("sort"), args.pop("order"), args.pop("limit")
    report = league_report(actor, args, sort, order, None if fmt == "csv" else limit)
    if fmt == "csv":
        return csv_download("league", league_table(report), args["lang"])
    return report
