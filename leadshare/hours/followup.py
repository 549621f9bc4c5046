"""Who in the holding store follows a lead up (its consultant, 顾问) and their notes.

The staff member who claims a lead becomes its consultant (the holder's SLA timers name them);
the store's manager may hand the lead to another active member of the store, which goes on the
trail. The holder's staff record follow-up notes with an optional next appointment; the sweep
reminds the store once when it comes (a conditional UPDATE: many sweepers remind once). Notes
are contact data: only the holder and the referrer read them, and no message carries their text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from ..auth.models import User
from ..clock import iso_z, utcnow
from ..errors import Conflict, Forbidden, Invalid
from ..extensions import db
from ..leads.access import store_lead, visible
from ..leads.enums import EventType
from ..leads.events import append_event
from ..leads.models import Lead
from ..tenancy.models import Dealer
from ..uow import transactional, unit_of_work
from ..vocabulary import DEALER_ROLES, Role
from .enums import SlaKind
from .models import FollowUpNote, SlaTimer

HOLDER_ONLY = "Only the store holding this lead records its follow-up."


def consultant_of(lead: Lead) -> User | None:
    """The holder's consultant: whom its contact timer names."""
    if lead.holder_id is None:
        return None
    return db.session.scalar(
        select(User)
        .join(SlaTimer, SlaTimer.consultant_id == User.id)
        .where(
            SlaTimer.lead_id == lead.id,
            SlaTimer.dealer_id == lead.holder_id,
            SlaTimer.kind == SlaKind.CONTACT,
        )
    )


@transactional
def assign_consultant(actor: User, public_id: str, user_id: int, now: datetime | None = None):
    """The holding store's manager hands the lead to another active member of the store."""
    now = now or utcnow()
    lead = store_lead(actor, public_id, "holder", HOLDER_ONLY)
    if actor.role != Role.MANAGER:
        raise Forbidden(
            "Only the store's manager hands a lead to a consultant.", reason="not_manager"
        )
    member = db.session.get(User, user_id)
    if (
        member is None
        or member.dealer_id != lead.holder_id
        or member.role not in DEALER_ROLES
        or not member.is_active
    ):
        raise Invalid(
            "user_id", "The consultant is an active member of the store.", reason="not_store_member"
        )
    moved = db.session.execute(
        update(SlaTimer)
        .where(SlaTimer.lead_id == lead.id, SlaTimer.dealer_id == lead.holder_id)
        .values(consultant_id=member.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if not moved:
        raise Conflict("This lead was claimed before consultants were kept.", reason="no_timer")
    append_event(
        lead,
        EventType.CONSULTANT_ASSIGNED,
        at=now,
        actor=actor,
        dealer_id=lead.holder_id,
        data={"consultant_id": member.id},
    )
    return consultant_view(lead, member)


def consultant_view(lead: Lead, consultant: User | None) -> dict[str, Any]:
    person = None if consultant is None else {"id": consultant.id, "name": consultant.name}
    return {"lead_id": lead.public_id, "consultant": person}


def _reader(actor: User, public_id: str) -> Lead:
    """The lead for its holder's or referrer's staff; anyone else who sees it gets a 403."""
    lead = visible(actor, public_id)
    if actor.role not in DEALER_ROLES or actor.dealer_id not in (lead.holder_id, lead.referrer_id):
        raise Forbidden(
            "Follow-up notes are contact data: the holder and the referrer read them.",
            reason="not_holder_or_referrer",
        )
    return lead


def list_notes(actor: User, public_id: str) -> list[dict[str, Any]]:
    """A lead's notes, newest first, with their authors."""
    lead = _reader(actor, public_id)
    rows = db.session.execute(
        select(FollowUpNote, User, Dealer)
        .join(User, User.id == FollowUpNote.author_id)
        .join(Dealer, Dealer.id == FollowUpNote.dealer_id)
        .where(FollowUpNote.lead_id == lead.id)
        .order_by(FollowUpNote.created_at.desc(), FollowUpNote.id.desc())
    )
    return [note_view(*row) for row in rows]


def note_view(note: FollowUpNote, author: User, dealer: Dealer) -> dict[str, Any]:
    return {
        "id": note.id,
        "text": note.text,
        "next_at": note.next_at,
        "reminded_at": note.reminded_at,
        "created_at": note.created_at,
        "author": {"id": author.id, "name": author.name},
        "dealer": {"id": dealer.id, "code": dealer.code, "name": dealer.name},
    }


@transactional
def add_note(
    actor: User, public_id: str, data: Mapping[str, Any], now: datetime | None = None
) -> dict[str, Any]:
    """The holder's staff record a follow-up; a next appointment must lie ahead."""
    now = now or utcnow()
    lead = store_lead(actor, public_id, "holder", HOLDER_ONLY)
    next_at = data.get("next_at")
    if next_at is not None and next_at <= now:
        raise Invalid("next_at", "The next appointment lies ahead.", reason="next_at_in_past")
    note = FollowUpNote(
        lead_id=lead.id,
        dealer_id=lead.holder_id,
        author_id=actor.id,
        text=data["text"].strip(),
        next_at=next_at,
        created_at=now,
    )
    db.session.add(note)
    db.session.flush()
    return note_view(note, actor, db.session.get(Dealer, lead.holder_id))


def remind_appointments(now: datetime, batch: int = 200) -> int:
    """One message to the holding store per note whose appointment has come; the store that
    no longer holds the lead is not reminded."""
    from ..notify.outbox import follow_up_notification

    reminded = 0
    while True:
        with unit_of_work():
            notes = list(
                db.session.scalars(
                    select(FollowUpNote)
                    .where(FollowUpNote.reminded_at.is_(None), FollowUpNote.next_at <= now)
                    .order_by(FollowUpNote.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            )
            for note in notes:
                won = db.session.execute(
                    update(FollowUpNote)
                    .where(FollowUpNote.id == note.id, FollowUpNote.reminded_at.is_(None))
                    .values(reminded_at=now)
                    .execution_options(synchronize_session=False)
                ).rowcount
                lead = db.session.get(Lead, note.lead_id)
                if won != 1 or lead.holder_id != note.dealer_id:
                    continue
                holder = db.session.get(Dealer, note.dealer_id)
                row = follow_up_notification(lead, holder, consultant_of(lead), iso_z(note.next_at))
                if row is not None:
                    db.session.add(row)
                reminded += 1
        if len(notes) < batch:
            return reminded
