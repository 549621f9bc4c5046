"""A lead's service-level timers, its consultant and the consultant's follow-up notes."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..hours import followup, sla
from ..hours.schemas import (
    ConsultantWriteSchema,
    LeadConsultantSchema,
    NoteSchema,
    NotesSchema,
    NoteWriteSchema,
    SlaTimersSchema,
)
from .openapi import refusals

blp = Blueprint("sla", __name__, url_prefix="/api/v1/leads", description="Service levels")


@blp.route("/<lead_id>/sla")
class LeadSla(MethodView):
    @blp.response(200, SlaTimersSchema)
    def get(self, lead_id):
        """The lead's service-level timers (its holders'), oldest first."""
        return {"items": sla.lead_timers(current_actor(), lead_id)}


@blp.route("/<lead_id>/notes")
class LeadNotes(MethodView):
    @blp.response(200, NotesSchema)
    @refusals(blp, {403: "reason: not_holder_or_referrer (notes are contact data)."})
    def get(self, lead_id):
        """The lead's follow-up notes, newest first (its holder and referrer only)."""
        return {"items": followup.list_notes(current_actor(), lead_id)}

    @blp.arguments(NoteWriteSchema)
    @blp.response(201, NoteSchema)
    @refusals(
        blp,
        {
            403: "reason: not_holder (only the holding store records follow-up).",
            422: "reasons: validation_error, next_at_in_past.",
        },
    )
    def post(self, data, lead_id):
        """Record a follow-up note with an optional next appointment (the store is reminded)."""
        return followup.add_note(current_actor(), lead_id, data)


@blp.route("/<lead_id>/consultant")
class LeadConsultant(MethodView):
    @blp.arguments(ConsultantWriteSchema)
    @blp.response(200, LeadConsultantSchema)
    @refusals(
        blp,
        {
            403: "reasons: not_holder, not_manager (the holding store's manager hands leads).",
            409: "reason: no_timer (claimed before consultants were kept).",
            422: "reasons: validation_error, not_store_member.",
        },
    )
    def put(self, data, lead_id):
        """Hand the lead to another member of the holding store (its manager)."""
        return followup.assign_consultant(current_actor(), lead_id, data["user_id"])
