"""Lead and offer outcomes for the metrics, taken from the lead trail's events.

A listener of the trail (like rewards and notifications) notes each event in its session;
the counters move when that session commits, and a rollback forgets them. An intake's outcome
is the routing event that follows its `posted` event in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, object_session

from ..leads.enums import EventType
from ..leads.events import on_event
from ..leads.models import Lead, LeadEvent
from . import metrics

_PENDING = "leadshare.metrics_pending"
_POSTED = "leadshare.metrics_posted"
INTAKE_OUTCOMES = {
    EventType.OFFERED: "offered",
    EventType.OPENED: "open",
    EventType.UNROUTABLE: "unroutable",
    EventType.NEEDS_LOCATION: "needs_location",
}


def counts_of(lead: Lead, event: LeadEvent, posted: set[str]) -> list[Callable[[], None]]:
    """The counter moves one event makes (`posted`: leads whose intake is in this transaction)."""
    kind = EventType(event.type)
    moves: list[Callable[[], None]] = []
    if kind == EventType.POSTED:  # by public id: a new lead is routed before it has its row id
        posted.add(lead.public_id)
    elif kind in INTAKE_OUTCOMES and lead.public_id in posted:
        posted.discard(lead.public_id)
        moves.append(metrics.LEADS_POSTED.labels(INTAKE_OUTCOMES[kind]).inc)
    data = event.data or {}
    if kind == EventType.OFFERED:
        moves.append(metrics.OFFERS_MADE.inc)
    elif kind == EventType.EXPIRED:
        moves.append(metrics.OFFERS_RESOLVED.labels("expired", "").inc)
    elif kind == EventType.DECLINED:
        reason = str(data.get("reason") or "other")
        moves.append(metrics.OFFERS_RESOLVED.labels("declined", reason).inc)
    elif kind == EventType.CLAIMED:
        via = str(data.get("via") or "offer")
        moves.append(metrics.CLAIMS.labels(via).inc)
        if via != "board":
            moves.append(metrics.OFFERS_RESOLVED.labels("accepted", "").inc)
        if lead.created_at is not None and event.at is not None:
            seconds = max(0.0, (event.at - lead.created_at).total_seconds())
            moves.append(lambda: metrics.TIME_TO_ACCEPT.observe(seconds))
    return moves


@on_event
def _note(lead: Lead, event: LeadEvent) -> None:
    session = object_session(lead)
    if session is None:
        return
    posted = session.info.setdefault(_POSTED, set())
    session.info.setdefault(_PENDING, []).extend(counts_of(lead, event, posted))


@sa_event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for move in session.info.pop(_PENDING, []):
        move()
    session.info.pop(_POSTED, None)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction) -> None:
    if previous_transaction.nested:  # a savepoint: the outer transaction may still commit
        return
    session.info.pop(_PENDING, None)
    session.info.pop(_POSTED, None)
