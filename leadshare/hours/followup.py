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

from sqlalchemy import func, select, update

from ..auth.models import User
from ..clock import iso_z, utcnow
from ..errors import Conflict, Forbidden, Invalid
from ..extensions import db
from ..leads.access import store_lead, visible
from ..leads.enums import EventType, LeadStatus
from ..leads.events import append_event
from ..leads.models import Lead
from ..privacy.access_log import note_shown
from ..tenancy.models import Dealer
from ..uow import transactional, unit_of_work
from ..vocabulary import DEALER_ROLES, Role
from .enums import SlaKind, SlaState
from .models import FollowUpNote, SlaTimer

HOLDER_ONLY = "Only the store holding this lead records its follow-up."
FOLLOWED = (LeadStatus.ACCEPTED, LeadStatus.CONTACTED, LeadStatus.VISITED, LeadStatus.ORDERED)
"""The stages at which a held lead is still followed up (a consultant's leads in hand)."""
ENDED = (LeadStatus.LOST, LeadStatus.WITHDRAWN)
"""Stages after which no appointment is reminded (nor a void lead's)."""


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


def person_name(user_id: Any) -> str | None:
    """How the pages name a person: their name, else their email (None: no such user)."""
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    return None if user is None else user.name or user.email


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
    notes = [note_view(*row) for row in rows]
    if notes:  # notes are contact data: their showing goes on the contact access log
        note_shown(actor, lead)
    return notes


def note_view(note: FollowUpNote, author: User, dealer: Dealer) -> dict[str, Any]:
    return {
        "id": note.id,
        "text": note.text or None,  # empty once the lead's personal data was erased
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
    """One message to the holding store per note whose appointment has come (its webhook, and
    the consultant by WeCom app message); a store that no longer holds the lead, or a lead
    lost, withdrawn or void, is not reminded. The note is marked reminded either way: the
    message is a push on top of the in-app line (`due_appointments`), which reads the notes
    themselves and so reaches a store without a webhook or a WeCom app."""
    from ..notify.enums import NotificationEvent
    from ..notify.outbox import app_notifications, follow_up_notification, lead_data

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
                if won != 1 or not _still_followed(lead, note.dealer_id):
                    continue
                holder = db.session.get(Dealer, note.dealer_id)
                consultant = consultant_of(lead)
                row = follow_up_notification(lead, holder, consultant, iso_z(note.next_at))
                if row is not None:
                    db.session.add(row)
                if consultant is not None:
                    db.session.add_all(
                        app_notifications(
                            NotificationEvent.FOLLOW_UP_DUE,
                            lead=lead,
                            lead_status=lead.status,
                            occurred_at=now,
                            data={
                                **lead_data(db.session, lead),
                                "next_at": iso_z(note.next_at),
                                "consultant": consultant.name,
                            },
                            user_id=consultant.id,
                        )
                    )
                reminded += 1
        if len(notes) < batch:
            return reminded


def _still_followed(lead: Lead, dealer_id: int) -> bool:
    """Whether the store still holds the lead and it has not ended."""
    return lead.holder_id == dealer_id and lead.status not in ENDED and lead.voided_at is None


# --- what the store pages show --------------------------------------------------------------


def consultants_by_lead(dealer_id: int, lead_ids: list[int]) -> dict[int, str]:
    """Per lead, the name of the store's consultant (whom its contact timer names), also once
    the timers are met: what the held-leads cards show."""
    if not lead_ids:
        return {}
    rows = db.session.execute(
        select(SlaTimer.lead_id, func.coalesce(User.name, User.email))
        .join(User, User.id == SlaTimer.consultant_id)
        .where(
            SlaTimer.dealer_id == dealer_id,
            SlaTimer.lead_id.in_(lead_ids),
            SlaTimer.kind == SlaKind.CONTACT,
        )
    )
    return dict(rows.all())


def store_members(dealer_id: int) -> list[User]:
    """The store's active staff and managers, by name: whom a manager may hand a lead to."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.dealer_id == dealer_id,
                User.role.in_(list(DEALER_ROLES)),
                User.is_active_user.is_(True),
            )
            .order_by(User.name, User.id)
        )
    )


def _latest_notes(dealer_id: int):
    """The newest note of each lead the store holds and still follows up (a newer note stands
    for the follow-up of an earlier appointment)."""
    newest = (
        select(func.max(FollowUpNote.id))
        .join(Lead, Lead.id == FollowUpNote.lead_id)
        .where(
            Lead.holder_id == dealer_id,
            FollowUpNote.dealer_id == dealer_id,
            Lead.status.notin_(list(ENDED)),
            Lead.voided_at.is_(None),
        )
        .group_by(FollowUpNote.lead_id)
    )
    return FollowUpNote.id.in_(newest)


def next_appointments(dealer_id: int, lead_ids: list[int]) -> dict[int, datetime]:
    """Per lead, the next appointment of its newest note (past or ahead)."""
    if not lead_ids:
        return {}
    rows = db.session.execute(
        select(FollowUpNote.lead_id, FollowUpNote.next_at).where(
            _latest_notes(dealer_id),
            FollowUpNote.lead_id.in_(lead_ids),
            FollowUpNote.next_at.is_not(None),
        )
    )
    return dict(rows.all())


def due_appointments(dealer_id: int, now: datetime, limit: int = 20) -> list[dict[str, Any]]:
    """The store's appointments that have come and have no newer note yet, soonest first: the
    in-app line of the inbox and of the held-leads page (no note text: the line is shown
    where a contact need not be)."""
    consultant = (
        select(func.coalesce(User.name, User.email))
        .join(SlaTimer, SlaTimer.consultant_id == User.id)
        .where(
            SlaTimer.lead_id == FollowUpNote.lead_id,
            SlaTimer.dealer_id == dealer_id,
            SlaTimer.kind == SlaKind.CONTACT,
        )
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Lead.public_id, Lead.brand, Lead.model, FollowUpNote.next_at, consultant)
        .join(Lead, Lead.id == FollowUpNote.lead_id)
        .where(_latest_notes(dealer_id), FollowUpNote.next_at <= now)
        .order_by(FollowUpNote.next_at, FollowUpNote.id)
        .limit(limit)
    )
    return [
        {"lead_id": lid, "brand": brand, "model": model, "next_at": at, "consultant": name}
        for lid, brand, model, at, name in rows
    ]


def consultant_summary(dealer_id: int, now: datetime) -> list[dict[str, Any]]:
    """Per consultant of the store (its active members, and anyone its timers still name):
    leads in hand, first contacts in time and missed timers (all time), timers overdue now,
    and the appointments ahead. What the manager reads to see who acts and who does not."""
    held = dict(
        db.session.execute(
            select(SlaTimer.consultant_id, func.count(func.distinct(Lead.id)))
            .join(Lead, Lead.id == SlaTimer.lead_id)
            .where(
                SlaTimer.dealer_id == dealer_id,
                SlaTimer.kind == SlaKind.CONTACT,
                Lead.holder_id == dealer_id,
                Lead.status.in_(list(FOLLOWED)),
                Lead.voided_at.is_(None),
            )
            .group_by(SlaTimer.consultant_id)
        ).all()
    )
    states = db.session.execute(
        select(SlaTimer.consultant_id, SlaTimer.kind, SlaTimer.state, func.count())
        .where(SlaTimer.dealer_id == dealer_id)
        .group_by(SlaTimer.consultant_id, SlaTimer.kind, SlaTimer.state)
    ).all()
    overdue = dict(
        db.session.execute(
            select(SlaTimer.consultant_id, func.count(func.distinct(SlaTimer.lead_id)))
            .join(Lead, Lead.id == SlaTimer.lead_id)
            .where(
                SlaTimer.dealer_id == dealer_id,
                Lead.holder_id == dealer_id,
                SlaTimer.met_at.is_(None),
                (SlaTimer.state == SlaState.MISSED)
                | ((SlaTimer.state == SlaState.RUNNING) & (SlaTimer.due_at <= now)),
            )
            .group_by(SlaTimer.consultant_id)
        ).all()
    )
    ahead = {
        cid: (count, first)
        for cid, count, first in db.session.execute(
            select(SlaTimer.consultant_id, func.count(), func.min(FollowUpNote.next_at))
            .join(
                SlaTimer,
                (SlaTimer.lead_id == FollowUpNote.lead_id)
                & (SlaTimer.dealer_id == dealer_id)
                & (SlaTimer.kind == SlaKind.CONTACT),
            )
            .where(_latest_notes(dealer_id), FollowUpNote.next_at > now)
            .group_by(SlaTimer.consultant_id)
        ).all()
    }
    in_time: dict[int | None, int] = {}
    missed: dict[int | None, int] = {}
    for cid, kind, state, count in states:
        if kind == SlaKind.CONTACT and state == SlaState.MET:
            in_time[cid] = in_time.get(cid, 0) + count
        if state == SlaState.MISSED:
            missed[cid] = missed.get(cid, 0) + count
    people = {user.id: user for user in store_members(dealer_id)}
    named = {cid for cid in (*held, *in_time, *missed, *overdue, *ahead) if cid is not None}
    for user in db.session.scalars(select(User).where(User.id.in_(named - set(people)))):
        people[user.id] = user
    rows = []
    for cid, user in people.items():
        count, first = ahead.get(cid, (0, None))
        rows.append(
            {
                "id": cid,
                "name": user.name or user.email,
                "active": bool(user.is_active and user.dealer_id == dealer_id),
                "held": held.get(cid, 0),
                "contacted_in_time": in_time.get(cid, 0),
                "missed": missed.get(cid, 0),
                "overdue": overdue.get(cid, 0),
                "appointments": count,
                "next_appointment": first,
            }
        )
    rows.sort(key=lambda r: (not r["active"], -r["overdue"], -r["held"], r["name"]))
    return rows
