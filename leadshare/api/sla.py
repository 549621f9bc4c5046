"""A lead's service-level timers: first contact and visit, due, reminded, met or missed."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..hours import sla
from ..hours.schemas import SlaTimersSchema

blp = Blueprint("sla", __name__, url_prefix="/api/v1/leads", description="Service levels")


@blp.route("/<lead_id>/sla")
class LeadSla(MethodView):
    @blp.response(200, SlaTimersSchema)
    def get(self, lead_id):
        """The lead's service-level timers (its holders'), oldest first."""
        return {"items": sla.lead_timers(current_actor(), lead_id)}
