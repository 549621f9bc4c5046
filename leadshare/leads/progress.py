"""The holder records a held lead's progress (SPEC 5); the referrer withdraws an unaccepted one.

Each service is one unit of work on the locked lead row; the moves come from states.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
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
from .events import append_event
from .models import Lead, Offer
from .offers import expire_due
from .states import can_withdraw, missing_fields, move, progress_rank, progress_steps
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
        lead.lost_reason = data["lost_reason"]
    for step in steps:
        details: dict[str, Any] = {"skipped": step != target}
        if step == target:
            details.update(
                {k: data[k] for k in ("order_ref", "lost_reason", "note") if data.get(k)}
            )
            if lead.vin and step == LeadStatus.DELIVERED:
                details["vin"] = lead.vin
        append_event(
            lead, EventType(step), at=now, actor=actor, dealer_id=lead.holder_id, data=details
        )
    lead.status = move(lead.status, target)
    lead.progress_rank = max(lead.progress_rank, progress_rank(steps[-1]))
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
