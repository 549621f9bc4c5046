"""Returns on the lead page (the holder returns, the referrer answers, a group admin decides)
and the group admin's disputes page. The disputes service decides; these pages only ask it."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from ..auth import scope
from ..auth.models import User
from ..clock import parse_iso, utcnow
from ..errors import Conflict
from ..leads import disputes
from ..leads.enums import ReturnReason, ReturnStatus
from ..leads.models import Lead
from ..leads.returns import AWAITING_ADMIN, OPEN, Outcome, in_return_window, return_window_closes_at
from ..leads.schemas import ContestSchema, DecideSchema, ReturnInSchema
from ..leads.states import RETURNABLE
from ..vocabulary import DEALER_ROLES, Role
from . import blp
from .errors import safe_target
from .forms import choices, compact, load
from .i18n import RETURN_OUTCOME, RETURN_REASON, RETURN_STATUS, label, localtime
from .lookups import actor
from .messages import domain_message
from .views import roles_required

PER_PAGE = 20


class ReturnForm(FlaskForm):
    reason = SelectField(
        _l("Why return it?"),
        choices=choices(ReturnReason, RETURN_REASON, blank=_l("Choose a reason")),
        validate_choice=False,
    )
    note = TextAreaField(_l("Note for the referrer (optional)"))


class ContestForm(FlaskForm):
    note = TextAreaField(_l("Why the lead is good"))


class DecideForm(FlaskForm):
    outcome = SelectField(
        _l("Decision"),
        choices=choices(Outcome, RETURN_OUTCOME, blank=_l("Choose a decision")),
        validate_choice=False,
    )
    note = StringField(_l("Note (optional)"))


def return_panel(user: User, lead: Lead) -> dict[str, Any]:
    """What the lead page shows of returns to this user: the return (if any) and its forms."""
    found = disputes.return_of(lead)
    group = lead.group
    is_store = user.role in DEALER_ROLES and user.group_id == lead.group_id
    open_window = in_return_window(lead.accepted_at, utcnow(), group.return_window_days)
    pending = found is not None and found.status == ReturnStatus.PENDING
    return {
        "found": found,
        "is_open": found is not None and found.status in OPEN,
        "can_return": is_store
        and user.dealer_id == lead.holder_id
        and found is None
        and lead.status in RETURNABLE
        and open_window,
        "window_closes_at": return_window_closes_at(lead.accepted_at, group.return_window_days)
        if lead.accepted_at
        else None,
        "can_accept": is_store and user.dealer_id == lead.referrer_id and pending,
        "can_contest": is_store
        and user.dealer_id == lead.referrer_id
        and found is not None
        and (found.status == ReturnStatus.REVIEW or (pending and utcnow() < found.dispute_due_at)),
        "can_decide": found is not None
        and found.status in AWAITING_ADMIN
        and user.role == Role.GROUP_ADMIN
        and scope.is_group_admin_of(user, lead.group_id),
        "form": ReturnForm(formdata=None),
        "contest": ContestForm(formdata=None),
        "decide": DecideForm(formdata=None),
    }


def _done(lead_id: str, act, message: str):
    """Run one disputes step; flash the outcome or the refusal; back to where the form was."""
    try:
        act()
    except Conflict as error:
        flash(domain_message(error), "error")
    else:
        flash(message, "success")
    return redirect(safe_target(request.form.get("next"), url_for("web.lead", lead_id=lead_id)))


def _form_step(lead_id: str, form: FlaskForm, schema, ask: str, act, done):
    """Load the form with the API schema (on refusal flash `ask`), then run `act(data)` and
    flash `done(data)`; back to the lead page (or where the form said)."""
    payload = {name: field.data for name, field in form._fields.items() if name != "csrf_token"}
    data = load(form, schema, compact(payload))
    if data is None:
        flash(ask, "error")
        return redirect(url_for("web.lead", lead_id=lead_id))
    return _done(lead_id, lambda: act(data), done(data))


@blp.post("/leads/<lead_id>/return")
@roles_required(*DEALER_ROLES)
def return_lead(lead_id: str):
    """The holder returns the lead, with a reason and a note."""
    return _form_step(
        lead_id,
        ReturnForm(),
        ReturnInSchema(),
        _("Choose why you return the lead (a note may have up to 1000 characters)."),
        lambda data: disputes.request_return(actor(), lead_id, data["reason"], data.get("note")),
        lambda data: _("Returned: the referrer may accept or contest it."),
    )


@blp.post("/leads/<lead_id>/return/accept")
@roles_required(*DEALER_ROLES)
def accept_return(lead_id: str):
    """The referrer accepts the return: the lead ends returned, its credits are reversed."""
    return _done(
        lead_id,
        lambda: disputes.accept_return(actor(), lead_id),
        _("Return accepted: the lead is closed and its reward credits were reversed."),
    )


@blp.post("/leads/<lead_id>/return/contest")
@roles_required(*DEALER_ROLES)
def contest_return(lead_id: str):
    """The referrer contests the return: a group admin decides."""
    return _form_step(
        lead_id,
        ContestForm(),
        ContestSchema(),
        _("Say why the lead is good (up to 1000 characters)."),
        lambda data: disputes.contest_return(actor(), lead_id, data["note"]),
        lambda data: _("Contested: a group admin will decide."),
    )


@blp.post("/leads/<lead_id>/return/decide")
@roles_required(Role.GROUP_ADMIN)
def decide_return(lead_id: str):
    """A group admin decides a disputed return."""
    return _form_step(
        lead_id,
        DecideForm(),
        DecideSchema(),
        _("Choose a decision (a note may have up to 1000 characters)."),
        lambda data: disputes.decide_return(actor(), lead_id, data["outcome"], data.get("note")),
        lambda data: _("Decided: %(outcome)s.", outcome=RETURN_OUTCOME[data["outcome"]]),
    )


@blp.get("/disputes", endpoint="disputes")
@roles_required(Role.GROUP_ADMIN)
def disputes_page():
    """The group's returns waiting for an admin (or those of another status), oldest first."""
    status = request.args.get("status")
    filters = {"status": status} if status in RETURN_STATUS else {}
    page = max(1, request.args.get("page", 1, type=int) or 1)
    found = disputes.list_returns(actor(), filters, page, PER_PAGE)
    return render_template(
        "returns/disputes.html",
        page=found,
        status=filters.get("status"),
        statuses=list(RETURN_STATUS),
        decide=DecideForm(formdata=None),
    )


def return_details(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The facts of a return event on the timeline, as (label, value) pairs."""
    rows: list[tuple[str, str]] = []
    if data.get("reason"):
        rows.append((_("Reason"), label("return_reason", data["reason"])))
    if data.get("outcome"):
        rows.append((_("Decision"), label("return_outcome", data["outcome"])))
    if data.get("by"):
        rows.append((_("How"), label("returned_by", data["by"])))
    if data.get("over_return_rate"):
        rows.append((_("Over the return rate"), _("a group admin decides")))
    due = parse_iso(data["dispute_due_at"]) if data.get("dispute_due_at") else None
    if due is not None and not data.get("over_return_rate"):
        rows.append((_("Contest by"), localtime(due)))
    if data.get("note"):
        rows.append((_("Note"), str(data["note"])))
    return rows
