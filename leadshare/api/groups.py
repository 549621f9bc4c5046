"""Dealer groups and their routing settings (SPEC section 1)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..hours import service as hours
from ..hours.schemas import (
    SCHEDULE_REFUSALS,
    CalendarArgsSchema,
    CalendarSchema,
    CalendarWriteArgsSchema,
    CalendarWriteSchema,
)
from ..schemas import PageArgsSchema, page_of
from ..tenancy import service
from ..tenancy.schemas import GroupSchema, GroupWriteSchema
from .openapi import refusals

blp = Blueprint("groups", __name__, url_prefix="/api/v1/groups", description="Dealer groups")


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
    @refusals(
        blp,
        {
            403: "reasons: role_not_allowed, field_not_allowed (a group admin changes only "
            "its group's hours, SLA and return settings).",
            409: "A group has this code; reason: code_taken.",
            422: SCHEDULE_REFUSALS,
        },
    )
    def patch(self, data, group_id):
        """Change a group's settings (platform admin; its group admins: hours, SLAs, returns)."""
        return service.update_group(current_actor(), group_id, data)


@blp.route("/<int:group_id>/calendar")
class GroupCalendar(MethodView):
    @blp.arguments(CalendarArgsSchema, location="query")
    @blp.response(200, CalendarSchema)
    def get(self, args, group_id):
        """The group's holidays and make-up workdays of a year (built in, and its own)."""
        return hours.get_calendar(current_actor(), group_id, args.get("year"))

    @blp.arguments(CalendarWriteArgsSchema, location="query")
    @blp.arguments(CalendarWriteSchema)
    @blp.response(200, CalendarSchema)
    @refusals(
        blp,
        {
            403: "reason: role_not_allowed (the group's admins).",
            422: "reasons: validation_error, date_outside_year, duplicate_day.",
        },
    )
    def put(self, args, data, group_id):
        """Replace the group's own days of a year (kind normal cancels a built-in day)."""
        return hours.put_calendar(current_actor(), group_id, args["year"], data["days"])
