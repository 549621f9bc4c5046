"""Returning a lead and disputing the return (issue 17): holder, referrer, group admin, sweep.

Every step is one unit of work on the locked lead row, so a return and a progress step (or two
answers to one return) are decided one after the other; the rules come from leads/returns.py.
An accepted return ends the lead `returned` with a `returned` event, on which the rewards domain
reverses the lead's credits in the same transaction (as it does for a void).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..auth import scope
from ..auth.models import User
from ..clock import utcnow
from ..errors import Conflict
from ..extensions import db
from ..pagination import Page, paginate
from ..uow import transactional, unit_of_work
from ..vocabulary import Role
from .access import store_lead, visible
from .enums import EventType, LeadStatus, ReturnReason, ReturnStatus
from .events import append_event
from .models import Lead, LeadReturn
from .returns import (
    AWAITING_ADMIN,
    OPEN,
    RATE_PERIOD_DAYS,
    Outcome,
    ReturnRefusal,
    accept_refusal,
    accepted_in_silence,
    contest_refusal,
    decide_refusal,
    dispute_due_at,
    over_return_rate,
    request_refusal,
    status_on_request,
)
from .states import move

REFUSALS: Mapping[ReturnRefusal, str] = {
    ReturnRefusal.RETURN_PENDING: "This lead has a return waiting for an answer.",
    ReturnRefusal.RETURN_DECIDED: "This lead's return was already decided.",
    ReturnRefusal.NOT_RETURNABLE: "Only a lead that is accepted, contacted or visited may be"
    " returned.",
    ReturnRefusal.RETURN_WINDOW_CLOSED: "The group's return window for this lead has closed.",
    ReturnRefusal.NO_RETURN: "This lead was not returned.",
    ReturnRefusal.AWAITING_ADMIN: "This return waits for a group admin's decision.",
    ReturnRefusal.DISPUTE_WINDOW_CLOSED: "The time to contest this return has passed.",
    ReturnRefusal.NOT_DISPUTED: "This return waits for the referrer's answer, not an admin's.",
}


def refuse(refusal: ReturnRefusal | None) -> None:
    """Raise the 409 for a refusal (nothing when there is none)."""
    if refusal is not None:
        raise Conflict(REFUSALS[refusal], reason=refusal.value)


def return_of(lead: Lead) -> LeadReturn | None:
    """The lead's return, if it was ever returned (one per lead)."""
    return db.session.scalar(select(LeadReturn).where(LeadReturn.lead_id == lead.id))


def refuse_while_returning(lead: Lead) -> None:
    """A lead with an open return stands still: 409 `return_pending` for any progress step."""
    found = return_of(lead)
    if found is not None and found.status in OPEN:
        refuse(ReturnRefusal.RETURN_PENDING)


def store_return_rate(holder_id: int, now: datetime) -> tuple[int, int]:
    """(returns made, leads accepted) by the store over the last RATE_PERIOD_DAYS."""
    since = now - timedelta(days=RATE_PERIOD_DAYS)
    returns = db.session.scalar(
        select(func.count()).where(
            LeadReturn.holder_id == holder_id, LeadReturn.requested_at >= since
        )
    )
    accepted = db.session.scalar(
        select(func.count()).where(Lead.holder_id == holder_id, Lead.accepted_at >= since)
    )
    return int(returns or 0), int(accepted or 0)


@transactional
def request_return(
    actor: User, public_id: str, reason: str, note: str | None = None, now: datetime | None = None
) -> LeadReturn:
    """The holder returns an accepted, contacted or visited lead within the group's window;
    over the group's return rate the return waits for a group admin instead of the referrer."""
    now = now or utcnow()
    lead = store_lead(actor, public_id, "holder", "Only the store holding this lead may return it.")
    existing = return_of(lead)
    group = lead.group
    refuse(
        request_refusal(
            lead.status,
            existing.status if existing else None,
            accepted_at=lead.accepted_at,
            now=now,
            window_days=group.return_window_days,
        )
    )
    over_rate = over_return_rate(*store_return_rate(lead.holder_id, now), group.max_return_rate)
    returned = LeadReturn(
        lead_id=lead.id,
        group_id=lead.group_id,
        holder_id=lead.holder_id,
        referrer_id=lead.referrer_id,
        status=status_on_request(over_rate),
        reason=ReturnReason(reason).value,
        note=note,
        lead_status=lead.status,
        requested_at=now,
        requested_by_id=actor.id,
        dispute_due_at=dispute_due_at(now, group.dispute_window_hours),
        is_over_rate=over_rate,
        lead=lead,
    )
    db.session.add(returned)
    append_event(
        lead,
        EventType.RETURN_REQUESTED,
        at=now,
        actor=actor,
        dealer_id=lead.holder_id,
        data={
            "reason": returned.reason,
            "note": note,
            "dispute_due_at": returned.dispute_due_at,
            "over_return_rate": over_rate,
        },
    )
    return returned


def _end_returned(lead: Lead, returned: LeadReturn, now: datetime, actor: User | None, by: str):
    """The return is accepted: the lead ends `returned`; the event reverses its credits."""
    returned.status = ReturnStatus.ACCEPTED
    returned.decided_at = now
    lead.status = move(lead.status, LeadStatus.RETURNED)
    append_event(
        lead,
        EventType.RETURNED,
        at=now,
        actor=actor,
        dealer_id=lead.holder_id,
        data={"by": by, "reason": returned.reason},
    )


def _referrer_return(actor: User, public_id: str) -> tuple[Lead, LeadReturn | None]:
    lead = store_lead(
        actor, public_id, "referrer", "Only the store that posted this lead may answer its return."
    )
    return lead, return_of(lead)


@transactional
def accept_return(actor: User, public_id: str, now: datetime | None = None) -> LeadReturn:
    """The referrer accepts the return: the lead ends `returned` and its credits are reversed."""
    now = now or utcnow()
    lead, returned = _referrer_return(actor, public_id)
    refuse(accept_refusal(returned.status if returned else None))
    returned.decided_by_id = actor.id
    _end_returned(lead, returned, now, actor, "referrer")
    return returned


@transactional
def contest_return(
    actor: User, public_id: str, note: str, now: datetime | None = None
) -> LeadReturn:
    """The referrer contests the return within the dispute window: a group admin decides."""
    now = now or utcnow()
    lead, returned = _referrer_return(actor, public_id)
    refuse(
        contest_refusal(
            returned.status if returned else None,
            returned.dispute_due_at if returned else None,
            now,
        )
    )
    returned.status = ReturnStatus.CONTESTED
    returned.contest_note, returned.contested_at, returned.contested_by_id = note, now, actor.id
    append_event(
        lead,
        EventType.RETURN_CONTESTED,
        at=now,
        actor=actor,
        dealer_id=lead.referrer_id,
        data={"note": note},
    )
    return returned


@transactional
def decide_return(
    actor: User, public_id: str, outcome: str, note: str | None = None, now: datetime | None = None
) -> LeadReturn:
    """A group admin decides a disputed return: `returned` ends the lead (credits reversed),
    `kept` gives it back to its holder as it was."""
    now = now or utcnow()
    lead = visible(actor, public_id, lock=True)
    scope.require_group_admin(actor, lead.group_id)
    returned = return_of(lead)
    refuse(decide_refusal(returned.status if returned else None))
    returned.decided_by_id, returned.decision_note = actor.id, note
    append_event(
        lead,
        EventType.RETURN_DECIDED,
        at=now,
        actor=actor,
        data={"outcome": outcome, "note": note},
    )
    if Outcome(outcome) == Outcome.RETURNED:
        _end_returned(lead, returned, now, actor, "group_admin")
    else:
        returned.status, returned.decided_at = ReturnStatus.KEPT, now
    return returned


def list_returns(actor: User, filters: Mapping[str, Any], page: int, per_page: int) -> Page:
    """A group's returns for its admins (a platform admin's: every group), oldest first; by
    default the open disputes (contested or over the rate cap), else the status asked."""
    query = select(LeadReturn)
    if actor.role != Role.PLATFORM_ADMIN:
        query = query.where(LeadReturn.group_id == actor.group_id)
    status = filters.get("status")
    statuses = [status] if status else sorted(AWAITING_ADMIN)
    query = query.where(LeadReturn.status.in_(statuses)).options(
        joinedload(LeadReturn.lead), joinedload(LeadReturn.holder), joinedload(LeadReturn.referrer)
    )
    return paginate(query.order_by(LeadReturn.requested_at, LeadReturn.id), page, per_page)


def sweep_returns(now: datetime | None = None, *, batch: int = 200) -> int:
    """Accept every pending return whose dispute window passed in silence; many sweepers may
    run at once (leads taken with SKIP LOCKED on PostgreSQL). Returns how many were accepted."""
    now = now or utcnow()
    accepted = 0
    while True:
        with unit_of_work():
            due = select(LeadReturn.lead_id).where(
                LeadReturn.status == ReturnStatus.PENDING, LeadReturn.dispute_due_at <= now
            )
            leads = list(
                db.session.scalars(
                    select(Lead)
                    .where(Lead.id.in_(due))
                    .order_by(Lead.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                    .execution_options(populate_existing=True)
                )
            )
            done = 0
            for lead in leads:
                returned = db.session.scalar(
                    select(LeadReturn)
                    .where(LeadReturn.lead_id == lead.id)
                    .execution_options(populate_existing=True)
                )
                if accepted_in_silence(returned.status, returned.dispute_due_at, now):
                    _end_returned(lead, returned, now, None, "silence")
                    done += 1
            accepted += done
        if not leads or not done:
            return accepted
