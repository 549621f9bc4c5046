"""The holder records a held lead's progress (SPEC 5); the referrer withdraws an unaccepted one.

Each service is one unit of work on the locked lead row; the moves come from states.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from ..auth.models import User
from ..clock import utcnow
from ..errors import Conflict, Invalid
from ..extensions import db
from ..uow import transactional
from .access import store_lead
from .disputes import refuse_while_returning
from .enums import EventType, LeadStatus, OfferStatus
from .events import append_event, lead_events
from .models import Lead, LeadEvent, Offer
from .offers import expire_due
from .states import (
    UNDO_WINDOW_HOURS,
    UNDOABLE_EVENTS,
    can_withdraw,
    lost_note_missing,
    lost_without_contact,
    missing_fields,
    move,
    progress_rank,
    progress_steps,
    status_before_step,
)
from .vin import normalize_vin, vin_error


@transactional
def record_progress(
    actor: User, public_id: str, data: Mapping[str, Any], now: datetime | None = None
) -> Lead:
    """SPEC 5: the holder moves the lead forward (skips count as reached) or marks it lost."""
    now = now or utcnow()
    lead = store_lead(
        actor, public_id, "holder", "Only the store holding this lead may record its progress."
    )
    refuse_while_returning(lead)
    target = LeadStatus(data["status"])
    steps = progress_steps(LeadStatus(lead.status), target)
    missing = missing_fields(target, order_ref_recorded=bool(lead.order_ref), data=data)
    if missing:
        raise Invalid(
            missing[0], f"Moving to {target} needs {', '.join(missing)}.", reason="missing_field"
        )
    if "vin" in data and data.get("vin"):
        problem = vin_error(data["vin"])
        if problem:
            raise Invalid("vin", problem, reason="invalid_vin")
        lead.vin = normalize_vin(data["vin"])
    if data.get("order_ref"):
        lead.order_ref = data["order_ref"]
    if target == LeadStatus.LOST:
        if lost_note_missing(data["lost_reason"], data.get("lost_note")):
            raise Invalid(
                "lost_note", "A loss for another reason needs a note.", reason="missing_field"
            )
        lead.lost_reason, lead.lost_note = data["lost_reason"], data.get("lost_note") or None
    rank_before = lead.progress_rank
    # The lead's new state before its events: a handler's query flushes the first event, and
    # the row then goes in that one UPDATE (with the chain head), not in a second at commit.
    lead.status = move(lead.status, target)
    lead.progress_rank = max(rank_before, progress_rank(steps[-1]))
    for step in steps:
        details: dict[str, Any] = {"skipped": step != target}
        if step == target:
            details.update(
                {
                    k: data[k]
                    for k in ("order_ref", "lost_reason", "lost_note", "note")
                    if data.get(k)
                }
            )
            if step == LeadStatus.LOST and lost_without_contact(step, rank_before):
                details["without_contact"] = True
            if lead.vin and step == LeadStatus.DELIVERED:
                details["vin"] = lead.vin
        append_event(
            lead, EventType(step), at=now, actor=actor, dealer_id=lead.holder_id, data=details
        )
    return lead


@transactional
def withdraw_lead(
    actor: User, public_id: str, reason: str | None = None, now: datetime | None = None
) -> Lead:
    """The referrer takes a lead back while no store has accepted it."""
    now = now or utcnow()
    lead = store_lead(
        actor, public_id, "referrer", "Only the store that posted the lead may withdraw it."
    )
    expire_due(lead, now)
    if not can_withdraw(lead.status):
        raise Conflict(
            f"A lead that is {lead.status} can no longer be withdrawn.", reason="invalid_transition"
        )
    db.session.execute(
        update(Offer)
        .where(Offer.lead_id == lead.id, Offer.status == OfferStatus.PENDING)
        .values(status=OfferStatus.WITHDRAWN, responded_at=now)
        .execution_options(synchronize_session=False)
    )
    lead.status = move(lead.status, LeadStatus.WITHDRAWN)
    append_event(
        lead,
        EventType.WITHDRAWN,
        at=now,
        actor=actor,
        dealer_id=lead.referrer_id,
        data={"reason": reason},
    )
    return lead


def last_step(lead: Lead) -> list[LeadEvent]:
    """The events the lead's last progress step recorded (skipped stages first); [] when the
    trail's last event is not progress (a claim, a void, an undo: nothing to undo)."""
    events = lead_events(lead)
    if not events or events[-1].type not in UNDOABLE_EVENTS:
        return []
    step = [events[-1]]
    for event in reversed(events[:-1]):
        if event.type not in UNDOABLE_EVENTS or not (event.data or {}).get("skipped"):
            break
        step.insert(0, event)
    return step


def may_undo(lead: Lead, now: datetime) -> bool:
    """The lead's last event is a progress step recorded less than 24 hours ago."""
    step = last_step(lead)
    return bool(step) and now - step[-1].at <= timedelta(hours=UNDO_WINDOW_HOURS)


@transactional
def undo_progress(actor: User, public_id: str, reason: str, now: datetime | None = None) -> Lead:
    """The holder undoes its last progress step within 24 h: the lead goes back to where it was
    and the trail keeps the step and the undo (rewards reverse the step's credits on the event)."""
    now = now or utcnow()
    lead = store_lead(
        actor, public_id, "holder", "Only the store holding this lead may undo its progress."
    )
    step = last_step(lead)
    if not step:
        raise Conflict("There is no progress step to undo.", reason="nothing_to_undo")
    if not may_undo(lead, now):
        raise Conflict(
            f"A step can be undone within {UNDO_WINDOW_HOURS} hours; this one is older.",
            reason="undo_too_late",
        )
    stages = [LeadStatus(event.type) for event in step]
    before = status_before_step(stages, lead.progress_rank)
    if LeadStatus.DELIVERED in stages:
        lead.vin = None
    if LeadStatus.ORDERED in stages:
        lead.order_ref = None
    if stages[-1] == LeadStatus.LOST:
        lead.lost_reason = lead.lost_note = None
    lead.status = before
    lead.progress_rank = progress_rank(before)
    append_event(
        lead,
        EventType.PROGRESS_UNDONE,
        at=now,
        actor=actor,
        dealer_id=lead.holder_id,
        data={
            "undone": [stage.value for stage in stages],
            "undone_seq": step[-1].seq,
            "back_to": before.value,
            "reason": reason,
        },
    )
    return lead
