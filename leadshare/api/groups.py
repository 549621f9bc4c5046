"""Dealer groups and their routing settings (SPEC section 1)."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from ..auth.current import current_actor
from ..schemas import InputSchema, PageArgsSchema, UTCDateTime, page_of
from ..tenancy import service
from .openapi import refusals

blp = Blueprint("groups", __name__, url_prefix="/api/v1/groups", description="Dealer groups")

CODE = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$", error="Use 1-50 letters, digits, - or _."
)


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _timezone(value: str) -> bool:
    if value not in _timezones():
        raise ma.ValidationError("Unknown time zone; use an IANA name like Asia/Shanghai.")
    return True


class GroupSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    code = fields.String()
    timezone = fields.String()
    offer_ttl_minutes = fields.Integer()
    max_offers_per_lead = fields.Integer()
    dedup_window_days = fields.Integer()
    currency = fields.String()
    created_at = UTCDateTime()


class GroupWriteSchema(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    code = fields.String(required=True, validate=CODE)
    timezone = fields.String(validate=_timezone)
    offer_ttl_minutes = fields.Integer(validate=validate.Range(min=1, max=7 * 24 * 60))
    max_offers_per_lead = fields.Integer(validate=validate.Range(min=1, max=50))
    dedup_window_days = fields.Integer(validate=validate.Range(min=0, max=3650))
    currency = fields.String(
        validate=validate.Regexp(r"^[A-Z]{3}$", error="Use an ISO 4217 code like CNY.")
    )


@blp.route("")
class Groups(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_of(GroupSchema))
    def get(self, args):
        """List the groups you can see."""
        return service.list_groups(current_actor(), args["page"], args["per_page"])

    @blp.arguments(GroupWriteSchema)
    @blp.response(201, GroupSchema)
    @refusals(blp, {409: "A group has this code; reason: code_taken."})
    def post(self, data):
        """Create a group (platform admin)."""
        return service.create_group(current_actor(), data)


@blp.route("/<int:group_id>")
class GroupById(MethodView):
    @blp.response(200, GroupSchema)
    def get(self, group_id):
        """One group."""
        return service.get_group(current_actor(), group_id)

    @blp.arguments(GroupWriteSchema(partial=True))
    @blp.response(200, GroupSchema)
    @refusals(blp, {409: "A group has this code; reason: code_taken."})
    def patch(self, data, group_id):
        """Change a group's settings (platform admin)."""
        return service.update_group(current_actor(), group_id, data)
