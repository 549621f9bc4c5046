"""Privacy use cases: erasure (by a customer's request or by retention), finding and exporting
what is held about a customer, the access log and its alerts, and the chain's anchor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..auth.scope import ADMINS, require_role
from ..clock import iso_z, utcnow
from ..errors import Invalid, NotFound
from ..extensions import db
from ..hours.models import FollowUpNote
from ..leads.chain import canonical_json, is_sealed, legacy_head, unseal
from ..leads.contact import normalise_phone
from ..leads.enums import EventType, LeadStatus
from ..leads.events import append_event, hashed_fields, lead_events, personal_values
from ..leads.models import IdempotencyRecord, Lead, LeadEvent, Offer
from ..routing.geocode.gazetteer import Gazetteer
from ..tenancy.models import Group
from ..uow import transactional, unit_of_work
from ..vocabulary import Role
from .access_log import note_shown, shown_fields, views_over_threshold
from .keys import phone_key, wechat_key
from .models import AdminChange, ContactAccess, PersonalDatum

RESTING = (
    LeadStatus.DELIVERED,
    LeadStatus.LOST,
    LeadStatus.RETURNED,
    LeadStatus.WITHDRAWN,
    LeadStatus.OPEN,
    LeadStatus.NEEDS_LOCATION,
    LeadStatus.UNROUTABLE,
)
"""States nobody works on: retention erases a lead in one of them (or voided) once its last
event is older than the group's retention_days."""
CUSTOMER_REQUEST, RETENTION = "customer_request", "retention"
RETENTION_BATCH = 200


# --- erasure ------------------------------------------------------------------------------------


def erase_lead(
    lead: Lead,
    now: datetime,
    *,
    why: str,
    actor: User | None = None,
    reference: str | None = None,
    reason: str | None = None,
) -> bool:
    """Erase the lead's personal data (in the caller's unit of work); False if already erased.

    Gone: the name, phone, WeChat ID, notes (and the follow-up notes' text), street address,
    exact point (the district's centroid stays, so routing and the reports still work),
    free-text reasons and decline notes, the sealed values of the trail and stored answers.
    Kept: keyed hashes of the phone and WeChat ID (de-duplication), the chain, the access log,
    the reward ledger. An `erased` event records why, the request's reference and which fields
    were held.
    """
    if lead.erased_at is not None:
        return False
    fields = list(shown_fields(lead))
    lead.phone_key = lead.phone_key or phone_key(lead.phone)
    lead.wechat_key = lead.wechat_key or wechat_key(lead.wechat_id)
    lead.customer_name = ""
    lead.phone = lead.wechat_id = lead.notes = lead.address = None
    lead.lost_note = lead.void_reason = None  # the lost reason is a code: it stays
    _coarsen_point(lead)
    lead.erased_at = now
    db.session.execute(
        update(PersonalDatum)
        .where(PersonalDatum.lead_id == lead.id, PersonalDatum.erased_at.is_(None))
        .values(value=None, salt=None, erased_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Offer)
        .where(Offer.lead_id == lead.id)
        .values(decline_note=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(  # the consultants' follow-up notes: their text; when, who and the
        update(FollowUpNote)  # appointment's time stay
        .where(FollowUpNote.lead_id == lead.id)
        .values(text="")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.lead_id == lead.id)
        .values(body=None)
        .execution_options(synchronize_session=False)
    )
    data = {"why": why, "reference": reference, "reason": reason, "fields": fields}
    append_event(lead, EventType.ERASED, at=now, actor=actor, data=data)
    return True


def _coarsen_point(lead: Lead) -> None:
    if lead.latitude is None or lead.geo_precision in ("district", "city", "province"):
        return
    centroid = Gazetteer.default().by_adcode(lead.adcode) if lead.adcode else None
    lead.latitude = centroid.latitude if centroid else None
    lead.longitude = centroid.longitude if centroid else None
    lead.geo_precision = centroid.precision if centroid else None


def due_for_retention(group: Group, now: datetime) -> ColumnElement[bool]:
    """The group's leads at rest (RESTING, or voided), not erased yet, whose last event (the
    chain's anchor aside) is older than the group's retention_days."""
    last_event = (
        select(func.max(LeadEvent.at))
        .where(LeadEvent.lead_id == Lead.id, LeadEvent.type != EventType.CHAIN_ANCHORED)
        .scalar_subquery()
    )
    return and_(
        Lead.group_id == group.id,
        Lead.erased_at.is_(None),
        or_(Lead.status.in_([s.value for s in RESTING]), Lead.voided_at.is_not(None)),
        last_event < now - timedelta(days=group.retention_days),
    )


def erase_expired(now: datetime | None = None, batch: int = RETENTION_BATCH) -> int:
    """The worker's retention job: erase every lead past its group's retention; how many.

    Each batch is a unit of work; leads another worker has locked are left to it.
    """
    now = now or utcnow()
    erased = 0
    for group in list(db.session.scalars(select(Group).order_by(Group.id))):
        while True:
            with unit_of_work():
                leads = list(
                    db.session.scalars(
                        select(Lead)
                        .where(due_for_retention(group, now))
                        .order_by(Lead.id)
                        .limit(batch)
                        .with_for_update(skip_locked=True)
                    )
                )
                erased += sum(erase_lead(lead, now, why=RETENTION) for lead in leads)
            if len(leads) < batch:
                break
    return erased


# --- a customer's requests ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Customer:
    """Who a request is about, as the request names them (a phone, a WeChat ID or both)."""

    phone: str | None
    wechat_id: str | None


def customer_of(args: Mapping[str, Any]) -> Customer:
    """The request's customer; 422 without a phone or WeChat ID, or with an invalid phone."""
    phone = (args.get("phone") or "").strip() or None
    wechat_id = (args.get("wechat_id") or "").strip() or None
    if phone is None and wechat_id is None:
        raise Invalid(
            "phone", "Give the customer's phone or WeChat ID.", reason="customer_required"
        )
    if phone is not None:
        try:
            phone = normalise_phone(phone)
        except ValueError as error:
            raise Invalid("phone", str(error), reason="invalid_phone") from error
    return Customer(phone, wechat_id)


def _group_of(actor: User, group_id: int | None) -> int:
    """The group a request is answered in: the admin's own; a platform admin names one."""
    require_role(actor, *ADMINS)
    if actor.role == Role.GROUP_ADMIN:
        return actor.group_id
    if group_id is None or db.session.get(Group, group_id) is None:
        raise Invalid("group_id", "Name the group the request is made in.", reason="unknown_group")
    return group_id


def customer_leads(actor: User, args: Mapping[str, Any], *, lock: bool = False) -> list[Lead]:
    """Every lead of the customer in the admin's group, erased ones found by their keys."""
    customer = customer_of(args)
    group_id = _group_of(actor, args.get("group_id"))
    keys = []
    if customer.phone:
        keys += [Lead.phone == customer.phone, Lead.phone_key == phone_key(customer.phone)]
    if customer.wechat_id:
        keys += [
            Lead.wechat_id == customer.wechat_id,
            Lead.wechat_key == wechat_key(customer.wechat_id),
        ]
    query = select(Lead).where(Lead.group_id == group_id, or_(*keys)).order_by(Lead.created_at)
    if lock:
        query = query.with_for_update()
    return list(db.session.scalars(query))


def find_customer(actor: User, args: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The customer's leads, masked: enough to answer "what do you hold about me" by export."""
    return [
        {
            "id": lead.public_id,
            "status": lead.status,
            "brand": lead.brand,
            "created_at": lead.created_at,
            "erased_at": lead.erased_at,
        }
        for lead in customer_leads(actor, args)
    ]


def export_customer(actor: User, args: Mapping[str, Any], now: datetime | None = None) -> dict:
    """Everything held about the customer, with the access log of each lead; the admin's view
    of the contact is itself logged (via `request`, with the request's reference)."""
    leads = customer_leads(actor, args)
    personal = personal_values([lead.id for lead in leads])
    accesses = _accesses_of([lead.id for lead in leads])
    exported = []
    for lead in leads:
        note_shown(actor, lead, via="request", reference=args["reference"])
        exported.append(_export_lead(lead, personal, accesses.get(lead.id, [])))
    return {
        "reference": args["reference"],
        "exported_at": now or utcnow(),
        "customer": {"phone": args.get("phone"), "wechat_id": args.get("wechat_id")},
        "leads": exported,
    }


def _export_lead(lead: Lead, personal: Mapping, accesses: Sequence[ContactAccess]) -> dict:
    events = []
    for event in lead_events(lead):
        rows = personal.get((lead.id, event.seq), {})
        values = {
            key: {"erased_at": iso_z(row.erased_at)} if row.erased_at else row.value
            for key, row in rows.items()
        }
        events.append(
            {
                "seq": event.seq,
                "type": event.type,
                "at": iso_z(event.at),
                "data": unseal(event.data, values),
                "hash": event.hash,
            }
        )
    return {
        "id": lead.public_id,
        "status": lead.status,
        "created_at": iso_z(lead.created_at),
        "erased_at": iso_z(lead.erased_at),
        "customer": {
            "name": lead.customer_name or None,
            "phone": lead.phone,
            "wechat_id": lead.wechat_id,
        },
        "car": {
            "brand": lead.brand,
            "model": lead.model,
            "budget": lead.budget,
            "timeframe": lead.timeframe,
        },
        "location": {
            "address": lead.address,
            "latitude": lead.latitude,
            "longitude": lead.longitude,
            "province": lead.province,
            "city": lead.city,
            "district": lead.district,
        },
        "notes": lead.notes,
        "consent": {
            "at": iso_z(lead.consent_at),
            "text_version": lead.consent_text_version,
            "channel": lead.consent_channel,
        },
        "referrer": lead.referrer.name,
        "holder": lead.holder.name if lead.holder else None,
        "trail": events,
        "access_log": [_access_row(a) for a in accesses],
    }


@transactional
def erase_customer(actor: User, data: Mapping[str, Any], now: datetime | None = None) -> dict:
    """Erase every lead of the customer on their request; the reason and reference are the
    `erased` event's. 404 when the group holds nothing about them."""
    now = now or utcnow()
    leads = customer_leads(actor, data, lock=True)
    if not leads:
        raise NotFound("This group holds no lead of that customer.", reason="no_such_customer")
    erased = [
        lead.public_id
        for lead in leads
        if erase_lead(
            lead,
            now,
            why=CUSTOMER_REQUEST,
            actor=actor,
            reference=data["reference"],
            reason=data.get("reason"),
        )
    ]
    return {"reference": data["reference"], "erased": erased, "erased_at": now}


# --- the access log and its alerts ---------------------------------------------------------------


def _accesses_of(lead_ids: Sequence[int]) -> dict[int, list[ContactAccess]]:
    found: dict[int, list[ContactAccess]] = {}
    query = select(ContactAccess).where(ContactAccess.lead_id.in_(lead_ids))
    for row in db.session.scalars(query.order_by(ContactAccess.at, ContactAccess.id)):
        found.setdefault(row.lead_id, []).append(row)
    return found


def _access_row(access: ContactAccess) -> dict[str, Any]:
    return {
        "at": iso_z(access.at),
        "user_id": access.user_id,
        "fields": access.fields,
        "via": access.via,
        "is_held": access.is_held,
        "reference": access.reference,
    }


def list_access(actor: User, args: Mapping[str, Any]) -> list[ContactAccess]:
    """The access records of one lead or one user (in the admin's group), newest first."""
    require_role(actor, *ADMINS)
    conditions = []
    if args.get("lead_id"):
        lead = db.session.scalar(select(Lead).where(Lead.public_id == args["lead_id"]))
        if lead is None or not _admin_of(actor, lead.group_id):
            raise NotFound("No such lead.")
        conditions.append(ContactAccess.lead_id == lead.id)
    if args.get("user_id"):
        user = db.session.get(User, args["user_id"])
        if user is None or not _admin_of(actor, user.group_id):
            raise NotFound("No such user.")
        conditions.append(ContactAccess.user_id == user.id)
    if not conditions:
        raise Invalid("lead_id", "Name a lead or a user.", reason="lead_or_user_required")
    if actor.role == Role.GROUP_ADMIN:
        conditions.append(ContactAccess.group_id == actor.group_id)
    query = (
        select(ContactAccess)
        .where(*conditions)
        .options(selectinload(ContactAccess.lead), selectinload(ContactAccess.user))
    )
    return list(db.session.scalars(query.order_by(ContactAccess.at.desc()).limit(500)))


def _admin_of(actor: User, group_id: int | None) -> bool:
    return actor.role == Role.PLATFORM_ADMIN or actor.group_id == group_id


def contact_alerts(actor: User, day: date, group_id: int | None = None) -> list[dict[str, Any]]:
    """The users of the group who opened more contacts of leads their store does not hold than
    the group's contact_views_alert_per_day on that local day (read from the access log)."""
    group = db.session.get(Group, _group_of(actor, group_id))
    rows = views_over_threshold(group, day)
    users = {
        u.id: u for u in db.session.scalars(select(User).where(User.id.in_([r[0] for r in rows])))
    }
    return [
        {
            "user": users[user_id],
            "day": day,
            "views": views,
            "threshold": group.contact_views_alert_per_day,
        }
        for user_id, views in rows
    ]


def notice_group(code: str) -> Group:
    """The group whose consent notice a (signed-out) customer opens; 404 for an unknown code."""
    group = db.session.scalar(select(Group).where(Group.code == code))
    if group is None:
        raise NotFound("No such group.")
    return group


# --- the chain's anchor --------------------------------------------------------------------------


def anchor_check(lead: Lead) -> dict[str, Any]:
    """Tie a migrated chain to its old head: the events before the `chain_anchored` event, with
    their sealed values put back, hash to the head the anchor records (while none is erased)."""
    events = lead_events(lead)
    anchors = [e for e in events if e.type == EventType.CHAIN_ANCHORED]
    if not anchors:
        return {"anchored": False}
    anchor = anchors[0]
    personal = personal_values([lead.id])
    before = []
    for event in events[: anchor.seq - 1]:
        rows = personal.get((lead.id, event.seq), {})
        if any(row.erased_at for row in rows.values()):
            return {"anchored": True, "old_head_hash": anchor.data["old_head_hash"], "ok": None}
        values = {key: row.value for key, row in rows.items()}
        opened = unseal(event.data, values)
        if any(is_sealed(v) for v in opened.values()):
            return {"anchored": True, "old_head_hash": anchor.data["old_head_hash"], "ok": False}
        before.append({**hashed_fields(lead, event), "data": opened})
    rebuilt = legacy_head(before)
    return {
        "anchored": True,
        "old_head_hash": anchor.data["old_head_hash"],
        "rebuilt_head_hash": rebuilt,
        "ok": rebuilt == anchor.data["old_head_hash"],
    }


# --- what admins did ------------------------------------------------------------------------------

CHANGES_LIMIT = 5000


def _changes_scope(actor: User, args: Mapping[str, Any]) -> list[Any]:
    require_role(actor, *ADMINS)
    if actor.role == Role.GROUP_ADMIN:
        return [AdminChange.group_id == actor.group_id]
    return [AdminChange.group_id == args["group_id"]] if args.get("group_id") else []


def list_changes(
    actor: User, args: Mapping[str, Any], limit: int = CHANGES_LIMIT
) -> list[AdminChange]:
    """The admin changes of the actor's group (a platform admin: all, or one group's), newest
    first, optionally within [from, to), by one admin (`actor_id`) or of one kind of row
    (`object_type`)."""
    conditions = _changes_scope(actor, args)
    if args.get("from"):
        conditions.append(AdminChange.at >= args["from"])
    if args.get("to"):
        conditions.append(AdminChange.at < args["to"])
    if args.get("actor_id"):
        conditions.append(AdminChange.actor_id == args["actor_id"])
    if args.get("object_type"):
        conditions.append(AdminChange.object_type == args["object_type"])
    query = select(AdminChange).where(*conditions).options(selectinload(AdminChange.actor))
    return list(
        db.session.scalars(
            query.order_by(AdminChange.at.desc(), AdminChange.id.desc()).limit(limit)
        )
    )


def change_makers(actor: User, args: Mapping[str, Any]) -> list[User]:
    """The admins who made a change in the actor's scope (the change log's "who" filter)."""
    made = select(AdminChange.actor_id).where(*_changes_scope(actor, args))
    return list(db.session.scalars(select(User).where(User.id.in_(made)).order_by(User.email)))


CHANGES_HEADER = ("at_utc", "actor_id", "actor_email", "action", "object_type", "object_id")


def changes_table(changes: Sequence[AdminChange]):
    """The changes as a CSV table (leadshare.csvsafe): values before and after as JSON."""
    from ..csvsafe import cells

    header = (*CHANGES_HEADER, "before", "after")
    rows = (
        cells(
            [
                iso_z(c.at),
                c.actor_id,
                c.actor.email,
                c.action,
                c.object_type,
                c.object_id,
                canonical_json(c.before) if c.before is not None else "",
                canonical_json(c.after) if c.after is not None else "",
            ]
        )
        for c in changes
    )
    return header, rows
