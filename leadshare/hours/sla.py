"""Service levels after a claim (issue 14): the holder records `contacted` within the group's
`contact_sla_minutes` of the store's open time, and `visited` within `visit_sla_days` of the
contact (days on the wall clock, due at the store's next opening when that falls in closed time).

A claim starts the contact timer, naming the claimer as the consultant; a contact meets it (and
starts the visit timer), a visit meets that; a lost, withdrawn or void lead closes them. The sweep
reminds the holder at the group's `sla_remind_at` share of the time and, when a timer passes,
puts `sla_missed` on the trail (the holder's and the referrer's webhooks get it) and, for the
contact timer of a group with `release_on_missed_contact`, gives the lead back to routing with
the holder excluded; the release does not count toward `max_offers_per_lead`. A reminder and a
miss are each one conditional UPDATE of the timer, and a miss also locks its lead (SKIP LOCKED),
so many sweepers at once act on each timer once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update

from ..auth.models import User
from ..clock import iso_z, utcnow
from ..extensions import db
from ..leads.access import visible
from ..leads.enums import EventType, LeadStatus, OfferKind
from ..leads.events import append_event, on_event
from ..leads.models import Lead, LeadEvent, Offer
from ..leads.presenter import dealer_ref
from ..tenancy.models import Dealer, Group
from ..uow import unit_of_work
from .enums import SlaKind, SlaState
from .followup import remind_appointments
from .models import SlaTimer
from .schedule import open_minutes_between
from .service import StoreClocks, load_schedules, timer_instants

ENDING_EVENTS = frozenset({EventType.LOST, EventType.WITHDRAWN, EventType.VOIDED})
"""Lead events after which no service level runs any more."""


def _start(lead: Lead, kind: SlaKind, dealer_id: int, consultant_id: int | None, at: datetime):
    """A running timer; a contact timer also keeps the open minutes the lead waited for it."""
    since = min(lead.created_at or at, at)
    clock = StoreClocks(lead.group, since).clock(dealer_id)
    remind, due = timer_instants(kind, lead.group, clock, at)
    waited = None
    if kind == SlaKind.CONTACT:
        waited = round(open_minutes_between(since, at, clock), 2)
    db.session.add(
        SlaTimer(
            lead_id=lead.id,
            dealer_id=dealer_id,
            consultant_id=consultant_id,
            kind=kind,
            state=SlaState.RUNNING,
            started_at=at,
            remind_at=remind,
            due_at=due,
            accept_open_minutes=waited,
            released=False,
        )
    )


def _meet(lead: Lead, kind: SlaKind, at: datetime) -> None:
    """The holder acted: in time (met) or late (it stays missed; the time is still recorded).
    One UPDATE, no read: a progress step stays within its statement budget."""
    db.session.execute(
        update(SlaTimer)
        .where(
            SlaTimer.lead_id == lead.id,
            SlaTimer.dealer_id == lead.holder_id,
            SlaTimer.kind == kind,
            SlaTimer.met_at.is_(None),
            SlaTimer.state != SlaState.CLOSED,
        )
        .values(
            met_at=at,
            state=case((SlaTimer.state == SlaState.RUNNING, SlaState.MET), else_=SlaTimer.state),
        )
        .execution_options(synchronize_session=False)
    )


def _consultant(lead: Lead) -> int | None:
    """Who follows the lead up in the holding store: the staff member who claimed it."""
    return db.session.scalar(
        select(SlaTimer.consultant_id).where(
            SlaTimer.lead_id == lead.id,
            SlaTimer.dealer_id == lead.holder_id,
            SlaTimer.kind == SlaKind.CONTACT,
        )
    )


@on_event
def _sla_on_lead_event(lead: Lead, event: LeadEvent) -> None:
    """Claims start the contact timer, contacts and visits meet theirs, endings close them."""
    if event.type == EventType.CLAIMED:
        _start(lead, SlaKind.CONTACT, event.dealer_id, event.actor_id, event.at)
    elif event.type == EventType.CONTACTED:
        _meet(lead, SlaKind.CONTACT, event.at)
        if lead.group.visit_sla_days:
            _start(lead, SlaKind.VISIT, lead.holder_id, _consultant(lead), event.at)
    elif event.type == EventType.VISITED:
        _meet(lead, SlaKind.VISIT, event.at)
    elif event.type in ENDING_EVENTS:
        db.session.execute(
            update(SlaTimer)
            .where(SlaTimer.lead_id == lead.id, SlaTimer.state == SlaState.RUNNING)
            .values(state=SlaState.CLOSED)
            .execution_options(synchronize_session="fetch")
        )


# --- the sweep ----------------------------------------------------------------------------


@dataclass
class SlaSweep:
    reminded: int = 0
    missed: int = 0
    released: int = 0
    appointments: int = 0


def _running(now: datetime):
    return SlaTimer.state == SlaState.RUNNING, SlaTimer.due_at <= now


def _won(timer_id: int, **values) -> bool:
    """One conditional UPDATE of a running timer: the sweeper whose row count is 1 acts."""
    condition = [SlaTimer.id == timer_id, SlaTimer.state == SlaState.RUNNING]
    if "reminded_at" in values:
        condition.append(SlaTimer.reminded_at.is_(None))
    won = db.session.execute(
        update(SlaTimer)
        .where(*condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    return won == 1


def remind_due(now: datetime, batch: int) -> int:
    """Queue one reminder per running timer past its reminder instant and not yet due."""
    from ..notify.outbox import sla_notification

    reminded = 0
    while True:
        with unit_of_work():
            timers = list(
                db.session.scalars(
                    select(SlaTimer)
                    .where(
                        SlaTimer.state == SlaState.RUNNING,
                        SlaTimer.reminded_at.is_(None),
                        SlaTimer.remind_at <= now,
                        SlaTimer.due_at > now,
                    )
                    .order_by(SlaTimer.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            )
            for timer in timers:
                if _won(timer.id, reminded_at=now):
                    lead = db.session.get(Lead, timer.lead_id)
                    row = sla_notification(lead, timer, db.session.get(Dealer, timer.dealer_id))
                    if row is not None:
                        db.session.add(row)
                    reminded += 1
        if len(timers) < batch:
            return reminded


def _release(lead: Lead, timer: SlaTimer, now: datetime) -> None:
    """The lead goes back to routing: the holder's offer keeps it from being offered again
    (routing reads the offers while the holder is still named), and the released offer does not
    count toward the group's max offers."""
    from ..leads.offers import route_next

    held = db.session.scalar(
        select(Offer).where(Offer.lead_id == lead.id, Offer.dealer_id == timer.dealer_id)
    )
    if held is not None and held.kind == OfferKind.ROUTED:
        lead.offers_made = max(lead.offers_made - 1, 0)
    route_next(lead, now)
    lead.holder_id = None
    timer.released = True


def miss_due(now: datetime, batch: int) -> SlaSweep:
    """Mark the due running timers missed, lead by lead (locked, SKIP LOCKED); release where
    the group says so."""
    result = SlaSweep()
    while True:
        with unit_of_work():
            due = select(SlaTimer.lead_id).where(*_running(now))
            leads = list(
                db.session.scalars(
                    select(Lead)
                    .where(Lead.id.in_(due))
                    .order_by(Lead.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            )
            for lead in leads:
                _miss_lead(lead, now, result)
        if not leads:
            return result


def _miss_lead(lead: Lead, now: datetime, result: SlaSweep) -> None:
    timers = db.session.scalars(
        select(SlaTimer)
        .where(SlaTimer.lead_id == lead.id, *_running(now))
        .order_by(SlaTimer.id)
        .execution_options(populate_existing=True)
    ).all()
    for timer in timers:
        if not _won(timer.id, state=SlaState.MISSED, missed_at=now):
            continue
        db.session.refresh(timer)
        release = (
            timer.kind == SlaKind.CONTACT
            and lead.group.release_on_missed_contact
            and lead.status == LeadStatus.ACCEPTED
            and lead.holder_id == timer.dealer_id
        )
        append_event(
            lead,
            EventType.SLA_MISSED,
            at=now,
            dealer_id=timer.dealer_id,
            data={
                "sla": timer.kind,
                "due_at": iso_z(timer.due_at),
                "consultant_id": timer.consultant_id,
                "released": release,
            },
        )
        result.missed += 1
        if release:
            _release(lead, timer, now)
            result.released += 1


def count_open_minutes(batch: int) -> int:
    """Fill in the open minutes from start to `met_at` of the timers met since the last sweep
    (a progress step only stamps the time; the clocks are read here, once per group). Two
    sweepers compute the same figure; the first write stays."""
    filled = 0
    while True:
        with unit_of_work():
            timers = list(
                db.session.scalars(
                    select(SlaTimer)
                    .where(SlaTimer.met_at.is_not(None), SlaTimer.open_minutes.is_(None))
                    .order_by(SlaTimer.id)
                    .limit(batch)
                )
            )
            by_group: dict[int, list[SlaTimer]] = {}
            for timer in timers:
                group_id = db.session.get(Dealer, timer.dealer_id).group_id
                by_group.setdefault(group_id, []).append(timer)
            for group_id, group_timers in by_group.items():
                since = min(timer.started_at for timer in group_timers)
                dealers = {timer.dealer_id for timer in group_timers}
                clocks = load_schedules(db.session.get(Group, group_id), dealers, since)
                for timer in group_timers:
                    counted = open_minutes_between(
                        timer.started_at, timer.met_at, clocks[timer.dealer_id]
                    )
                    filled += db.session.execute(
                        update(SlaTimer)
                        .where(SlaTimer.id == timer.id, SlaTimer.open_minutes.is_(None))
                        .values(open_minutes=round(counted, 2))
                        .execution_options(synchronize_session=False)
                    ).rowcount
        if len(timers) < batch:
            return filled


def sweep_slas(now: datetime | None = None, *, batch: int = 200) -> SlaSweep:
    """Run the service-level timers due at `now`: reminders first, then misses (and releases),
    then the open minutes of the timers met since, then the consultants' appointments."""
    now = now or utcnow()
    reminded = remind_due(now, batch)
    result = miss_due(now, batch)
    result.reminded = reminded
    count_open_minutes(batch)
    result.appointments = remind_appointments(now, batch)
    return result


# --- reading ------------------------------------------------------------------------------


def present_timer(timer: SlaTimer, dealer: Dealer | None, consultant: User | None) -> dict:
    """One timer as the API and the pages show it."""
    person = None if consultant is None else {"id": consultant.id, "name": consultant.name}
    return {
        "kind": timer.kind,
        "state": timer.state,
        "dealer": dealer_ref(dealer),
        "consultant": person,
        "started_at": timer.started_at,
        "remind_at": timer.remind_at,
        "due_at": timer.due_at,
        "reminded_at": timer.reminded_at,
        "missed_at": timer.missed_at,
        "met_at": timer.met_at,
        "released": timer.released,
    }


def lead_timers(actor: User, public_id: str) -> list[dict]:
    """The service-level timers of a lead the actor may see, oldest first."""
    lead = visible(actor, public_id)
    rows = db.session.execute(
        select(SlaTimer, Dealer, User)
        .join(Dealer, Dealer.id == SlaTimer.dealer_id)
        .outerjoin(User, User.id == SlaTimer.consultant_id)
        .where(SlaTimer.lead_id == lead.id)
        .order_by(SlaTimer.id)
    )
    return [present_timer(*row) for row in rows]


def running_due(dealer_id: int, lead_ids: list[int]) -> dict[int, dict]:
    """Per lead, the store's timer not met yet (running or missed) due first, with its
    consultant's name: what the held-leads page shows."""
    if not lead_ids:
        return {}
    rows = db.session.execute(
        select(SlaTimer, func.coalesce(User.name, User.email))  # a user without a name: email
        .outerjoin(User, User.id == SlaTimer.consultant_id)
        .where(
            SlaTimer.dealer_id == dealer_id,
            SlaTimer.lead_id.in_(lead_ids),
            SlaTimer.met_at.is_(None),
            SlaTimer.state.in_([SlaState.RUNNING, SlaState.MISSED]),
        )
        .order_by(SlaTimer.due_at)
    )
    found: dict[int, dict] = {}
    for timer, consultant in rows:
        found.setdefault(
            timer.lead_id,
            {
                "kind": timer.kind,
                "state": timer.state,
                "due_at": timer.due_at,
                "consultant": consultant,
            },
        )
    return found


def due_count(user: User, now: datetime | None = None) -> int | None:
    """How many leads the user's store holds whose follow-up needs doing now: a timer not met
    that was missed, or whose reminder instant (or due time) has passed. The "Our leads" tab of
    the navigation shows it; None for a user without a store."""
    if user.dealer_id is None:
        return None
    now = now or utcnow()
    attention = (SlaTimer.state == SlaState.MISSED) | (
        (SlaTimer.state == SlaState.RUNNING)
        & (func.coalesce(SlaTimer.remind_at, SlaTimer.due_at) <= now)
    )
    return db.session.scalar(
        select(func.count(func.distinct(SlaTimer.lead_id)))
        .join(Lead, Lead.id == SlaTimer.lead_id)
        .where(
            SlaTimer.dealer_id == user.dealer_id,
            Lead.holder_id == user.dealer_id,
            SlaTimer.met_at.is_(None),
            attention,
        )
    )
