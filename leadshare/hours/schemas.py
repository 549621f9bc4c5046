"""Hours schemas: opening hours, closures and the calendar as the API reads and writes them.

The shape is checked here; what a schedule means (25:00, overlaps, an end before its start) is
checked by the pure core when the service parses it, so each refusal carries its own reason.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..leads.schemas import DealerRefSchema
from ..schemas import Date, InputSchema, QueryArgsSchema, UTCDateTime
from .schedule import DayKind

SCHEDULE_REFUSALS = (
    "reasons: validation_error, invalid_time, end_before_start, overlapping_intervals, "
    "unknown_day, invalid_hours."
)
"""The 422 reasons of an operation that takes opening hours (for the OpenAPI document)."""
TIME_HINT = '[["09:00", "21:00"], ...]; "24:00" is a valid end; an empty list is closed'


def _intervals(**kwargs) -> fields.List:
    return fields.List(
        fields.List(
            fields.String(validate=validate.Length(max=5)), validate=validate.Length(max=2)
        ),
        validate=validate.Length(max=12),
        **kwargs,
    )


def _weekly(**kwargs) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=validate.Length(max=10)),
        values=_intervals(allow_none=True),
        metadata={"description": f"mon ... sun to intervals {TIME_HINT}; a missing day is closed"},
        **kwargs,
    )


def _holidays(**kwargs) -> fields.List:
    return _intervals(
        allow_none=True,
        metadata={
            "description": "hours on statutory holidays ([]: closed; null: the weekly hours)"
        },
        **kwargs,
    )


class OpeningHoursSchema(InputSchema):
    """`{"weekly": {"mon": [["09:00", "21:00"]], ...}, "holidays": [["10:00", "18:00"]]}`."""

    weekly = _weekly(required=True)
    holidays = _holidays()


class StoreHoursWriteSchema(InputSchema):
    """A store's whole override; `{"weekly": null}` goes back to the group's hours."""

    weekly = _weekly(required=True, allow_none=True)
    holidays = _holidays()


class StoreHoursSchema(ma.Schema):
    weekly = _weekly()
    holidays = _holidays()
    source = fields.String(metadata={"description": "store (its own hours) or group"})
    timezone = fields.String()


class ClosureWriteSchema(InputSchema):
    starts_on = Date(required=True, metadata={"description": "first closed day (local)"})
    ends_on = Date(required=True, metadata={"description": "last closed day (local, inclusive)"})
    reason = fields.String(allow_none=True, validate=validate.Length(max=200))


class ClosureSchema(ma.Schema):
    id = fields.Integer()
    dealer_id = fields.Integer()
    starts_on = fields.Date()
    ends_on = fields.Date()
    reason = fields.String(allow_none=True)
    created_at = UTCDateTime()


YEAR = validate.Range(min=2000, max=2100)


class CalendarArgsSchema(QueryArgsSchema):
    year = fields.Integer(validate=YEAR, metadata={"description": "default: this year"})


class CalendarWriteArgsSchema(QueryArgsSchema):
    year = fields.Integer(required=True, validate=YEAR)


class CalendarDayWriteSchema(InputSchema):
    date = Date(required=True)
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in DayKind]))
    name = fields.String(allow_none=True, validate=validate.Length(max=100))


class CalendarWriteSchema(InputSchema):
    days = fields.List(
        fields.Nested(CalendarDayWriteSchema), required=True, validate=validate.Length(max=366)
    )


class CalendarDaySchema(ma.Schema):
    date = fields.Date(attribute="day")
    kind = fields.String()
    name = fields.String(allow_none=True)
    source = fields.String(metadata={"description": "the built-in package, or group"})


class CalendarSchema(ma.Schema):
    year = fields.Integer()
    known = fields.Boolean(
        metadata={"description": "false: no source knows the year; the weekly hours apply"}
    )
    source = fields.String()
    days = fields.List(fields.Nested(CalendarDaySchema))


class ConsultantSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String(allow_none=True)


class SlaTimerSchema(ma.Schema):
    """One service-level timer of a holder on a lead."""

    kind = fields.String(
        metadata={"description": "contact (open minutes after the claim) or visit (days after)"}
    )
    state = fields.String(metadata={"description": "running, met, missed or closed"})
    dealer = fields.Nested(DealerRefSchema, metadata={"description": "the holding store"})
    consultant = fields.Nested(
        ConsultantSchema,
        allow_none=True,
        metadata={"description": "the staff member following the lead up (the claimer)"},
    )
    started_at = UTCDateTime()
    remind_at = UTCDateTime(allow_none=True)
    due_at = UTCDateTime()
    reminded_at = UTCDateTime(allow_none=True)
    missed_at = UTCDateTime(allow_none=True)
    met_at = UTCDateTime(allow_none=True, metadata={"description": "in time or late"})
    released = fields.Boolean(
        metadata={"description": "the miss gave the lead back to routing without this store"}
    )


class SlaTimersSchema(ma.Schema):
    items = fields.List(fields.Nested(SlaTimerSchema))


class NoteWriteSchema(InputSchema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    next_at = UTCDateTime(
        allow_none=True, metadata={"description": "the next appointment; the store is reminded"}
    )


class NoteSchema(ma.Schema):
    id = fields.Integer()
    text = fields.String(
        allow_none=True, metadata={"description": "null once the customer's data was erased"}
    )
    next_at = UTCDateTime(allow_none=True)
    reminded_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()
    author = fields.Nested(ConsultantSchema)
    dealer = fields.Nested(DealerRefSchema)


class NotesSchema(ma.Schema):
    items = fields.List(fields.Nested(NoteSchema))


class ConsultantWriteSchema(InputSchema):
    user_id = fields.Integer(required=True, metadata={"description": "a member of the store"})


class LeadConsultantSchema(ma.Schema):
    lead_id = fields.String()
    consultant = fields.Nested(ConsultantSchema, allow_none=True)
