"""Dealers (stores): where they are, what they sell, whether they take leads."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..hours import service as hours
from ..hours.schemas import (
    SCHEDULE_REFUSALS,
    ClosureSchema,
    ClosureWriteSchema,
    StoreHoursSchema,
    StoreHoursWriteSchema,
)
from ..schemas import page_of
from ..tenancy import service
from ..tenancy.schemas import DealerQueryArgsSchema, DealerSchema, DealerWriteSchema
from .common import filtered_page
from .openapi import refusals

blp = Blueprint("dealers", __name__, url_prefix="/api/v1/dealers", description="Dealers")


@blp.route("")
class Dealers(MethodView):
    @blp.arguments(DealerQueryArgsSchema, location="query")
    @blp.response(200, page_of(DealerSchema))
    def get(self, args):
        """List the dealers of your group."""
        return filtered_page(service.list_dealers, args)

    @blp.arguments(DealerWriteSchema)
    @blp.response(201, DealerSchema)
    @refusals(blp, {409: "The group has a dealer with this code; reason: code_taken."})
    def post(self, data):
        """Create a dealer (group admin); the address is geocoded when no coordinates are given."""
        return service.create_dealer(current_actor(), data)


@blp.route("/<int:dealer_id>")
class DealerById(MethodView):
    @blp.response(200, DealerSchema)
    def get(self, dealer_id):
        """One dealer."""
        return service.get_dealer(current_actor(), dealer_id)

    @blp.arguments(DealerWriteSchema(partial=True))
    @blp.response(200, DealerSchema)
    @refusals(
        blp,
        {
            403: "reasons: role_not_allowed, field_not_allowed.",
            409: "The group has a dealer with this code; reason: code_taken.",
        },
    )
    def patch(self, data, dealer_id):
        """Change a dealer (group admin; its manager: operating settings only)."""
        return service.update_dealer(current_actor(), dealer_id, data)


STORE_EDITORS_ONLY = "reason: role_not_allowed (a group admin or the store's manager)."
"""Who may change a store's hours and closures, as the OpenAPI document says it."""


@blp.route("/<int:dealer_id>/hours")
class DealerHours(MethodView):
    @blp.response(200, StoreHoursSchema)
    def get(self, dealer_id):
        """The store's effective opening hours (its own, or its group's)."""
        return hours.get_store_hours(current_actor(), dealer_id)

    @blp.arguments(StoreHoursWriteSchema)
    @blp.response(200, StoreHoursSchema)
    @refusals(
        blp,
        {
            403: STORE_EDITORS_ONLY,
            422: SCHEDULE_REFUSALS,
        },
    )
    def put(self, data, dealer_id):
        """Replace the store's own hours; {"weekly": null} goes back to the group's."""
        return hours.put_store_hours(current_actor(), dealer_id, data)


@blp.route("/<int:dealer_id>/closures")
class DealerClosures(MethodView):
    @blp.response(200, ClosureSchema(many=True))
    def get(self, dealer_id):
        """The store's closures (local dates, inclusive)."""
        return hours.list_closures(current_actor(), dealer_id)

    @blp.arguments(ClosureWriteSchema)
    @blp.response(201, ClosureSchema)
    @refusals(
        blp,
        {
            403: STORE_EDITORS_ONLY,
            422: "reasons: validation_error, end_before_start.",
        },
    )
    def post(self, data, dealer_id):
        """Close the store for a range of days; its pending offers are counted again."""
        return hours.add_closure(current_actor(), dealer_id, data)


@blp.route("/<int:dealer_id>/closures/<int:closure_id>")
class DealerClosureById(MethodView):
    @blp.response(204)
    @refusals(blp, {403: STORE_EDITORS_ONLY})
    def delete(self, dealer_id, closure_id):
        """Remove a closure; the store's pending offers are counted again."""
        hours.delete_closure(current_actor(), dealer_id, closure_id)
