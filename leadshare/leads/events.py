"""Appending to a lead's hash-chained event log (SPEC 5: every change is an event)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import select

from ..auth.models import User
from ..extensions import db
from ..privacy.models import PersonalDatum
from .chain import (
    ChainReport,
    canonical_json,
    event_hash,
    event_payload,
    personal_keys,
    seal,
    verify_chain,
)
from .enums import EventType
from .models import Lead, LeadEvent

EventHandler = Callable[[Lead, LeadEvent], None]
_handlers: list[EventHandler] = []


def on_event(handler: EventHandler) -> EventHandler:
    """Register a reaction to lead events (rewards, notifications); it runs in the same
    transaction as the change, so it commits or rolls back with it."""
    _handlers.append(handler)
    return handler


def hashed_fields(lead: Lead, event: LeadEvent) -> dict[str, Any]:
    """What the chain covers; the lead is named by its public id so exports verify alone."""
    return {
        "lead_id": lead.public_id,
        "seq": event.seq,
        "type": event.type,
        "at": event.at,
        "actor_id": event.actor_id,
        "dealer_id": event.dealer_id,
        "data": event.data,
    }


def append_event(
    lead: Lead,
    type_: EventType | str,
    *,
    at: datetime,
    actor: User | None = None,
    dealer_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> LeadEvent:
    """Add the next event of the lead's chain; (lead, seq) is unique: two writers cannot fork it.

    Personal data in `data` (chain.personal_keys) is sealed: the event holds a salted
    commitment, the value and its salt a PersonalDatum row that erasure may clear.
    """
    lead.event_seq += 1
    kind = EventType(type_).value
    plain = json.loads(canonical_json(data or {}))  # stored exactly as it is hashed
    salts = {key: secrets.token_hex(16) for key in personal_keys(kind, plain)}
    sealed, values = seal(kind, plain, salts)
    event = LeadEvent(
        lead=lead,  # linked: a new lead may not have its id yet (one flush inserts both)
        seq=lead.event_seq,
        type=kind,
        at=at,
        actor_id=actor.id if actor else None,
        dealer_id=dealer_id,
        data=sealed,
        prev_hash=lead.head_hash or "0" * 64,
    )
    for key, value in values.items():
        db.session.add(
            PersonalDatum(lead=lead, seq=event.seq, key=key, value=value, salt=salts[key])
        )
    event.hash = event_hash(lead.head_hash, event_payload(hashed_fields(lead, event)))
    lead.head_hash = event.hash
    db.session.add(event)
    for handler in _handlers:
        handler(lead, event)
    return event


def lead_events(lead: Lead) -> list[LeadEvent]:
    return list(
        db.session.scalars(
            select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.seq)
        )
    )


def verify_lead_chain(lead: Lead) -> ChainReport:
    """Recompute every hash from the stored rows, and check the lead's recorded head."""
    return verify_lead_chains([lead])[0]


def verify_lead_chains(leads: Sequence[Lead]) -> list[ChainReport]:
    """Each lead's chain verified as `verify_lead_chain` says, from one query for all events
    (a page of leads costs the same statements whatever its size)."""
    events = db.session.scalars(
        select(LeadEvent)
        .where(LeadEvent.lead_id.in_([lead.id for lead in leads]))
        .order_by(LeadEvent.lead_id, LeadEvent.seq)
    )
    by_lead = {lead_id: list(rows) for lead_id, rows in groupby(events, lambda e: e.lead_id)}
    return [
        verify_chain(
            [
                {**hashed_fields(lead, e), "prev_hash": e.prev_hash, "hash": e.hash}
                for e in by_lead.get(lead.id, [])
            ],
            head_hash=lead.head_hash,
        )
        for lead in leads
    ]


def personal_values(lead_ids: Sequence[int]) -> dict[tuple[int, int], dict[str, PersonalDatum]]:
    """The personal data of the leads' events, by (lead id, seq) and key."""
    rows = db.session.scalars(select(PersonalDatum).where(PersonalDatum.lead_id.in_(lead_ids)))
    found: dict[tuple[int, int], dict[str, PersonalDatum]] = {}
    for row in rows:
        found.setdefault((row.lead_id, row.seq), {})[row.key] = row
    return found
