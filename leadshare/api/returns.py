"""Returns and disputes: the holder returns a lead, the referrer answers, a group admin decides."""

from __future__ import annotations

from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..leads import disputes
from ..leads.schemas import (
    ContestSchema,
    DecideSchema,
    ReturnInSchema,
    ReturnQueryArgsSchema,
    ReturnSchema,
)
from ..schemas import page_of
from .common import filtered_page
from .openapi import refusals

blp = Blueprint("returns", __name__, url_prefix="/api/v1", description="Returns and disputes")

ANSWER_REFUSALS = "reasons: no_return, awaiting_admin, return_decided"


@blp.route("/leads/<string:lead_id>/return", methods=["POST"])
@blp.arguments(ReturnInSchema)
@blp.response(201, ReturnSchema)
@refusals(
    blp,
    {
        403: "reasons: role_not_allowed, not_holder.",
        409: "reasons: return_window_closed, return_pending, return_decided, not_returnable.",
    },
)
def request_return(data, lead_id):
    """Return a lead your store holds (accepted, contacted or visited) within the window."""
    return disputes.request_return(current_actor(), lead_id, data["reason"], data.get("note"))


@blp.route("/leads/<string:lead_id>/return/accept", methods=["POST"])
@blp.response(200, ReturnSchema)
@refusals(blp, {403: "reasons: role_not_allowed, not_referrer.", 409: f"{ANSWER_REFUSALS}."})
def accept_return(lead_id):
    """Accept the return of a lead your store posted: it ends returned, its credits reversed."""
    return disputes.accept_return(current_actor(), lead_id)


@blp.route("/leads/<string:lead_id>/return/contest", methods=["POST"])
@blp.arguments(ContestSchema)
@blp.response(200, ReturnSchema)
@refusals(
    blp,
    {
        403: "reasons: role_not_allowed, not_referrer.",
        409: f"{ANSWER_REFUSALS}, dispute_window_closed.",
    },
)
def contest_return(data, lead_id):
    """Contest the return of a lead your store posted, within the dispute window."""
    return disputes.contest_return(current_actor(), lead_id, data["note"])


@blp.route("/leads/<string:lead_id>/return/decide", methods=["POST"])
@blp.arguments(DecideSchema)
@blp.response(200, ReturnSchema)
@refusals(blp, {409: "reasons: no_return, not_disputed, return_decided."})
def decide_return(data, lead_id):
    """Decide a disputed return (group admin): returned ends the lead, kept gives it back."""
    return disputes.decide_return(current_actor(), lead_id, data["outcome"], data.get("note"))


@blp.route("/returns")
@blp.arguments(ReturnQueryArgsSchema, location="query")
@blp.response(200, page_of(ReturnSchema))
def returns(args):
    """Your group's returns waiting for a group admin (or those of a status), oldest first."""
    return filtered_page(disputes.list_returns, args)
