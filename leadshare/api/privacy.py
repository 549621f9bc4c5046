"""Privacy (PIPL): a customer's requests (find, export, erase), the contact access log, alerts."""

from __future__ import annotations

from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..clock import local_date, utcnow
from ..privacy import service
from ..privacy.schemas import (
    AccessListSchema,
    AccessQueryArgsSchema,
    AlertListSchema,
    AlertQueryArgsSchema,
    ChangeListSchema,
    ChangeQueryArgsSchema,
    CustomerLeadsSchema,
    CustomerQueryArgsSchema,
    ErasedSchema,
    ErasureSchema,
    ExportSchema,
)
from .audit import csv_download
from .common import CSV_DOC
from .openapi import refusals

blp = Blueprint(
    "privacy", __name__, url_prefix="/api/v1/privacy", description="Customer privacy (PIPL)"
)


@blp.get("/customers")
@blp.arguments(CustomerQueryArgsSchema, location="query")
@blp.response(200, CustomerLeadsSchema)
def customers(args):
    """Find every lead of a customer by phone or WeChat ID (masked; group admins)."""
    return {"leads": service.find_customer(current_actor(), args)}


@blp.get("/customers/export")
@blp.arguments(CustomerQueryArgsSchema, location="query")
@blp.response(200, ExportSchema)
def export(args):
    """Everything held about a customer, with the access log (the view is itself logged)."""
    return service.export_customer(current_actor(), args)


@blp.post("/erasures")
@blp.arguments(ErasureSchema)
@blp.response(200, ErasedSchema)
@refusals(blp, {404: "The group holds no lead of that customer; reason: no_such_customer."})
def erase(data):
    """Erase a customer's personal data on their request; the reason goes into each trail."""
    return service.erase_customer(current_actor(), data)


@blp.get("/access")
@blp.arguments(AccessQueryArgsSchema, location="query")
@blp.response(200, AccessListSchema)
@refusals(blp, {404: "No lead or user of that id in your scope; reason: not_found."})
def access(args):
    """Who was shown a contact: the access records of one lead or one user, newest first."""
    return {"items": service.list_access(current_actor(), args)}


@blp.get("/alerts")
@blp.arguments(AlertQueryArgsSchema, location="query")
@blp.response(200, AlertListSchema)
def alerts(args):
    """Users who opened more contacts of other stores' leads than the group allows in a day."""
    actor = current_actor()
    day = args.get("day") or local_date(utcnow(), actor.group.timezone if actor.group else "UTC")
    return {"items": service.contact_alerts(actor, day, args.get("group_id"))}


@blp.get("/changes")
@blp.arguments(ChangeQueryArgsSchema, location="query")
@blp.response(200, ChangeListSchema)
@blp.alt_response(200, success=True, **CSV_DOC)
def changes(args):
    """What admins did: every change with its values before and after (format=csv to export)."""
    args["from"] = args.pop("from_", None)
    rows = service.list_changes(current_actor(), args)
    if args["format"] == "csv":
        return csv_download("admin-changes", service.changes_table(rows), args["lang"])
    return {"items": rows}
