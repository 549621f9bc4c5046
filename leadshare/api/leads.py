"""Leads: intake, offers, claims, progress, withdrawal, trails (SPEC sections 2, 3 and 5)."""

from __future__ import annotations

import hashlib
from functools import wraps

from flask import Response, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..leads import access, idempotency, intake, offers
from ..leads.corrections import correct_lead
from ..leads.events import verify_lead_chain
from ..leads.presenter import present_lead, present_trail
from ..leads.progress import record_progress, undo_progress, withdraw_lead
from ..leads.schemas import (
    DeclineSchema,
    LeadCorrectSchema,
    LeadCreateSchema,
    LeadQueryArgsSchema,
    LeadSchema,
    LocationInSchema,
    ProgressSchema,
    TrailSchema,
    UndoSchema,
    VerifySchema,
    WithdrawSchema,
)
from ..schemas import PageArgsSchema, page_of
from .common import filtered_page
from .openapi import refusals

blp = Blueprint("leads", __name__, url_prefix="/api/v1", description="Leads")


# --- views ---------------------------------------------------------------------------------


def _lead_json(lead, actor) -> tuple[int, str]:
    """The 201 answer to a posted lead, as the JSON text an Idempotency-Key replays."""
    return 201, jsonify(LeadSchema().dump(present_lead(lead, actor))).get_data(as_text=True)


def idempotent(view):
    """Replay the first successful answer to a POST carrying the same Idempotency-Key."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key", "").strip()[:200]
        if not key:
            return view(*args, **kwargs)
        actor = current_actor()
        fingerprint = hashlib.sha256(request.get_data()).hexdigest()
        replay = idempotency.lookup(actor, key, fingerprint)
        if replay is None:
            once = idempotency.Once(key, fingerprint, lambda lead: _lead_json(lead, actor))
            try:
                return view(*args, once=once, **kwargs)
            except idempotency.KeyTaken:
                replay = idempotency.lookup(actor, key, fingerprint)
        if replay.body is None:  # a lead stored without its answer: answer from the lead
            status, body = _lead_json(access.get_lead(actor, replay.lead_id), actor)
            idempotency.remember(actor, key, status, body)
            return _json(status, body)
        return _json(replay.status_code, replay.body)

    return wrapper


def _json(status: int, body: str) -> Response:
    return Response(body, status=status, mimetype="application/json")


def _page(page):
    actor = current_actor()
    page.items = [present_lead(lead, actor) for lead in page.items]
    return page


def presented(act, *args, **kwargs):
    """Run a lead service as the current actor; answer the lead as that actor may see it."""
    actor = current_actor()
    return present_lead(act(actor, *args, **kwargs), actor)


@blp.route("/leads")
class Leads(MethodView):
    @blp.arguments(LeadQueryArgsSchema, location="query")
    @blp.response(200, page_of(LeadSchema))
    def get(self, args):
        """List leads in your scope."""
        return _page(filtered_page(access.list_leads, args))

    @idempotent
    @blp.arguments(LeadCreateSchema)
    @blp.response(201, LeadSchema)
    @refusals(
        blp,
        {
            409: "Refused (`duplicate_of` names the live lead); reasons: duplicate_lead,"
            " not_shareable,"
            " idempotency_key_reused, request_in_progress.",
            422: "Fields invalid; reasons: validation_error, and unknown_brand (a brand no store"
            " of the group sells, with `suggestions`: the nearest catalogue brands).",
        },
    )
    def post(self, data, once=None):
        """Share a lead: it is geocoded and routed to the nearest eligible store."""
        actor = current_actor()
        lead = intake.post_lead(actor, data, idempotency=once)
        return _json(*once.answer) if once else present_lead(lead, actor)


@blp.route("/leads/<string:lead_id>")
class LeadById(MethodView):
    @blp.response(200, LeadSchema)
    def get(self, lead_id):
        """One lead."""
        return presented(access.get_lead, lead_id)

    @blp.arguments(LeadCorrectSchema)
    @blp.response(200, LeadSchema)
    @refusals(
        blp,
        {
            403: "reasons: role_not_allowed, not_referrer.",
            409: "reasons: lead_held, not_correctable (with `lead_status`), not_shareable.",
            422: "reasons: validation_error, nothing_to_correct, address_not_found.",
        },
    )
    def patch(self, data, lead_id):
        """Correct the brand, model or location of a lead no store holds; it is routed again."""
        return presented(correct_lead, lead_id, data)


@blp.route("/leads/<string:lead_id>/claim", methods=["POST"])
@blp.response(200, LeadSchema)
@refusals(blp, {409: "reasons: already_claimed, offer_expired, not_offered, invalid_transition."})
def claim(lead_id):
    """Claim a lead offered to your store, or an open lead from the board."""
    return presented(offers.claim_lead, lead_id)


@blp.route("/leads/<string:lead_id>/decline", methods=["POST"])
@blp.arguments(DeclineSchema)
@blp.response(200, LeadSchema)
@refusals(blp, {409: "reasons: offer_expired, not_offered, invalid_transition."})
def decline(data, lead_id):
    """Decline an offer, with a reason; the lead goes to the next store."""
    return presented(offers.decline_lead, lead_id, data["reason"], data.get("note"))


@blp.route("/leads/<string:lead_id>/progress", methods=["POST"])
@blp.arguments(ProgressSchema)
@blp.response(200, LeadSchema)
@refusals(blp, {403: "reasons: role_not_allowed, not_holder.", 409: "reasons: invalid_transition."})
def progress(data, lead_id):
    """Record progress on a lead your store holds (skipped stages count as reached)."""
    return presented(record_progress, lead_id, data)


@blp.route("/leads/<string:lead_id>/progress/undo", methods=["POST"])
@blp.arguments(UndoSchema)
@blp.response(200, LeadSchema)
@refusals(
    blp,
    {
        403: "reasons: role_not_allowed, not_holder.",
        409: "reasons: nothing_to_undo, undo_too_late.",
    },
)
def undo(data, lead_id):
    """Undo your store's last progress step within 24 hours; its credits are reversed."""
    return presented(undo_progress, lead_id, data["reason"])


@blp.route("/leads/<string:lead_id>/withdraw", methods=["POST"])
@blp.arguments(WithdrawSchema, required=False)
@blp.response(200, LeadSchema)
@refusals(
    blp, {403: "reasons: role_not_allowed, not_referrer.", 409: "reasons: invalid_transition."}
)
def withdraw(data, lead_id):
    """Withdraw a lead your store posted, before any store accepted it (unroutable too)."""
    return presented(withdraw_lead, lead_id, data.get("reason"))


@blp.route("/leads/<string:lead_id>/location", methods=["PATCH"])
@blp.arguments(LocationInSchema)
@blp.response(200, LeadSchema)
@refusals(
    blp,
    {
        403: "reasons: role_not_allowed, not_referrer.",
        409: "reasons: location_already_set, not_shareable.",
        422: "reasons: validation_error, address_not_found, and ambiguous_address (with"
        " `candidates`: write the chosen city in front of the address).",
    },
)
def location(data, lead_id):
    """Give a lead stored as needs_location its location; routing then runs."""
    return presented(intake.set_location, lead_id, data)


@blp.route("/leads/<string:lead_id>/trail")
@blp.response(200, TrailSchema)
def trail(lead_id):
    """The lead's events and routing decisions."""
    actor = current_actor()
    return present_trail(access.get_lead(actor, lead_id), actor)


@blp.route("/leads/<string:lead_id>/verify")
@blp.response(200, VerifySchema)
def verify(lead_id):
    """Recompute the lead's hash chain."""
    return verify_lead_chain(access.get_lead(current_actor(), lead_id)).to_dict()


@blp.route("/board")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(LeadSchema))
def board(args):
    """Open leads your store may claim, nearest first."""
    return _page(access.board(current_actor(), args["page"], args["per_page"]))
