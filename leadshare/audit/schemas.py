"""The audit reports' query arguments and answers (the API's, and its OpenAPI document's).

The audit lead extends the lead's own schema pieces (CustomerSchema, PlaceSchema, LeadBaseSchema)
and filters by its CHANNELS.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, fields, validate, validates_schema

from ..clock import utcnow
from ..leads.enums import LeadStatus
from ..leads.schemas import CHANNELS, CustomerSchema, LeadBaseSchema, PlaceSchema
from ..schemas import PageArgsSchema, QueryArgsSchema, UTCDateTime, format_arg, lang_arg
from .flows import LEVELS
from .grouping import GROUP_BYS
from .league import SORTS
from .trends import BYS, PERIODS

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
    lang = lang_arg()


class AuditLeadArgsSchema(AuditFilterArgsSchema, PageArgsSchema):
    pass


class FunnelArgsSchema(AuditFilterArgsSchema):
    group_by = fields.String(load_default="none", validate=validate.OneOf(GROUP_BYS))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=10000))
    table = fields.String(
        load_default="funnel", validate=validate.OneOf(("funnel", "lost_by_holder"))
    )


class FlowArgsSchema(AuditFilterArgsSchema):
    level = fields.String(load_default="dealer", validate=validate.OneOf(LEVELS))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=10000))
    table = fields.String(load_default="matrix", validate=validate.OneOf(("matrix", "reciprocity")))


class VerifyArgsSchema(ForwardRangeSchema):
    created_from = UTCDateTime(required=True, data_key="from")
    created_to = UTCDateTime(required=True, data_key="to")
    format = format_arg()
    lang = lang_arg()


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
    returned = fields.Integer()
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


class DuplicatesSchema(ma.Schema):
    dealer = fields.Nested(RefSchema, metadata={"description": "the store whose share was refused"})
    channel = fields.String()
    customers = fields.Integer(metadata={"description": "distinct customers refused"})


class FunnelSchema(ma.Schema):
    group_by = fields.String()
    total = fields.Nested(FunnelRowSchema)
    rows_total = fields.Integer()
    rows = fields.List(fields.Nested(FunnelRowSchema))
    lost_by_holder_total = fields.Integer()
    lost_by_holder = fields.List(fields.Nested(LostByHolderSchema))
    duplicates_total = fields.Integer(
        metadata={"description": "customers refused as duplicates (each counted once)"}
    )
    duplicates = fields.List(fields.Nested(DuplicatesSchema))


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


# --- trends, speed and the store league table ----------------------------------------------

TREND_MAX_DAYS = {"week": 104 * 7, "month": 1740}
"""The longest range a trend answers (about two years of weeks, 57 months)."""


class TrendArgsSchema(AuditFilterArgsSchema):
    period = fields.String(load_default="week", validate=validate.OneOf(PERIODS))
    by = fields.String(load_default="none", validate=validate.OneOf(BYS))

    @validates_schema
    def range_is_short_enough(self, data, **kwargs):
        start, end = data.get("created_from"), data.get("created_to") or utcnow()
        most = TREND_MAX_DAYS[data.get("period", "week")]
        if start and (end - start).days > most:
            field = "created_to" if data.get("created_to") else "created_from"
            raise ValidationError(f"At most {most} days at once for this period.", field)


class SpeedArgsSchema(AuditFilterArgsSchema):
    pass


class LeagueArgsSchema(AuditFilterArgsSchema):
    sort = fields.String(load_default="received", validate=validate.OneOf(SORTS))
    order = fields.String(load_default="desc", validate=validate.OneOf(("asc", "desc")))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=10000))


class TrendFiguresSchema(ma.Schema):
    shared = fields.Integer()
    accepted = fields.Integer()
    delivered = fields.Integer()
    accept_rate = fields.Float(allow_none=True)
    conversion = fields.Float(allow_none=True)


class TrendPreviousSchema(TrendFiguresSchema):
    start = fields.String()


class TrendPointSchema(TrendFiguresSchema):
    start = fields.String()
    previous = fields.Nested(TrendPreviousSchema)


class TrendSeriesPointSchema(TrendFiguresSchema):
    start = fields.String()


class TrendTotalsSchema(ma.Schema):
    current = fields.Nested(TrendFiguresSchema)
    previous = fields.Nested(TrendFiguresSchema)
    shared_change = fields.Float(allow_none=True)


class TrendSeriesTotalsSchema(ma.Schema):
    current = fields.Nested(TrendFiguresSchema)
    previous = fields.Nested(TrendFiguresSchema)


class TrendSeriesSchema(ma.Schema):
    key = fields.Nested(RefSchema, allow_none=True)
    totals = fields.Nested(TrendSeriesTotalsSchema)
    points = fields.List(fields.Nested(TrendSeriesPointSchema))


class DateRangeSchema(ma.Schema):
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()


class TrendsSchema(ma.Schema):
    period = fields.String()
    by = fields.String()
    time_zone = fields.String()
    current = fields.Nested(DateRangeSchema)
    previous = fields.Nested(DateRangeSchema)
    points = fields.List(fields.Nested(TrendPointSchema))
    totals = fields.Nested(TrendTotalsSchema)
    series_total = fields.Integer()
    series = fields.List(fields.Nested(TrendSeriesSchema))


class SpeedBinSchema(ma.Schema):
    label = fields.String()
    upper_minutes = fields.Integer(allow_none=True)
    count = fields.Integer()


class HistogramSchema(ma.Schema):
    leads = fields.Integer()
    median_minutes = fields.Float(allow_none=True)
    p90_minutes = fields.Float(allow_none=True)
    bins = fields.List(fields.Nested(SpeedBinSchema))


class SpreadSchema(ma.Schema):
    median_minutes = fields.Float(allow_none=True)
    p90_minutes = fields.Float(allow_none=True)


class ClockSpreadSchema(ma.Schema):
    wall = fields.Nested(SpreadSchema, metadata={"description": "wall-clock minutes"})
    open = fields.Nested(SpreadSchema, metadata={"description": "the store's open minutes"})


class SpeedsSchema(ma.Schema):
    to_accept = fields.Nested(
        ClockSpreadSchema, metadata={"description": "from posting to the claim"}
    )
    to_contact = fields.Nested(
        ClockSpreadSchema, metadata={"description": "from the claim to the first contact"}
    )


class StoreSpeedSchema(ma.Schema):
    store = fields.Nested(RefSchema, allow_none=True)
    claimed = fields.Integer()
    contacted_in_sla = fields.Integer()
    missed_sla = fields.Integer()
    share_in_sla = fields.Float(
        allow_none=True, metadata={"description": "contacted in time / (in time + missed)"}
    )
    speeds = fields.Nested(SpeedsSchema)


class SpeedSchema(ma.Schema):
    to_accept = fields.Nested(HistogramSchema)
    to_contact = fields.Nested(HistogramSchema, allow_none=True)
    speeds = fields.Nested(SpeedsSchema)
    stores = fields.List(fields.Nested(StoreSpeedSchema))


class LeaguePartnerSchema(ma.Schema):
    store = fields.Nested(RefSchema)
    given = fields.Integer()
    taken = fields.Integer()
    balance = fields.Integer()


class LeagueRowSchema(ma.Schema):
    store = fields.Nested(RefSchema)
    received = fields.Integer()
    accepted = fields.Integer()
    acceptance_rate = fields.Float(allow_none=True)
    median_minutes_to_accept = fields.Float(allow_none=True)
    expired_unseen = fields.Integer()
    declined = fields.Integer()
    held = fields.Integer()
    visit_rate = fields.Float(allow_none=True)
    delivery_rate = fields.Float(allow_none=True)
    lost_without_contact = fields.Integer()
    contacted_in_sla_rate = fields.Float(
        allow_none=True,
        metadata={"description": "share of decided first-contact timers met within the SLA"},
    )
    median_open_minutes_to_contact = fields.Float(
        allow_none=True, metadata={"description": "median open minutes from claim to contact"}
    )
    shared = fields.Integer()
    given = fields.Integer()
    taken = fields.Integer()
    balance = fields.Integer()
    partners = fields.List(fields.Nested(LeaguePartnerSchema))
    rewards_earned = fields.String()


class LeagueMedianSchema(ma.Schema):
    stores = fields.Integer()
    received = fields.Float(allow_none=True)
    accepted = fields.Float(allow_none=True)
    acceptance_rate = fields.Float(allow_none=True)
    median_minutes_to_accept = fields.Float(allow_none=True)
    expired_unseen = fields.Float(allow_none=True)
    declined = fields.Float(allow_none=True)
    held = fields.Float(allow_none=True)
    visit_rate = fields.Float(allow_none=True)
    delivery_rate = fields.Float(allow_none=True)
    lost_without_contact = fields.Float(allow_none=True)
    contacted_in_sla_rate = fields.Float(
        allow_none=True,
        metadata={"description": "share of decided first-contact timers met within the SLA"},
    )
    median_open_minutes_to_contact = fields.Float(
        allow_none=True, metadata={"description": "median open minutes from claim to contact"}
    )
    shared = fields.Float(allow_none=True)
    given = fields.Float(allow_none=True)
    taken = fields.Float(allow_none=True)
    balance = fields.Float(allow_none=True)


class LeagueSchema(ma.Schema):
    sort = fields.String()
    order = fields.String()
    rewards_shown = fields.Boolean()
    rows_total = fields.Integer()
    rows = fields.List(fields.Nested(LeagueRowSchema))
    median = fields.Nested(LeagueMedianSchema)
