"""OEM retail confirmation (issue 17 item 3): the codes each OEM knows a store by."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..retail import codes
from ..retail.schemas import OemCodesInSchema, OemCodesSchema
from .openapi import refusals

blp = Blueprint("retail", __name__, url_prefix="/api/v1", description="OEM retail confirmation")


@blp.route("/dealers/<int:dealer_id>/oem-codes")
class DealerOemCodes(MethodView):
    @blp.response(200, OemCodesSchema)
    def get(self, dealer_id):
        """The codes each OEM knows the store by (group admin)."""
        return codes.oem_codes(current_actor(), dealer_id)

    @blp.arguments(OemCodesInSchema)
    @blp.response(200, OemCodesSchema)
    @refusals(blp, {409: "Another store has this code with the OEM; reasons: code_taken."})
    def put(self, data, dealer_id):
        """Set the store's OEM dealer codes, one per OEM, each unique within its OEM."""
        return codes.set_oem_codes(current_actor(), dealer_id, data["codes"])
