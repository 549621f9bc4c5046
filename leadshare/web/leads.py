"""A lead's page (details, actions, timeline with routing reasons) and the lead list."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from ..audit import export
from ..audit.lead_list import groups_in_scope, iter_audit_leads
from ..auth import scope
from ..auth.models import User
from ..clock import format_local, local_midnight, parse_iso, utcnow
from ..csv_headers import in_language
from ..csvsafe import csv_chunks
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..hours import followup
from ..hours.schemas import ConsultantWriteSchema, NoteWriteSchema
from ..leads import access, intake, offers, search
from ..leads.corrections import correct_lead
from ..leads.enums import EventType, LeadStatus, OfferKind, OfferStatus
from ..leads.events import verify_lead_chain, verify_lead_chains
from ..leads.models import Lead
from ..leads.presenter import present_lead, present_trail
from ..leads.progress import may_undo, record_progress, undo_progress, withdraw_lead
from ..leads.schemas import (
    DeclineSchema,
    LeadCorrectSchema,
    LocationInSchema,
    ProgressSchema,
    UndoSchema,
)
from ..leads.states import can_withdraw, correction_refusal, missing_fields, progress_steps
from ..responses import csv_attachment
from ..rewards.credits import credits_due, credits_standing
from ..rewards.rules import reversible_events_on_lost
from ..routing.ambiguity import qualified_address
from ..vocabulary import DEALER_ROLES, Role
from . import blp
from .confirm import confirmed, credit_lines, render_confirm
from .errors import safe_target
from .forms import (
    CorrectForm,
    DeclineForm,
    LocationForm,
    ProgressForm,
    UndoForm,
    WithdrawForm,
    compact,
    load,
    next_moves,
    whole_number,
)
from .i18n import DEFAULT_TIMEZONE, LABELS, current_language, label, select_timezone
from .lookups import actor, dealer_names, group_brands, oem_brands
from .messages import domain_message, vin_problem
from .returns import return_details, return_panel
from .views import roles_required

PER_PAGE = 20
RETURN_EVENTS = (
    EventType.RETURN_REQUESTED,
    EventType.RETURN_CONTESTED,
    EventType.RETURN_DECIDED,
    EventType.RETURNED,
)


def back(default_endpoint: str, **values: Any) -> str:
    """Where a form asked to return to (its `next` field), else the given page."""
    return safe_target(request.form.get("next"), url_for(default_endpoint, **values))


def refuse(error: Exception) -> None:
    """Tell the person why the attempt was refused, in their language (it wrote nothing)."""
    flash(domain_message(error), "error")


def refuse_at(field, error: Exception, message: str | None = None) -> None:
    """The refusal (or `message`) once, next to its field (the flash only points there);
    without a field, as a flash."""
    text = message or domain_message(error)
    if field is None:
        flash(text, "error")
        return
    field.errors = [*field.errors, text]
    flash(_("Check the highlighted fields."), "error")


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
    elif kind in RETURN_EVENTS:
        rows.extend(return_details(data))
    elif kind in (EventType.WITHDRAWN, EventType.VOIDED):
        if data.get("reason"):
            rows.append((_("Reason"), str(data["reason"])))
        if kind == EventType.VOIDED:
            rows.append((_("Rewards"), _("every reward credit of this lead was reversed")))
    elif kind == EventType.CORRECTED:
        for field, change in (data.get("changes") or {}).items():
            rows.append((label("field", field), _correction(field, change)))
    elif kind == EventType.PROGRESS_UNDONE:
        undone = ", ".join(label("status", stage) for stage in data.get("undone", []))
        rows.append((_("Undone"), undone))
        rows.append((_("Back to"), label("status", data.get("back_to"))))
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
        for key in ("order_ref", "vin"):
            if data.get(key):
                rows.append((label("field", key), str(data[key])))
        if data.get("lost_reason"):
            rows.append((label("field", "lost_reason"), label("lost_reason", data["lost_reason"])))
        if data.get("lost_note"):
            rows.append((label("field", "lost_note"), str(data["lost_note"])))
        if data.get("without_contact"):
            rows.append((_("Contact"), _("lost before any contact was recorded")))
        if data.get("note"):
            rows.append((_("Note"), str(data["note"])))
    elif kind in (EventType.CONSULTANT_ASSIGNED, EventType.SLA_MISSED):
        rows.extend(_follow_up_details(kind, data))
    elif kind not in (EventType.EXPIRED, EventType.NEEDS_LOCATION):
        rows.extend(
            (key, str(value)) for key, value in data.items() if not isinstance(value, dict | list)
        )
    return rows


SLA_NAMES = {"contact": _l("First contact"), "visit": _l("Visit")}


def _follow_up_details(kind: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """Who the lead was handed to; which service time was missed, when it was due, for whom."""
    rows: list[tuple[str, str]] = []
    if kind == EventType.SLA_MISSED:
        rows.append((_("Service time"), str(SLA_NAMES.get(data.get("sla"), data.get("sla")))))
        due = _parse_time(data.get("due_at"))
        if due is not None:
            rows.append((_("Due"), format_local(due, select_timezone() or DEFAULT_TIMEZONE)))
        if data.get("released"):
            rows.append((_("Outcome"), _("the lead went back to routing")))
    name = followup.person_name(data.get("consultant_id"))
    if name is not None:
        rows.append((_("Consultant"), name))
    return rows


def _correction(field: str, change: dict[str, Any]) -> str:
    """`from → to` of one corrected field, places as the page names them."""
    if field == "location":
        old, new = _place(change.get("from")), _place(change.get("to"))
    else:
        old, new = change.get("from") or "", change.get("to") or ""
    return _("%(old)s → %(new)s", old=old or _("none"), new=new or _("none"))


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
        "correct": dealer_id is not None
        and dealer_id == lead.referrer_id
        and correction_refusal(status, held=lead.holder_id is not None) is None,
        "undo": dealer_id is not None and dealer_id == lead.holder_id and may_undo(lead, utcnow()),
    }


def which_city(lead: Lead) -> list[tuple[dict[str, Any], str]]:
    """The "which city?" choices of an ambiguous address: each city with the address to send."""
    candidates = lead.location_candidates or []
    return [(c, qualified_address(c, lead.address or "")) for c in candidates]


# --- follow-up: the consultant, the notes, the next appointment --------------------------------


class NoteForm(FlaskForm):
    FIELDS = {"text": "text", "next_at": "next_at"}
    text = TextAreaField(_l("What happened, what was agreed"))
    next_at = StringField(_l("Next appointment (optional)"))

    def payload(self, timezone: str) -> dict[str, Any] | None:
        """NoteWriteSchema input; the appointment box is read in the group's zone. None when
        that box holds no date and time (its error is on the field)."""
        data = compact({"text": self.text.data})
        typed = (self.next_at.data or "").strip()
        if typed:
            moment = local_moment(typed, timezone)
            if moment is None:
                self.next_at.errors = [
                    *self.next_at.errors,
                    _("Give a date and a time, like 2026-12-09 10:30."),
                ]
                return None
            data["next_at"] = moment
        return data


class ConsultantForm(FlaskForm):
    user_id = SelectField(_l("Hand the lead to"), validate_choice=False)


FOLLOW_UP_REFUSALS = {
    "next_at_in_past": _l("The next appointment must lie ahead."),
    "not_store_member": _l("Choose an active member of the store."),
    "no_timer": _l("This lead was claimed before consultants were kept: it cannot be handed over."),
}


def follow_up_refusal(error: Exception) -> str:
    """The refusal of a follow-up form in the reader's language."""
    known = FOLLOW_UP_REFUSALS.get(getattr(error, "reason", None) or "")
    return str(known) if known is not None else domain_message(error)


def local_moment(text: str, timezone: str) -> str | None:
    """`2026-12-09T10:30` (a datetime-local box) or `2026-12-09 10:30` in the group's zone,
    as ISO-8601 with its offset for the schema; None when it is no such time."""
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            moment = datetime.strptime(text, pattern)
        except ValueError:
            continue
        return moment.replace(tzinfo=ZoneInfo(timezone)).isoformat()
    return None


def followup_panel(
    user: User,
    lead: Lead,
    note_form: NoteForm | None = None,
    consultant_form: ConsultantForm | None = None,
) -> dict[str, Any] | None:
    """What the lead page shows of its follow-up: the consultant to whoever sees the lead;
    the notes and the next appointment to the holder's and the referrer's staff only (contact
    data, as the API); the note form to the holder, the hand-over select to its manager."""
    if lead.holder_id is None:
        return None
    consultant = followup.consultant_of(lead)
    try:
        notes = followup.list_notes(user, lead.public_id)
    except Forbidden:
        notes = None
    for note in notes or []:  # a person without a name is named by their email, as elsewhere
        if not note["author"]["name"]:
            note["author"]["name"] = followup.person_name(note["author"]["id"])
    holder = user.role in DEALER_ROLES and user.dealer_id == lead.holder_id
    manages = holder and user.role == Role.MANAGER and consultant is not None
    if manages and consultant_form is None:
        consultant_form = ConsultantForm(formdata=None, data={"user_id": str(consultant.id)})
    if manages:
        consultant_form.user_id.choices = [
            (str(member.id), member.name or member.email)
            for member in followup.store_members(lead.holder_id)
        ]
    upcoming = [n["next_at"] for n in (notes or [])[:1] if n["next_at"] is not None]
    return {
        "consultant": consultant,
        "notes": notes,
        "erased": lead.erased_at is not None,
        "next_at": upcoming[0] if upcoming else None,
        "due": bool(upcoming) and upcoming[0] <= utcnow(),
        "note_form": (note_form or NoteForm(formdata=None)) if holder else None,
        "consultant_form": consultant_form if manages else None,
    }


def render_lead(
    lead_id: str,
    *,
    progress: ProgressForm | None = None,
    location: LocationForm | None = None,
    correct: CorrectForm | None = None,
    note_form: NoteForm | None = None,
    consultant_form: ConsultantForm | None = None,
    status: int = 200,
):
    user = actor()
    lead = access.get_lead(user, lead_id)
    trail = present_trail(lead, user)
    shown = trail["lead"]
    returns = return_panel(user, lead)
    actions = lead_actions(user, lead, shown)
    actions["progress"] = actions["progress"] and not returns["is_open"]  # the lead stands still
    return render_template(
        "leads/detail.html",
        lead=shown,
        actions=actions,
        events=timeline(trail),
        offers=trail["offers"],
        chain=verify_lead_chain(lead),
        progress=progress or ProgressForm.for_lead(lead.status, formdata=None),
        order_ref_recorded=bool(lead.order_ref),
        decline=DeclineForm(formdata=None),
        withdraw=WithdrawForm(formdata=None),
        location=location or LocationForm(formdata=None),
        which_city=which_city(lead),
        correct=correct or CorrectForm(formdata=None, data=_correct_defaults(shown)),
        undo=UndoForm(formdata=None),
        can_void=user.role == Role.GROUP_ADMIN
        and user.group_id == lead.group_id
        and lead.voided_at is None,
        voided=(lead.voided_at, lead.void_reason) if lead.voided_at else None,
        returns=returns,
        follow=followup_panel(user, lead, note_form, consultant_form),
    ), status


def _correct_defaults(shown: dict[str, Any]) -> dict[str, Any]:
    return {
        "brand": shown["brand"],
        "model": shown["model"],
        "address": shown["location"].get("address"),
    }


@blp.get("/leads/<lead_id>")
@login_required
def lead(lead_id: str):
    return render_lead(lead_id)


# --- actions --------------------------------------------------------------------------------


@blp.post("/leads/<lead_id>/claim")
@roles_required(*DEALER_ROLES)
def claim(lead_id: str):
    user = actor()
    try:
        offers.claim_lead(user, lead_id)
    except Conflict as error:
        if error.reason == "already_claimed" and _held_by_my_store(user, lead_id):
            flash(
                _(
                    "A colleague at your store claimed this lead first: it is your store's. "
                    "Talk to them before you call the customer."
                ),
                "info",
            )
            return redirect(url_for("web.lead", lead_id=lead_id))
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
        declined = offers.decline_lead(actor(), lead_id, data["reason"], data.get("note"))
    except Conflict as error:
        refuse(error)
        return redirect(back("web.inbox"))
    flash(_declined_message(declined), "success")
    return redirect(back("web.inbox"))


def _held_by_my_store(user: User, lead_id: str) -> bool:
    """Whether the lead a claim lost is held by the claimer's own store (a colleague won)."""
    try:
        return access.get_lead(user, lead_id).holder_id == user.dealer_id
    except NotFound:
        return False


def _declined_message(lead: Lead) -> str:
    """Where the declined lead went: the next store, the board, or nowhere."""
    if lead.status == LeadStatus.OPEN:
        return _(
            "Declined: no other store was in reach, so the lead is on the board now, where any "
            "store of the group may claim it."
        )
    if lead.status == LeadStatus.UNROUTABLE:
        return _("Declined: no other store can take this lead now.")
    return _("Declined: the lead goes to the next store.")


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
        flash(_("Check the highlighted fields."), "error")
        return render_lead(lead_id, progress=form, status=422)
    missing = missing_fields(
        LeadStatus(data["status"]), order_ref_recorded=bool(lead.order_ref), data=data
    )
    if not confirmed() and not missing and _asks_first(lead, data["status"]):
        return _confirm_progress(lead, form, data)
    try:
        record_progress(user, lead_id, data)
    except Invalid as error:
        refuse_at(form._fields.get(error.field), error)
        return render_lead(lead_id, progress=form, status=422)
    except Conflict as error:
        refuse(error)
        return redirect(url_for("web.lead", lead_id=lead_id))
    flash(_("Recorded: %(step)s.", step=label("progress", data["status"])), "success")
    return redirect(back("web.lead", lead_id=lead_id))


def _asks_first(lead: Lead, target: str) -> bool:
    """A loss, or a move that skips stages, is confirmed on a page first (a move the lead
    cannot make is refused at once instead)."""
    steps = _steps(lead, target)
    return bool(steps) and (target == LeadStatus.LOST or len(steps) > 1)


def _steps(lead: Lead, target: str) -> list[LeadStatus]:
    try:
        return progress_steps(LeadStatus(lead.status), LeadStatus(target))
    except Conflict:
        return []


def _confirm_progress(lead: Lead, form: ProgressForm, data: dict[str, Any]):
    """What the step will record and credit (or, for a loss, reverse), before it is recorded."""
    target = data["status"]
    if target == LeadStatus.LOST:
        lines = [
            _(
                "Mark the lead lost (%(reason)s); it cannot move on afterwards.",
                reason=label("lost_reason", data.get("lost_reason")),
            )
        ]
        reversed_ = credits_standing(lead, reversible_events_on_lost())
        lines += credit_lines(reversed_, lead.referrer.name, reversed_=True)
        title = _("Mark this lead lost?")
    else:
        steps = _steps(lead, target)
        lines = [
            _(
                "Record these stages as reached: %(stages)s.",
                stages=", ".join(label("status", s) for s in steps),
            )
        ]
        lines += credit_lines(credits_due(lead, steps), lead.referrer.name, reversed_=False)
        title = _("Record %(step)s and the stages before it?", step=label("progress", target))
    return render_confirm(
        title=title,
        lines=lines,
        action=url_for("web.progress", lead_id=lead.public_id),
        fields={**form.payload(), "next": request.form.get("next")},
        button=_("Confirm: %(step)s", step=label("progress", target)),
        back=url_for("web.lead", lead_id=lead.public_id),
        danger=target == LeadStatus.LOST,
    )


@blp.post("/leads/<lead_id>/progress/undo")
@roles_required(*DEALER_ROLES)
def undo_progress_step(lead_id: str):
    form = UndoForm()
    data = load(form, UndoSchema(), compact({"reason": form.reason.data}))
    if data is None:
        flash(_("Say why you undo this step."), "error")
        return redirect(url_for("web.lead", lead_id=lead_id))
    try:
        lead = undo_progress(actor(), lead_id, data["reason"])
    except Conflict as error:
        refuse(error)
    else:
        flash(
            _("Step undone: the lead is back at %(status)s.", status=label("status", lead.status)),
            "success",
        )
    return redirect(url_for("web.lead", lead_id=lead_id))


@blp.post("/leads/<lead_id>/correct")
@roles_required(*DEALER_ROLES)
def correct(lead_id: str):
    user = actor()
    shown = present_lead(access.get_lead(user, lead_id), user)
    form = CorrectForm()
    data = load(form, LeadCorrectSchema(), form.payload(shown))
    if data is None:
        flash(_("Change the brand, the model or the address to correct the lead."), "error")
        return render_lead(lead_id, correct=form, status=422)
    try:
        lead = correct_lead(user, lead_id, data)
    except (Invalid, Conflict) as error:
        refuse(error)
        return render_lead(lead_id, correct=form, status=422 if isinstance(error, Invalid) else 409)
    flash(*routed_message(lead))
    return redirect(url_for("web.lead", lead_id=lead_id))


def routed_message(lead: Lead) -> tuple[str, str]:
    """What a share or a correction led to, and the flash category: green only when a store
    was offered the lead or it is on the board; otherwise what happened and what to do."""
    if lead.status == LeadStatus.OFFERED:
        offer = access.current_offer(lead)
        return _(
            "Shared: offered to %(store)s (%(km).1f km from the customer).",
            store=offer.dealer.name,
            km=offer.distance_km or 0,
        ), "success"
    if lead.status == LeadStatus.OPEN:
        return _(
            "Shared: no store was free to take it, so it is on the board for every eligible "
            "store to claim."
        ), "success"
    if lead.status == LeadStatus.NEEDS_LOCATION and lead.location_candidates:
        return _(
            "Saved, but several cities have a district of that name: tap the customer's city "
            "below and the lead will be routed."
        ), "warning"
    if lead.status == LeadStatus.NEEDS_LOCATION:
        return _(
            "Saved, but not shared yet: the address could not be located. Add a clearer address "
            "(city and district) on this page and it will be routed."
        ), "warning"
    if lead.status == LeadStatus.UNROUTABLE:
        return _(
            "Not shared: no other store of the group sells %(brand)s. Check the brand and "
            "correct it on this page, or withdraw the lead.",
            brand=lead.brand,
        ), "warning"
    return _("Saved: %(status)s.", status=label("status", lead.status)), "warning"


@blp.post("/leads/<lead_id>/notes")
@roles_required(*DEALER_ROLES)
def add_note(lead_id: str):
    """The holding store's consultant records a follow-up and the next appointment."""
    user = actor()
    form = NoteForm()
    payload = form.payload(user.group.timezone if user.group else DEFAULT_TIMEZONE)
    data = None if payload is None else load(form, NoteWriteSchema(), payload)
    if data is None:
        flash(_("Check the highlighted fields."), "error")
        return render_lead(lead_id, note_form=form, status=422)
    try:
        followup.add_note(user, lead_id, data)
    except Invalid as error:
        refuse_at(form._fields.get(error.field), error, follow_up_refusal(error))
        return render_lead(lead_id, note_form=form, status=422)
    flash(_("Follow-up saved."), "success")
    return redirect(url_for("web.lead", lead_id=lead_id))


@blp.post("/leads/<lead_id>/consultant")
@roles_required(Role.MANAGER)
def hand_over(lead_id: str):
    """The holding store's manager hands the lead to another active member of the store."""
    form = ConsultantForm()
    data = load(form, ConsultantWriteSchema(), {"user_id": whole_number(form.user_id.data or "")})
    if data is None:
        flash(_("Check the highlighted fields."), "error")
        return render_lead(lead_id, consultant_form=form, status=422)
    try:
        handed = followup.assign_consultant(actor(), lead_id, data["user_id"])
    except Invalid as error:
        refuse_at(form.user_id, error, follow_up_refusal(error))
        return render_lead(lead_id, consultant_form=form, status=422)
    except Conflict as error:
        flash(follow_up_refusal(error), "error")
        return redirect(url_for("web.lead", lead_id=lead_id))
    person = handed["consultant"]
    name = followup.person_name(person["id"])
    flash(_("Handed over: %(name)s follows this lead up.", name=name), "success")
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
        refuse_at(form.address, error)
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
    if current_user.role == Role.OEM_AUDITOR and args.get("group_id", type=int):
        filters["group_id"] = args.get("group_id", type=int)
    return {**filters, **search_filters(args)}


SORT_LABELS = {
    "newest": _l("Newest first"),
    "oldest": _l("Oldest first"),
    "status": _l("By status"),
}


def search_filters(args) -> dict[str, Any]:
    """The search box's text and the chosen order, as list_leads filters."""
    filters: dict[str, Any] = {}
    text = (args.get("q") or "").strip()
    if text:
        filters["q"] = text
    if args.get("sort") in search.SORTS:
        filters["sort"] = args["sort"]
    return filters


def search_box(user: User, args, keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """What the search form shows: the text, the order, what the text could not be taken for,
    and the other filters it keeps (hidden fields, so searching keeps the status chip)."""
    text = (args.get("q") or "").strip()
    kind = search.search_kind(user, text) if text else None
    notes = {
        "lead_id_only": _("Search by lead id only (it starts with ld_)."),
        "bad_phone": _("This is not a valid phone number: type the whole number."),
    }
    contacts = search.searches_contacts(user)
    return {
        "q": text,
        "sort": args.get("sort") if args.get("sort") in search.SORTS else "newest",
        "sorts": [(value, str(text)) for value, text in SORT_LABELS.items()],
        "note": notes.get(kind or ""),
        "label": _("Find a lead") if contacts else _("Lead id"),
        "placeholder": _("Lead id, phone or customer name") if contacts else "ld_…",
        "keep": [(name, args[name]) for name in keep if args.get(name)],
    }


def page_number() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


@blp.get("/leads")
@login_required
def leads():
    """Every lead in the reader's scope; the OEM auditor's landing page (contacts masked), with
    a group column and filter and the filtered list as CSV (`format=csv`)."""
    user = actor()
    filters = list_filters(request.args)
    auditor = user.role == Role.OEM_AUDITOR
    if auditor and request.args.get("format") == "csv":
        return _audit_csv(user, filters)
    page = access.list_leads(user, filters, page_number(), PER_PAGE)
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
    groups = groups_in_scope(user) if auditor else []
    return render_template(
        "leads/list.html",
        rows=rows,
        page=page,
        brands=brands,
        groups=groups,
        group_names=dict(groups),
        group_of={item.public_id: item.group_id for item in page.items},
        search=search_box(user, request.args, keep=("status", "brand", "from", "to", "group_id")),
    )


def _audit_csv(user: User, filters: dict[str, Any]):
    """The auditor's list as a CSV: every lead matching the filters (the audit export)."""
    wanted = ("brand", "group_id", "status", "created_from", "created_to")
    table = export.lead_table(
        iter_audit_leads(user, {k: v for k, v in filters.items() if k in wanted})
    )
    filename = f"leadshare-leads-{utcnow():%Y%m%d-%H%M%S}.csv"
    table = in_language("leads", table, current_language())
    return csv_attachment(stream_with_context(csv_chunks(table)), filename)
