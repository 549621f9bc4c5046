"""Dealer groups and their routing settings (SPEC section 1)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
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
    @refusals(blp, {409: "A group has this code; reason: code_taken."})
    def patch(self, data, group_id):
        """Change a group's settings (platform admin)."""
        return service.update_group(current_actor(), group_id, data)
