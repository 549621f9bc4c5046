"""The outbox: a notification row is written in the same transaction as the change it reports.

Offers go to the offered store; claims, progress and reward credits go to the referrer; when an
offer has used NOTIFY_REMIND_AT of its time (the store's open minutes, as its expiry counts them),
the sweep (and the deliverer, on every poll) adds a reminder for the offered store. A service-level
reminder goes to the holder, a missed one (`sla_missed`) to the holder and the referrer. The
handlers run inside the change's unit of work and commit nothing. Only stores with a webhook_url
get webhook rows. When the group has a WeCom app, an offer is also a WeCom app message to the
offered store's members and a service-level reminder one to the lead's consultant (channel
`wecom_app`); group admins' messages are added by notify.notices. A change that rolls back
takes its rows with it, and a row that is committed is delivered at least once.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..auth.models import User
from ..clock import iso_z, utcnow
from ..extensions import db
from ..hours.models import SlaTimer
from ..hours.schedule import Schedule, add_open_minutes, open_minutes_between
from ..hours.service import load_schedules
from ..leads.contact import mask_name
from ..leads.enums import EventType, LeadStatus, OfferStatus
from ..leads.events import on_event
from ..leads.models import Lead, LeadEvent, Offer
from ..leads.presenter import dealer_ref, shown_km
from ..leads.states import ROUTED
from ..observability.context import current_request_id
from ..rewards.models import RewardCredit, RewardProgram
from ..rewards.money import format_amount
from ..tenancy.models import Dealer, Group
from ..uow import unit_of_work
from ..vocabulary import Role
from ..wecom.models import WecomApp, WecomMember
from .enums import PROGRESS_EVENTS, NotificationChannel, NotificationEvent, NotificationStatus
from .models import Notification

ADMIN_NOTICES_PATH = "/admin/notices"


def new_message_id() -> str:
    """Opaque and unique: receivers de-duplicate on it (a message may arrive more than once)."""
    return "msg_" + secrets.token_hex(12)


def has_webhook(dealer: Dealer | None) -> bool:
    return dealer is not None and bool((dealer.webhook_url or "").strip())


def lead_data(session: Session, lead: Lead) -> dict[str, Any]:
    """What every message may say about a lead: no phone, WeChat ID, address or notes (PIPL).
    A lead being routed again (released after a missed SLA) names no holder."""
    held = lead.holder_id and lead.status not in ROUTED
    holder = session.get(Dealer, lead.holder_id) if held else None
    return {
        "referrer": dealer_ref(session.get(Dealer, lead.referrer_id)),
        "holder": dealer_ref(holder),
        "brand": lead.brand,
        "model": lead.model,
        "customer_name": mask_name(lead.customer_name),
        "province": lead.province,
        "city": lead.city,
        "district": lead.district,
    }


def new_notification(
    recipient: Dealer | None,
    event: NotificationEvent,
    *,
    lead: Lead,
    lead_status: str,
    occurred_at: datetime,
    data: dict[str, Any],
    offer_id: int | None = None,
) -> Notification | None:
    """The outbox row for one store, or None when the store has no webhook URL."""
    if not has_webhook(recipient):
        return None
    return _row(
        NotificationChannel.WEBHOOK,
        event,
        group_id=recipient.group_id,
        dealer_id=recipient.id,
        payload=_lead_payload(lead, lead_status, data),
        occurred_at=occurred_at,
        lead_id=lead.id,
        offer_id=offer_id,
    )


def _lead_payload(lead: Lead, lead_status: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "lead_id": lead.public_id,
        "lead_status": str(lead_status),
        "timezone": lead.group.timezone,
        "data": data,
    }


def _row(channel: NotificationChannel, event: NotificationEvent, **values: Any) -> Notification:
    return Notification(
        message_id=new_message_id(),
        channel=channel,
        event=event,
        status=NotificationStatus.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
        request_id=current_request_id(),  # the worker's log lines for it name the request
        **values,
    )


def has_wecom_app(group_id: int) -> bool:
    """The group configured a WeCom app: its people get app messages too."""
    found = db.session.scalar(select(WecomApp.id).where(WecomApp.group_id == group_id).limit(1))
    return found is not None


def audience(dealer_id: int | None, user_id: int | None, to: dict[str, Any] | None = None) -> tuple:
    """Whom an app message about a store or a person goes to, as conditions on User: its user;
    else the store's members, or only those of `to` (`roles` of the store, and `users` by id)."""
    if user_id is not None:
        return (User.id == user_id,)
    if to:
        return (
            User.dealer_id == dealer_id,
            or_(User.role.in_(to.get("roles") or []), User.id.in_(to.get("users") or [])),
        )
    return (User.dealer_id == dealer_id,)


def _target_corps(
    app_corp: str, dealer_id: int | None, user_id: int | None, to: dict[str, Any] | None
) -> list[str | None]:
    """The corps whose members an app message goes to: None for the app's own (also when
    nobody is linked, so that the message is cancelled with its reason), then each downstream
    corp (上下游) an active target user is a member of."""
    query = (
        select(WecomMember.corp_id)
        .join(User, User.id == WecomMember.user_id)
        .where(User.is_active_user.is_(True), *audience(dealer_id, user_id, to))
        .distinct()
    )
    corps = set(db.session.scalars(query))
    downstream = sorted(corps - {app_corp})
    return ([None] if app_corp in corps or not downstream else []) + downstream


def app_notifications(
    event: NotificationEvent,
    *,
    lead: Lead,
    lead_status: str,
    occurred_at: datetime,
    data: dict[str, Any],
    dealer_id: int | None = None,
    user_id: int | None = None,
    offer_id: int | None = None,
    to: dict[str, Any] | None = None,
) -> list[Notification]:
    """WeCom app messages about a lead: to a store's members (`dealer_id`) or to one person
    (`user_id`), or some of a store's members (`to`: `roles`, `users`); none when the group
    has no WeCom app. One message per corp: the app's own,
    and each downstream corp (上下游) of the members (`payload["corp_id"]`), so that each is
    sent, retried and recorded on its own. Only the app's own corp's message carries the offer:
    the outbox keeps one message per (offer, event, channel)."""
    app_corp = db.session.scalar(select(WecomApp.corp_id).where(WecomApp.group_id == lead.group_id))
    if app_corp is None:
        return []
    rows = []
    for corp_id in _target_corps(app_corp, dealer_id, user_id, to):
        payload = _lead_payload(lead, lead_status, data)
        if corp_id is not None:
            payload["corp_id"] = corp_id
        if to:
            payload["to"] = to
        first = not rows
        if offer_id is not None and not first:
            payload["offer_id"] = offer_id  # to cancel a reminder whose offer was answered
        rows.append(
            _row(
                NotificationChannel.WECOM_APP,
                event,
                group_id=lead.group_id,
                dealer_id=dealer_id,
                user_id=user_id,
                payload=payload,
                occurred_at=occurred_at,
                lead_id=lead.id,
                offer_id=offer_id if first else None,
            )
        )
    return rows


def admin_notifications(
    group: Group, event: NotificationEvent, data: dict[str, Any], at: datetime
) -> list[Notification]:
    """What tells the group's admins beside their notices page: a WeCom app message to them
    (when the group has a WeCom app) and a message to the group's admin robot (when it has one),
    each opening the notices page."""
    payload = {"path": ADMIN_NOTICES_PATH, "timezone": group.timezone, "data": data}
    channels = []
    if has_wecom_app(group.id):
        channels.append(NotificationChannel.WECOM_APP)
    if (group.admin_robot_url or "").strip():
        channels.append(NotificationChannel.ADMIN_ROBOT)
    return [
        _row(channel, event, group_id=group.id, payload=dict(payload), occurred_at=at)
        for channel in channels
    ]


def _offer_data(lead: Lead, offer: Offer) -> dict[str, Any]:
    return {
        "dealer": dealer_ref(offer.dealer),
        **lead_data(db.session, lead),
        "distance_km": shown_km(offer.distance_km, unmasked=False),  # not the holder yet
        "offered_at": iso_z(offer.offered_at),
        "expires_at": iso_z(offer.expires_at),
    }


def _offer_notification(
    lead: Lead, offer: Offer, event: NotificationEvent, at: datetime
) -> Notification | None:
    recipient = offer.dealer
    data = _offer_data(lead, offer)
    return new_notification(
        recipient,
        event,
        lead=lead,
        lead_status=LeadStatus.OFFERED,
        occurred_at=at,
        data=data,
        offer_id=offer.id,
    )


def _offered(lead: Lead, dealer_id: int) -> Offer:
    """The lead's newest offer to the store (in memory when the lead's offers are loaded)."""
    offer = max((o for o in lead.offers if o.dealer_id == dealer_id), key=lambda o: o.offered_at)
    if offer.id is None:
        db.session.flush()  # the message keeps the offer's id
    return offer


@on_event
def _notify_lead_event(lead: Lead, event: LeadEvent) -> None:
    """Offer -> the offered store (its webhook, and its members by WeCom app message); claim
    and progress (not the skipped stages) -> the referrer."""
    row = None
    if event.type == EventType.OFFERED:
        recipient = db.session.get(Dealer, event.dealer_id)
        to_members = has_wecom_app(lead.group_id)
        if not (to_members or has_webhook(recipient)):
            return
        offer = _offered(lead, event.dealer_id)
        offer.dealer = recipient  # linked: the answer shows the store without reading it again
        row = _offer_notification(lead, offer, NotificationEvent.OFFERED, event.at)
        if to_members:
            db.session.add_all(
                app_notifications(
                    NotificationEvent.OFFERED,
                    lead=lead,
                    lead_status=LeadStatus.OFFERED,
                    occurred_at=event.at,
                    data=_offer_data(lead, offer),
                    dealer_id=recipient.id,
                    offer_id=offer.id,
                )
            )
    elif event.type == EventType.CLAIMED or (
        event.type in PROGRESS_EVENTS and not (event.data or {}).get("skipped")
    ):
        claimed = event.type == EventType.CLAIMED
        row = new_notification(
            db.session.get(Dealer, lead.referrer_id),
            NotificationEvent(event.type),
            lead=lead,
            lead_status=LeadStatus.ACCEPTED if claimed else LeadStatus(event.type),
            occurred_at=event.at,
            data=lead_data(db.session, lead),
        )
    elif event.type == EventType.SLA_MISSED:
        holder = db.session.get(Dealer, event.dealer_id)
        referrer = db.session.get(Dealer, lead.referrer_id)
        data = {**lead_data(db.session, lead), **sla_data(event.data)}
        for recipient in dict.fromkeys(r for r in (holder, referrer) if r is not None):
            row = new_notification(
                recipient,
                NotificationEvent.SLA_MISSED,
                lead=lead,
                lead_status=lead.status,
                occurred_at=event.at,
                data=data,
            )
            if row is not None:
                db.session.add(row)
        if holder is not None:  # people too: the timer's consultant and the store's managers
            consultant = (event.data or {}).get("consultant_id")
            to = {"roles": [Role.MANAGER.value], "users": [consultant] if consultant else []}
            db.session.add_all(
                app_notifications(
                    NotificationEvent.SLA_MISSED,
                    lead=lead,
                    lead_status=lead.status,
                    occurred_at=event.at,
                    data=data,
                    dealer_id=holder.id,
                    to=to,
                )
            )
        return
    if row is not None:
        db.session.add(row)


def sla_data(details: dict[str, Any]) -> dict[str, Any]:
    """What a service-level message says beyond the lead: which timer, when it was due, and
    whether the lead went back to routing."""
    return {key: details.get(key) for key in ("sla", "due_at", "released")}


def sla_notification(lead: Lead, timer: SlaTimer, holder: Dealer | None) -> Notification | None:
    """The holder's reminder that a service level is about to pass (returned, for its webhook);
    the timer's consultant gets it as a WeCom app message, added here to the caller's unit."""
    details = {"sla": timer.kind, "due_at": iso_z(timer.due_at), "released": False}
    data = {**lead_data(db.session, lead), **sla_data(details)}
    at = timer.reminded_at or utcnow()
    if timer.consultant_id is not None:
        db.session.add_all(
            app_notifications(
                NotificationEvent.SLA_REMINDER,
                lead=lead,
                lead_status=lead.status,
                occurred_at=at,
                data=data,
                user_id=timer.consultant_id,
            )
        )
    return new_notification(
        holder,
        NotificationEvent.SLA_REMINDER,
        lead=lead,
        lead_status=lead.status,
        occurred_at=at,
        data=data,
    )


def follow_up_notification(
    lead: Lead, holder: Dealer | None, consultant: User | None, next_at: str | None
) -> Notification | None:
    """The holding store's reminder of a consultant's appointment (never the note's text)."""
    return new_notification(
        holder,
        NotificationEvent.FOLLOW_UP_DUE,
        lead=lead,
        lead_status=lead.status,
        occurred_at=utcnow(),
        data={
            **lead_data(db.session, lead),
            "next_at": next_at,
            "consultant": None if consultant is None else consultant.name,
        },
    )


@sa_event.listens_for(Session, "before_flush")
def _notify_reward_credits(session: Session, _context, _instances) -> None:
    """A new reward credit -> the referrer, in the transaction that makes the credit."""
    for credit in [obj for obj in session.new if isinstance(obj, RewardCredit)]:
        recipient = session.get(Dealer, credit.dealer_id)
        if not has_webhook(recipient):
            continue
        lead = session.get(Lead, credit.lead_id)
        program = session.get(RewardProgram, credit.program_id)
        data = {
            "amount": format_amount(credit.amount_minor),
            "currency": lead.group.currency,
            "program": program.name if program else None,
            "reward_event": credit.event,
            **lead_data(session, lead),
        }
        row = new_notification(
            recipient,
            NotificationEvent.REWARD_CREDITED,
            lead=lead,
            lead_status=credit.event,
            occurred_at=credit.created_at or utcnow(),
            data=data,
        )
        session.add(row)


def reminder_instant(offer: Offer, remind_at: float, clock: Schedule) -> datetime:
    """When `remind_at` (a fraction) of the offer's time is used: its store's open minutes, as
    its expiry counts them (the wall clock when the store never opens, as the expiry then)."""
    counted = open_minutes_between(offer.offered_at, offer.expires_at, clock)
    at = add_open_minutes(offer.offered_at, counted * remind_at, clock) if counted else None
    return at or offer.offered_at + (offer.expires_at - offer.offered_at) * remind_at


def reminder_due(offer: Offer, remind_at: float, now: datetime, clock: Schedule) -> bool:
    """True once `remind_at` of the offer's open time is past, till it expires."""
    if offer.expires_at is None or offer.expires_at <= now:
        return False
    return reminder_instant(offer, remind_at, clock) <= now


def _clocks_of(offers: list[Offer]) -> dict[int, Schedule]:
    """The offered stores' clocks, read once per group."""
    by_group: dict[int, list[Offer]] = {}
    for offer in offers:
        by_group.setdefault(offer.lead.group_id, []).append(offer)
    clocks: dict[int, Schedule] = {}
    for group_offers in by_group.values():
        since = min(offer.offered_at for offer in group_offers)
        group = group_offers[0].lead.group
        clocks |= load_schedules(group, (offer.dealer_id for offer in group_offers), since)
    return clocks


def enqueue_reminders(remind_at: float, now: datetime | None = None) -> int:
    """Add an 'offer about to expire' message for each pending offer past its reminder time.

    `remind_at` is the fraction of an offer's time to live (NotifySettings.remind_at); outside
    (0, 1) no reminders are sent. It goes to the store's webhook (when it has one) and, when the
    group has a WeCom app, to the store's members as app messages (one per corp). Safe to run
    from many sweepers and deliverers at once: (offer, event, channel) is unique, so a reminder
    another process added first is skipped. One unit of work; returns how many were added
    (a store's webhook message and its members' messages count one each).
    """
    now = now or utcnow()
    if not 0 < remind_at < 1:
        return 0

    def reminded(channel: NotificationChannel):
        return exists().where(
            Notification.offer_id == Offer.id,
            Notification.event == NotificationEvent.OFFER_EXPIRING,
            Notification.channel == channel,
        )

    has_hook = Dealer.webhook_url.is_not(None) & (Dealer.webhook_url != "")
    has_app = exists().where(WecomApp.group_id == Dealer.group_id)
    with unit_of_work() as session:
        offers = session.execute(
            select(
                Offer,
                has_hook & ~reminded(NotificationChannel.WEBHOOK),
                has_app & ~reminded(NotificationChannel.WECOM_APP),
            )
            .join(Dealer, Dealer.id == Offer.dealer_id)
            .where(
                Offer.status == OfferStatus.PENDING,
                Offer.expires_at > now,
                (has_hook & ~reminded(NotificationChannel.WEBHOOK))
                | (has_app & ~reminded(NotificationChannel.WECOM_APP)),
            )
            .order_by(Offer.id)
        ).all()
        clocks = _clocks_of([offer for offer, _, _ in offers])
        added = 0
        for offer, to_hook, to_members in offers:
            if not reminder_due(offer, remind_at, now, clocks[offer.dealer_id]):
                continue
            rows = []
            if to_hook:
                rows.append(
                    _offer_notification(offer.lead, offer, NotificationEvent.OFFER_EXPIRING, now)
                )
            if to_members:  # the offered store's members, by WeCom app message
                rows.append(
                    app_notifications(
                        NotificationEvent.OFFER_EXPIRING,
                        lead=offer.lead,
                        lead_status=LeadStatus.OFFERED,
                        occurred_at=now,
                        data=_offer_data(offer.lead, offer),
                        dealer_id=offer.dealer_id,
                        offer_id=offer.id,
                    )
                )
            for batch in rows:  # each channel on its own: (offer, event, channel) is unique
                batch = batch if isinstance(batch, list) else [batch]
                if not all(batch):
                    continue
                try:
                    with session.begin_nested():
                        session.add_all(batch)
                except IntegrityError:  # another process added this reminder first
                    continue
                added += 1
    return added
