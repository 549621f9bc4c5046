"""Chain verification over a range: recompute the hash chain of every lead in scope.

The chain is the lead trail's own mechanism (leadshare.leads.chain); audit only reads it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_

from ..auth.models import User
from ..extensions import db
from ..leads.chain import verify_chain
from ..leads.events import hashed_fields
from ..leads.models import Lead, LeadEvent
from .query import scope_conditions

VERIFY_BATCH = 500


def verify_range(actor: User, created_from: datetime, created_to: datetime) -> dict[str, Any]:
    """Recompute the chain of every lead in scope created in [from, to); list the broken ones.

    Leads are read in batches in (created_at, id) order, so the created_at indexes drive it.
    """
    conditions = [
        *scope_conditions(actor),
        Lead.created_at >= created_from,
        Lead.created_at < created_to,
    ]
    event_columns = (
        LeadEvent.lead_id,
        LeadEvent.seq,
        LeadEvent.type,
        LeadEvent.at,
        LeadEvent.actor_id,
        LeadEvent.dealer_id,
        LeadEvent.data,
        LeadEvent.prev_hash,
        LeadEvent.hash,
    )
    checked, broken, after = 0, [], None
    while True:
        batch = select(Lead.id, Lead.public_id, Lead.head_hash, Lead.created_at).where(*conditions)
        if after is not None:
            batch = batch.where(tuple_(Lead.created_at, Lead.id) > after)
        leads = db.session.execute(
            batch.order_by(Lead.created_at, Lead.id).limit(VERIFY_BATCH)
        ).all()
        if not leads:
            return {"checked": checked, "broken": broken}
        chains: dict[int, list[Any]] = defaultdict(list)
        for event in db.session.execute(
            select(*event_columns)
            .where(LeadEvent.lead_id.in_([lead.id for lead in leads]))
            .order_by(LeadEvent.lead_id, LeadEvent.seq)
        ):
            chains[event.lead_id].append(event)
        for lead in leads:
            rows = [
                {**hashed_fields(lead, event), "prev_hash": event.prev_hash, "hash": event.hash}
                for event in chains[lead.id]
            ]
            report = verify_chain(rows, head_hash=lead.head_hash)
            if not report.ok:
                broken.append(
                    {"id": lead.public_id, "broken_at": report.broken_at, "reason": report.reason}
                )
        checked += len(leads)
        after = (leads[-1].created_at, leads[-1].id)
