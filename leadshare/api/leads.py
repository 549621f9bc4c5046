"""Leads: intake, offers, claims, progress, withdrawal, trails (SPEC sections 2, 3 and 5)."""

from __future__ import annotations

import hashlib
from functools import wraps

import marshmallow as ma
from flask import Response, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError, fields, validate, validates, validates_schema

from ..auth.current import current_actor
from ..leads import idempotency, service
from ..leads.contact import normalise_phone
from ..leads.enums import LeadStatus
from ..leads.events import verify_lead_chain
from ..leads.presenter import present_lead, present_trail
from ..leads.service import DECLINE_REASONS
from ..schemas import InputSchema, PageArgsSchema, UTCDateTime, page_of
from .common import filtered_page
from .openapi import refusals

blp = Blueprint("leads", __name__, url_prefix="/api/v1", description="Leads")

CHANNELS = (
    "livestream",
    "short_video",
    "vertical_media",
    "wecom",
    "walk_in",
    "event",
    "phone",
    "website",
    "referral",
    "other",
)
TIMEFRAMES = ("now", "1m", "3m", "6m", "later")
PROGRESS_TARGETS = ("contacted", "visited", "ordered", "delivered", "lost")


# --- input ---------------------------------------------------------------------------------


class CustomerInSchema(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    phone = fields.String(validate=validate.Length(max=40))
    wechat_id = fields.String(validate=validate.Length(min=1, max=100))

    @validates("phone")
    def phone_is_real(self, value: str, **kwargs) -> None:
        try:
            normalise_phone(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    @validates_schema
    def one_way_to_reach(self, data, **kwargs):
        if not data.get("phone") and not data.get("wechat_id"):
            raise ValidationError("Give a phone number or a WeChat ID.", "phone")

    @ma.post_load
    def normalise(self, data, **kwargs):
        if data.get("phone"):
            data["phone"] = normalise_phone(data["phone"])
        data["name"] = data["name"].strip()
        return data


class LocationInSchema(InputSchema):
    latitude = fields.Float(validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(validate=validate.Range(min=-180, max=180))
    address = fields.String(validate=validate.Length(min=1, max=500))

    @validates_schema
    def something_to_locate(self, data, **kwargs):
        if ("latitude" in data) != ("longitude" in data):
            raise ValidationError("Give latitude and longitude together.", "latitude")
        if "latitude" not in data and not data.get("address"):
            raise ValidationError("Give an address, or latitude and longitude.", "address")


class SourceInSchema(InputSchema):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    campaign = fields.String(validate=validate.Length(min=1, max=100))


class LeadCreateSchema(InputSchema):
    customer = fields.Nested(CustomerInSchema, required=True)
    location = fields.Nested(LocationInSchema, required=True)
    brand = fields.String(required=True, validate=validate.Length(min=1, max=100))
    model = fields.String(validate=validate.Length(min=1, max=100))
    budget = fields.String(validate=validate.Length(min=1, max=100))
    timeframe = fields.String(validate=validate.OneOf(TIMEFRAMES))
    source = fields.Nested(SourceInSchema, required=True)
    consent_to_share = fields.Boolean(required=True)
    notes = fields.String(validate=validate.Length(max=2000))

    @validates("consent_to_share")
    def consent_given(self, value: bool, **kwargs) -> None:
        if value is not True:
            raise ValidationError(
                "The customer's separate consent to share their details is required (PIPL art. 23)."
            )


class LeadQueryArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf([s.value for s in LeadStatus]))
    view = fields.String(validate=validate.OneOf(("posted", "offered", "held")))
    brand = fields.String()
    created_from = UTCDateTime()
    created_to = UTCDateTime()


class DeclineSchema(InputSchema):
    reason = fields.String(required=True, validate=validate.OneOf(DECLINE_REASONS))
    note = fields.String(validate=validate.Length(max=500))


class ProgressSchema(InputSchema):
    status = fields.String(required=True, validate=validate.OneOf(PROGRESS_TARGETS))
    order_ref = fields.String(validate=validate.Length(min=1, max=100))
    vin = fields.String(validate=validate.Length(max=40))
    lost_reason = fields.String(validate=validate.Length(min=1, max=500))
    note = fields.String(validate=validate.Length(max=500))


class WithdrawSchema(InputSchema):
    reason = fields.String(validate=validate.Length(max=500))


# --- output --------------------------------------------------------------------------------


class DealerRefSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class CustomerSchema(ma.Schema):
    name = fields.String()
    phone = fields.String(allow_none=True)
    wechat_id = fields.String(allow_none=True)
    masked = fields.Boolean()


class PlaceSchema(ma.Schema):
    precision = fields.String(allow_none=True)
    province = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    district = fields.String(allow_none=True)
    adcode = fields.String(allow_none=True)


class LocationSchema(PlaceSchema):
    address = fields.String(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    source = fields.String(allow_none=True)


class SourceSchema(ma.Schema):
    channel = fields.String()
    campaign = fields.String(allow_none=True)


class CurrentOfferSchema(ma.Schema):
    dealer = fields.Nested(DealerRefSchema)
    status = fields.String(
        metadata={
            "description": "pending; expired once expires_at has passed, before the worker's"
            " sweep routes the lead on"
        }
    )
    distance_km = fields.Float(allow_none=True)
    offered_at = UTCDateTime()
    expires_at = UTCDateTime()


class LeadBaseSchema(ma.Schema):
    """What every view of a lead shows; the lead and audit schemas add their own."""

    id = fields.String()
    status = fields.String()
    share_reason = fields.String(allow_none=True)
    brand = fields.String()
    model = fields.String(allow_none=True)
    offers_made = fields.Integer()
    lost_reason = fields.String(allow_none=True)
    created_at = UTCDateTime()
    accepted_at = UTCDateTime(allow_none=True)


class LeadSchema(LeadBaseSchema):
    budget = fields.String(allow_none=True)
    timeframe = fields.String(allow_none=True)
    customer = fields.Nested(CustomerSchema)
    location = fields.Nested(LocationSchema)
    source = fields.Nested(SourceSchema)
    notes = fields.String(allow_none=True)
    referrer = fields.Nested(DealerRefSchema)
    holder = fields.Nested(DealerRefSchema, allow_none=True)
    current_offer = fields.Nested(CurrentOfferSchema, allow_none=True)
    routing_pending = fields.Boolean(
        metadata={
            "description": "true while the current offer has expired and the lead waits for the"
            " worker's sweep to offer it to the next store (or put it on the board)"
        }
    )
    order_ref = fields.String(allow_none=True)
    vin = fields.String(allow_none=True)
    updated_at = UTCDateTime()


class EventSchema(ma.Schema):
    seq = fields.Integer()
    type = fields.String()
    at = UTCDateTime()
    actor_id = fields.Integer(allow_none=True)
    dealer = fields.Nested(DealerRefSchema, allow_none=True)
    data = fields.Dict()
    prev_hash = fields.String()
    hash = fields.String()


class OfferSchema(ma.Schema):
    dealer = fields.Nested(DealerRefSchema)
    kind = fields.String()
    status = fields.String()
    distance_km = fields.Float(allow_none=True)
    offered_at = UTCDateTime()
    expires_at = UTCDateTime(allow_none=True)
    responded_at = UTCDateTime(allow_none=True)
    decline_reason = fields.String(allow_none=True)


class TrailSchema(ma.Schema):
    lead = fields.Nested(LeadSchema)
    events = fields.List(fields.Nested(EventSchema))
    offers = fields.List(fields.Nested(OfferSchema))


class VerifySchema(ma.Schema):
    ok = fields.Boolean()
    events = fields.Integer()
    broken_at = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)


# --- views ---------------------------------------------------------------------------------


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
            try:
                kwargs["idempotency"] = (key, fingerprint)
                response = view(*args, **kwargs)
            except idempotency.KeyTaken:
                replay = idempotency.lookup(actor, key, fingerprint)
            else:
                idempotency.remember(
                    actor, key, response.status_code, response.get_data(as_text=True)
                )
                return response
        if replay.body is None:  # the lead was committed, its answer never stored: rebuild it
            lead = service.get_lead(actor, replay.lead_id)
            response = jsonify(LeadSchema().dump(present_lead(lead, actor)))
            response.status_code = 201
            idempotency.remember(actor, key, 201, response.get_data(as_text=True))
            return response
        return Response(replay.body, status=replay.status_code, mimetype="application/json")

    return wrapper


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
        return _page(filtered_page(service.list_leads, args))

    @idempotent
    @blp.arguments(LeadCreateSchema)
    @blp.response(201, LeadSchema)
    @refusals(
        blp,
        {
            409: "Refused (`duplicate_of` names the live lead); reasons: duplicate_lead,"
            " not_shareable,"
            " idempotency_key_reused, request_in_progress."
        },
    )
    def post(self, data, idempotency=None):
        """Share a lead: it is geocoded and routed to the nearest eligible store."""
        return presented(service.post_lead, data, idempotency=idempotency)


@blp.route("/leads/<string:lead_id>")
class LeadById(MethodView):
    @blp.response(200, LeadSchema)
    def get(self, lead_id):
        """One lead."""
        return presented(service.get_lead, lead_id)


@blp.route("/leads/<string:lead_id>/claim", methods=["POST"])
@blp.response(200, LeadSchema)
@refusals(blp, {409: "reasons: already_claimed, offer_expired, not_offered, invalid_transition."})
def claim(lead_id):
    """Claim a lead offered to your store, or an open lead from the board."""
    return presented(service.claim_lead, lead_id)


@blp.route("/leads/<string:lead_id>/decline", methods=["POST"])
@blp.arguments(DeclineSchema)
@blp.response(200, LeadSchema)
@refusals(blp, {409: "reasons: offer_expired, not_offered, invalid_transition."})
def decline(data, lead_id):
    """Decline an offer, with a reason; the lead goes to the next store."""
    return presented(service.decline_lead, lead_id, data["reason"], data.get("note"))


@blp.route("/leads/<string:lead_id>/progress", methods=["POST"])
@blp.arguments(ProgressSchema)
@blp.response(200, LeadSchema)
@refusals(blp, {403: "reasons: role_not_allowed, not_holder.", 409: "reasons: invalid_transition."})
def progress(data, lead_id):
    """Record progress on a lead your store holds (skipped stages count as reached)."""
    return presented(service.record_progress, lead_id, data)


@blp.route("/leads/<string:lead_id>/withdraw", methods=["POST"])
@blp.arguments(WithdrawSchema, required=False)
@blp.response(200, LeadSchema)
@refusals(
    blp, {403: "reasons: role_not_allowed, not_referrer.", 409: "reasons: invalid_transition."}
)
def withdraw(data, lead_id):
    """Withdraw a lead your store posted, before any store accepted it."""
    return presented(service.withdraw_lead, lead_id, data.get("reason"))


@blp.route("/leads/<string:lead_id>/location", methods=["PATCH"])
@blp.arguments(LocationInSchema)
@blp.response(200, LeadSchema)
@refusals(
    blp,
    {
        403: "reasons: role_not_allowed, not_referrer.",
        409: "reasons: location_already_set, not_shareable.",
    },
)
def location(data, lead_id):
    """Give a lead stored as needs_location its location; routing then runs."""
    return presented(service.set_location, lead_id, data)


@blp.route("/leads/<string:lead_id>/trail")
@blp.response(200, TrailSchema)
def trail(lead_id):
    """The lead's events and routing decisions."""
    actor = current_actor()
    return present_trail(service.get_lead(actor, lead_id), actor)


@blp.route("/leads/<string:lead_id>/verify")
@blp.response(200, VerifySchema)
def verify(lead_id):
    """Recompute the lead's hash chain."""
    return verify_lead_chain(service.get_lead(current_actor(), lead_id)).to_dict()


@blp.route("/board")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(LeadSchema))
def board(args):
    """Open leads your store may claim, nearest first."""
    return _page(service.board(current_actor(), args["page"], args["per_page"]))
