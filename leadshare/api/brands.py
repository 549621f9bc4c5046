"""The brand catalogue: the brands a group's stores sell and the aliases that name them."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..brands import service
from ..brands.schemas import AliasSchema, BrandArgsSchema, BrandListSchema, BrandSchema
from .openapi import refusals

blp = Blueprint("brands", __name__, url_prefix="/api/v1/brands", description="Brand catalogue")


@blp.route("")
class Brands(MethodView):
    @blp.arguments(BrandArgsSchema, location="query")
    @blp.response(200, BrandListSchema)
    @refusals(blp, {404: "Not your group; reason: not_found."})
    def get(self, args):
        """List the group's catalogue brands with their aliases (an auditor: its OEM's)."""
        return {"items": service.list_brands(current_actor(), args.get("group_id"))}


@blp.route("/<string:name>/aliases")
class BrandAliases(MethodView):
    @blp.arguments(AliasSchema)
    @blp.response(201, BrandSchema)
    @refusals(
        blp,
        {
            404: "The group sells no such brand; reasons: not_found, unknown_brand.",
            409: "The alias names another brand of the group; reason: alias_taken.",
        },
    )
    def post(self, data, name):
        """Add an alias to one of the group's catalogue brands (group admin)."""
        return service.add_alias(current_actor(), name, data["alias"])
