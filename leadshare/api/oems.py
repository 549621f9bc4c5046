"""OEMs (manufacturers) and the brands whose lead flow their auditors watch."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..schemas import PageArgsSchema, page_of
from ..tenancy import service
from ..tenancy.schemas import OemCreateSchema, OemSchema
from .openapi import refusals

blp = Blueprint("oems", __name__, url_prefix="/api/v1/oems", description="Manufacturers")


@blp.route("")
class Oems(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_of(OemSchema))
    def get(self, args):
        """List OEMs."""
        return service.list_oems(current_actor(), args["page"], args["per_page"])

    @blp.arguments(OemCreateSchema)
    @blp.response(201, OemSchema)
    @refusals(blp, {409: "Name or brand taken; reasons: name_taken, brand_taken."})
    def post(self, data):
        """Create an OEM with its brands (platform admin)."""
        return service.create_oem(current_actor(), data)
