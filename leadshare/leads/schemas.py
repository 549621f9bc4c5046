"""The lead schemas: what a request about a lead may carry, and how a lead is shown."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, fields, validate, validates, validates_schema

from ..schemas import InputSchema, PageArgsSchema, UTCDateTime
from .contact import normalise_phone
from .enums import DeclineReason, LeadStatus, LostReason, ReturnReason, ReturnStatus
from .returns import Outcome
from .states import lost_note_missing

CONSENT_CHANNELS = ("in_person", "phone", "wecom", "qr_notice", "online_form", "other")
"""How the customer gave consent (privacy/notice.py shows the notice itself)."""

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
PROGRESS_TARGETS = tuple(
    s.value
    for s in (
        LeadStatus.CONTACTED,
        LeadStatus.VISITED,
        LeadStatus.ORDERED,
        LeadStatus.DELIVERED,
        LeadStatus.LOST,
    )
)
"""The statuses a holder may record (accepted is reached by the claim)."""


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


class ConsentInSchema(InputSchema):
    text_version = fields.String(
        validate=validate.Length(min=1, max=50),
        metadata={"description": "The version of the consent notice the customer was shown."},
    )
    channel = fields.String(
        validate=validate.OneOf(CONSENT_CHANNELS),
        metadata={"description": "How the customer gave consent."},
    )


class LeadCreateSchema(InputSchema):
    customer = fields.Nested(CustomerInSchema, required=True)
    location = fields.Nested(LocationInSchema, required=True)
    brand = fields.String(required=True, validate=validate.Length(min=1, max=100))
    model = fields.String(validate=validate.Length(min=1, max=100))
    budget = fields.String(validate=validate.Length(min=1, max=100))
    timeframe = fields.String(validate=validate.OneOf(TIMEFRAMES))
    source = fields.Nested(SourceInSchema, required=True)
    consent_to_share = fields.Boolean(required=True)
    consent = fields.Nested(
        ConsentInSchema,
        metadata={"description": "Evidence of the consent; a group may require both fields."},
    )
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
    reason = fields.String(required=True, validate=validate.OneOf([r.value for r in DeclineReason]))
    note = fields.String(validate=validate.Length(max=500))


class ProgressSchema(InputSchema):
    status = fields.String(required=True, validate=validate.OneOf(PROGRESS_TARGETS))
    order_ref = fields.String(validate=validate.Length(min=1, max=100))
    vin = fields.String(validate=validate.Length(max=40))
    lost_reason = fields.String(validate=validate.OneOf([r.value for r in LostReason]))
    lost_note = fields.String(validate=validate.Length(max=500))
    note = fields.String(validate=validate.Length(max=500))

    @validates_schema
    def other_needs_a_note(self, data, **kwargs):
        if lost_note_missing(data.get("lost_reason"), data.get("lost_note")):
            raise ValidationError("A loss for another reason needs a note.", "lost_note")


class UndoSchema(InputSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class LeadCorrectSchema(InputSchema):
    """What the referrer may correct on a lead no store holds yet: brand, model, location."""

    brand = fields.String(validate=validate.Length(min=1, max=100))
    model = fields.String(validate=validate.Length(max=100))
    location = fields.Nested(LocationInSchema)

    @validates_schema
    def something_to_correct(self, data, **kwargs):
        if not data:
            raise ValidationError("Give a brand, a model or a location to correct.", "brand")


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


class CandidateSchema(ma.Schema):
    """One place an ambiguous address may mean: the answer to "which city?"."""

    province = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    district = fields.String(allow_none=True)
    adcode = fields.String()


class LocationSchema(PlaceSchema):
    address = fields.String(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    source = fields.String(allow_none=True)
    candidates = fields.List(
        fields.Nested(CandidateSchema),
        metadata={
            "description": "a needs_location lead whose address names a district several "
            "cities share: the cities to choose from (PATCH .../location with the city written)"
        },
    )


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


class ConsentSchema(ma.Schema):
    at = UTCDateTime()
    text_version = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)


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
    lost_note = fields.String(allow_none=True)
    lost_without_contact = fields.Boolean(
        metadata={"description": "lost before any contact was recorded (lost at accepted)"}
    )
    voided_at = UTCDateTime(allow_none=True)
    void_reason = fields.String(allow_none=True)
    consent = fields.Nested(ConsentSchema)


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


# --- returns and disputes (issue 17) --------------------------------------------------------


class ReturnInSchema(InputSchema):
    reason = fields.String(required=True, validate=validate.OneOf([r.value for r in ReturnReason]))
    note = fields.String(validate=validate.Length(max=1000))


class ContestSchema(InputSchema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class DecideSchema(InputSchema):
    outcome = fields.String(required=True, validate=validate.OneOf([o.value for o in Outcome]))
    note = fields.String(validate=validate.Length(max=1000))


class ReturnQueryArgsSchema(PageArgsSchema):
    status = fields.String(
        validate=validate.OneOf([s.value for s in ReturnStatus]),
        metadata={"description": "default: the open disputes (contested, review)"},
    )


class ReturnSchema(ma.Schema):
    lead_id = fields.Function(lambda r: r.lead.public_id)
    lead_status = fields.Function(lambda r: r.lead.status)
    status = fields.String(
        metadata={
            "description": "pending (the referrer's answer), contested or review (over the"
            " store's return rate: a group admin decides), accepted (the lead is returned), kept"
        }
    )
    reason = fields.String()
    note = fields.String(allow_none=True)
    holder = fields.Nested(DealerRefSchema)
    referrer = fields.Nested(DealerRefSchema)
    returned_from = fields.String(attribute="lead_status")
    requested_at = UTCDateTime()
    dispute_due_at = UTCDateTime()
    over_return_rate = fields.Boolean(attribute="is_over_rate")
    contest_note = fields.String(allow_none=True)
    contested_at = UTCDateTime(allow_none=True)
    decision_note = fields.String(allow_none=True)
    decided_at = UTCDateTime(allow_none=True)
