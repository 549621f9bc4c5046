"""A lead's page (details, actions, timeline with routing reasons) and the lead list."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..auth import scope
from ..auth.models import User
from ..clock import local_midnight, parse_iso
from ..errors import Conflict, Invalid
from ..leads import access, intake, offers
from ..leads.enums import EventType, LeadStatus, OfferKind, OfferStatus
from ..leads.events import verify_lead_chain, verify_lead_chains
from ..leads.models import Lead
from ..leads.presenter import present_lead, present_trail
from ..leads.progress import record_progress, withdraw_lead
from ..leads.schemas import DeclineSchema, LocationInSchema, ProgressSchema
from ..leads.states import can_withdraw
from ..vocabulary import DEALER_ROLES, Role
from . import blp
from .errors import safe_target
from .forms import (
    DeclineForm,
    LocationForm,
    ProgressForm,
    WithdrawForm,
    compact,
    load,
    next_moves,
)
from .i18n import DEFAULT_TIMEZONE, LABELS, label, select_timezone
from .lookups import actor, dealer_names, group_brands, oem_brands
from .messages import domain_message, vin_problem
from .views import roles_required

PER_PAGE = 20


def back(default_endpoint: str, **values: Any) -> str:
    """Where a form asked to return to (its `next` field), else the given page."""
    return safe_target(request.form.get("next"), url_for(default_endpoint, **values))


def refuse(error: Exception) -> None:
    """Tell the person why the attempt was refused, in their language (it wrote nothing)."""
    flash(domain_message(error), "error")


# --- the lead page --------------------------------------------------------------------------


def _parse_time(value: Any) -> datetime | None:
    """Times inside event data are canonical JSON strings (`...Z`); back to naive UTC."""
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None


def _erased(data: dict[str, Any]) -> dict[str, Any]:
    """Personal values erased from the trail read "erased on <date>" where they were."""
    shown = dict(data)
    for key, value in data.items():
        if isinstance(value, dict) and set(value) == {"erased_at"}:
            moment = _parse_time(value["erased_at"])
            shown[key] = _("erased on %(date)s", date=moment.date().isoformat() if moment else "")
    return shown


ERASED_WHY = {"customer_request": _l("the customer's request"), "retention": _l("retention")}


def _place(location: dict[str, Any] | str | None) -> str:
    if not location:
        return ""
    if isinstance(location, str):
        return location
    parts = [location.get(k) for k in ("province", "city", "district")]
    text = " ".join(dict.fromkeys(p for p in parts if p))
    precision = label("precision", location.get("precision"))
    return (
        _("%(place)s (%(precision)s)", place=text, precision=precision)
        if text and precision
        else text
    )


def _details(kind: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """The facts of one event worth reading, as (label, value) pairs."""
    rows: list[tuple[str, str]] = []
    if kind in (EventType.POSTED, EventType.LOCATED):
        if data.get("share_reason"):
            rows.append((_("Why shared"), label("share_reason", data["share_reason"])))
        if data.get("channel"):
            rows.append((_("Channel"), label("channel", data["channel"])))
        if data.get("campaign"):
            rows.append((_("Campaign"), str(data["campaign"])))
        if data.get("location"):
            rows.append((_("Located in"), _place(data["location"])))
    elif kind == EventType.OFFERED:
        if data.get("distance_km") is not None:
            rows.append((_("Distance"), _("%(km).1f km", km=data["distance_km"])))
    elif kind == EventType.DECLINED:
        rows.append((_("Reason"), label("decline_reason", data.get("reason"))))
        if data.get("note"):
            rows.append((_("Note"), str(data["note"])))
    elif kind == EventType.CLAIMED:
        via = _("from the board") if data.get("via") == OfferKind.BOARD else _("from its offer")
        rows.append((_("How"), via))
    elif kind in (EventType.OPENED, EventType.UNROUTABLE):
        if data.get("why"):
            rows.append((_("Why"), label("opened_why", data["why"])))
    elif kind == EventType.WITHDRAWN:
        if data.get("reason"):
            rows.append((_("Reason"), str(data["reason"])))
    elif kind == EventType.ERASED:
        rows.append((_("Erased because of"), str(ERASED_WHY.get(data.get("why"), data.get("why")))))
        if data.get("reference"):
            rows.append((_("Request reference"), str(data["reference"])))
        if data.get("reason"):
            rows.append((_("Reason"), str(data["reason"])))
    elif kind == EventType.CHAIN_ANCHORED:
        rows.append((_("Hash of the chain before"), str(data.get("old_head_hash"))))
    elif kind in LABELS["progress"]:
        if data.get("skipped"):
            rows.append((_("Recorded"), _("counted as reached by a later step")))
        for key in ("order_ref", "vin", "lost_reason"):
            if data.get(key):
                rows.append((label("field", key), str(data[key])))
        if data.get("note"):
            rows.append((_("Note"), str(data["note"])))
    elif kind not in (EventType.EXPIRED, EventType.NEEDS_LOCATION):
        rows.extend(
            (key, str(value)) for key, value in data.items() if not isinstance(value, dict | list)
        )
    return rows


def timeline(trail: dict[str, Any]) -> list[dict[str, Any]]:
    """The trail's events as the page shows them, routing decisions with store names."""
    decisions = [e["data"].get("decision") or {} for e in trail["events"]]
    mentioned = [
        candidate.get("dealer_id")
        for decision in decisions
        for candidate in [decision.get("chosen") or {}, *decision.get("runners_up", [])]
    ]
    names = dealer_names(mentioned)
    items = []
    for event, decision in zip(trail["events"], decisions, strict=True):
        data = event["data"] or {}
        chosen = decision.get("chosen")
        items.append(
            {
                "seq": event["seq"],
                "type": event["type"],
                "title": label("event", event["type"]),
                "at": event["at"],
                "dealer": event["dealer"],
                "details": _details(event["type"], _erased(data)),
                "expires_at": _parse_time(data.get("expires_at")),
                "decision": None
                if not decision
                else {
                    "chosen": chosen and {**chosen, "name": names.get(chosen["dealer_id"], "")},
                    "runners_up": [
                        {**c, "name": names.get(c["dealer_id"], "")}
                        for c in decision.get("runners_up", [])
                    ],
                    "excluded": {k: v for k, v in decision.get("excluded", {}).items() if v},
                    "considered": decision.get("considered"),
                },
            }
        )
    return items


def lead_actions(user: User, lead: Lead, shown: dict[str, Any]) -> dict[str, bool]:
    """Which forms the lead page offers this reader (the services still decide)."""
    dealer_id = user.dealer_id if user.role in DEALER_ROLES else None
    offer = shown["current_offer"]
    status = LeadStatus(lead.status)
    return {
        "respond": dealer_id is not None
        and offer is not None
        and offer["status"] == OfferStatus.PENDING
        and offer["dealer"]["id"] == dealer_id,
        "claim_board": dealer_id is not None
        and status == LeadStatus.OPEN
        and scope.may_claim_open(lead, user.dealer),
        "progress": dealer_id is not None
        and dealer_id == lead.holder_id
        and bool(next_moves(lead.status)),
        "withdraw": dealer_id is not None
        and dealer_id == lead.referrer_id
        and can_withdraw(status),
        "locate": dealer_id is not None
        and dealer_id == lead.referrer_id
        and status == LeadStatus.NEEDS_LOCATION,
    }


def render_lead(
    lead_id: str,
    *,
    progress: ProgressForm | None = None,
    location: LocationForm | None = None,
    status: int = 200,
):
    user = actor()
    lead = access.get_lead(user, lead_id)
    trail = present_trail(lead, user)
    shown = trail["lead"]
    return render_template(
        "leads/detail.html",
        lead=shown,
        actions=lead_actions(user, lead, shown),
        events=timeline(trail),
        offers=trail["offers"],
        chain=verify_lead_chain(lead),
        progress=progress or ProgressForm.for_lead(lead.status, formdata=None),
        order_ref_recorded=bool(lead.order_ref),
        decline=DeclineForm(formdata=None),
        withdraw=WithdrawForm(formdata=None),
        location=location or LocationForm(formdata=None),
        can_void=user.role == Role.GROUP_ADMIN
        and user.group_id == lead.group_id
        and lead.voided_at is None,
        voided=(lead.voided_at, lead.void_reason) if lead.voided_at else None,
    ), status


@blp.get("/leads/<lead_id>")
@login_required
def lead(lead_id: str):
    return render_lead(lead_id)


# --- actions --------------------------------------------------------------------------------


@blp.post("/leads/<lead_id>/claim")
@roles_required(*DEALER_ROLES)
def claim(lead_id: str):
    try:
        offers.claim_lead(actor(), lead_id)
    except Conflict as error:
        refuse(error)
        return redirect(back("web.inbox"))
    flash(
        _("Claimed: the lead is yours. The customer's contact details are shown below."), "success"
    )
    return redirect(url_for("web.lead", lead_id=lead_id))


@blp.post("/leads/<lead_id>/decline")
@roles_required(*DEALER_ROLES)
def decline(lead_id: str):
    form = DeclineForm()
    data = load(
        form, DeclineSchema(), compact({"reason": form.reason.data, "note": form.note.data})
    )
    if data is None:
        flash(_("Choose why you decline the lead."), "error")
        return redirect(back("web.inbox"))
    try:
        offers.decline_lead(actor(), lead_id, data["reason"], data.get("note"))
    except Conflict as error:
        refuse(error)
        return redirect(back("web.inbox"))
    flash(_("Declined: the lead goes to the next store."), "success")
    return redirect(back("web.inbox"))


@blp.post("/leads/<lead_id>/progress")
@roles_required(*DEALER_ROLES)
def progress(lead_id: str):
    user = actor()
    lead = access.get_lead(user, lead_id)
    form = ProgressForm.for_lead(lead.status)
    data = load(form, ProgressSchema(), form.payload())
    problem = vin_problem(data["vin"]) if data and data.get("vin") else None
    if problem:
        form.vin.errors = [*form.vin.errors, problem]
    if data is None or problem:
        flash(problem or _("Check the highlighted fields."), "error")
        return render_lead(lead_id, progress=form, status=422)
    try:
        record_progress(user, lead_id, data)
    except Invalid as error:
        refuse(error)
        field = form._fields.get(error.field)
        if field is not None:
            field.errors = [*field.errors, domain_message(error)]
        return render_lead(lead_id, progress=form, status=422)
    except Conflict as error:
        refuse(error)
        return redirect(url_for("web.lead", lead_id=lead_id))
    flash(_("Recorded: %(step)s.", step=label("progress", data["status"])), "success")
    return redirect(back("web.lead", lead_id=lead_id))


@blp.post("/leads/<lead_id>/withdraw")
@roles_required(*DEALER_ROLES)
def withdraw(lead_id: str):
    form = WithdrawForm()
    reason = (form.reason.data or "").strip() or None
    try:
        withdraw_lead(actor(), lead_id, reason)
    except Conflict as error:
        refuse(error)
    else:
        flash(_("Withdrawn: no store will be offered this lead any more."), "success")
    return redirect(url_for("web.lead", lead_id=lead_id))


@blp.post("/leads/<lead_id>/location")
@roles_required(*DEALER_ROLES)
def locate(lead_id: str):
    form = LocationForm()
    data = load(form, LocationInSchema(), compact({"address": form.address.data}))
    if data is None:
        return render_lead(lead_id, location=form, status=422)
    try:
        intake.set_location(actor(), lead_id, data)
    except (Invalid, Conflict) as error:
        refuse(error)
        form.address.errors = [*form.address.errors, domain_message(error)]
        return render_lead(lead_id, location=form, status=422)
    flash(_("Location saved: the lead is being routed."), "success")
    return redirect(url_for("web.lead", lead_id=lead_id))


# --- the list -------------------------------------------------------------------------------


def date_box(text: str | None, *, end: bool = False) -> datetime | None:
    """A date box's YYYY-MM-DD as the UTC start of that day (or of the next) in local time."""
    try:
        day = datetime.strptime(text or "", "%Y-%m-%d").date()
    except ValueError:
        return None
    timezone = select_timezone() or DEFAULT_TIMEZONE
    return local_midnight(day + timedelta(days=1) if end else day, timezone)


def list_filters(args) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    if args.get("status") in LABELS["status"]:
        filters["status"] = args["status"]
    if args.get("brand"):
        filters["brand"] = args["brand"]
    if args.get("view") in ("posted", "offered", "held") and current_user.role in DEALER_ROLES:
        filters["view"] = args["view"]
    created_from, created_to = date_box(args.get("from")), date_box(args.get("to"), end=True)
    if created_from:
        filters["created_from"] = created_from
    if created_to:
        filters["created_to"] = created_to
    return filters


def page_number() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


@blp.get("/leads")
@login_required
def leads():
    """Every lead in the reader's scope; the OEM auditor's landing page (contacts masked)."""
    user = actor()
    page = access.list_leads(user, list_filters(request.args), page_number(), PER_PAGE)
    chains = verify_lead_chains(page.items)
    rows = [
        (present_lead(item, user), chain) for item, chain in zip(page.items, chains, strict=True)
    ]
    if user.oem_id is not None:
        brands = oem_brands(user.oem_id)
    elif user.group_id is not None:
        brands = group_brands(user.group_id)
    else:
        brands = []
    return render_template("leads/list.html", rows=rows, page=page, brands=brands)
