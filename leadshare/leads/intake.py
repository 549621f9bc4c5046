"""Intake: a store shares a lead (SPEC 2), or completes one stored as needs_location.

The place is located first, outside any unit of work: the online geocoder may take seconds and
must never run while a row or an advisory lock is held. Then one unit of work locks, checks,
writes the lead and its events, and routes it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..auth import scope
from ..auth.models import User
from ..brands import service as brands
from ..clock import local_date, utcnow
from ..errors import Conflict, Forbidden, Invalid
from ..extensions import db
from ..privacy.keys import phone_key, wechat_key
from ..routing.ambiguity import address_candidates
from ..routing.eligibility import covers_adcode
from ..routing.geo import haversine_km
from ..routing.geocode.gazetteer import Gazetteer, Place
from ..routing.geocode.service import geocode_address
from ..settings import current_settings
from ..tenancy.models import Dealer, Group
from ..uow import transactional, unit_of_work
from ..vocabulary import brand_key
from .access import visible
from .enums import EventType, LeadStatus, ReturnStatus
from .events import append_event
from .idempotency import Once, answer, reserve
from .models import DuplicateRefusal, Lead, LeadReturn
from .offers import route_next
from .returns import BLOCKS_NEW_SHARE

OUT_OF_REGION, BRAND_NOT_CARRIED = "out_of_region", "brand_not_carried"
NEVER_DUPLICATES = (LeadStatus.WITHDRAWN, LeadStatus.UNROUTABLE)
"""A lead taken back or routed nowhere never blocks a new share of its customer."""


def new_public_id() -> str:
    """Opaque, unguessable lead ids: sequential ids would reveal a group's volume."""
    return "ld_" + secrets.token_hex(8)


def _blocking_returns() -> Select:
    """Returned leads that still block a new share: the holder's own customer, or spam."""
    return select(LeadReturn.lead_id).where(
        LeadReturn.status == ReturnStatus.ACCEPTED,
        LeadReturn.reason.in_(sorted(BLOCKS_NEW_SHARE)),
    )


@cache
def _duplicate_query(by_phone: bool, by_wechat: bool) -> Select:
    """The de-duplication query for the contacts given, built once (every value bound)."""
    keys = []
    if by_phone:
        keys += [Lead.phone == bindparam("phone"), Lead.phone_key == bindparam("phone_key")]
    if by_wechat:
        keys += [
            Lead.wechat_id == bindparam("wechat_id"),
            Lead.wechat_key == bindparam("wechat_key"),
        ]
    return (
        select(Lead.public_id)
        .where(
            Lead.group_id == bindparam("group_id"),
            or_(*keys),
            Lead.status.not_in(NEVER_DUPLICATES),
            or_(Lead.status != LeadStatus.RETURNED, Lead.id.in_(_blocking_returns())),
            Lead.created_at >= bindparam("since"),
        )
        .order_by(Lead.created_at)
        .limit(1)
    )


def _duplicate_of(
    group_id: int, phone: str | None, wechat_id: str | None, now: datetime, window_days: int
) -> str | None:
    """The same phone or WeChat ID on a live lead of the group within the window (SPEC 2 step 2),
    erased leads included; a withdrawn lead is not live, nor a returned one unless its return
    says the customer was the holder's own or spam (issue 17)."""
    if not (phone or wechat_id):
        return None
    # an erased customer is still found by the keyed hash of their phone (or WeChat ID)
    params: dict[str, Any] = {"group_id": group_id, "since": now - timedelta(days=window_days)}
    if phone:
        params.update(phone=phone, phone_key=phone_key(phone))
    if wechat_id:
        params.update(wechat_id=wechat_id, wechat_key=wechat_key(wechat_id))
    if db.engine.dialect.name == "postgresql":
        # Serialise concurrent intakes of the same customer: the check below then sees the first.
        for value in filter(None, (phone, wechat_id)):
            db.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"{group_id}:{value}"}
            )
    query = _duplicate_query(bool(phone), bool(wechat_id))
    return db.session.connection().execute(query, params).scalar()


def locate(location: Mapping[str, Any]) -> Place | None:
    """Client coordinates win (exact, admin code from the nearest district); else the chain.

    May call the online geocoder: call it before opening a unit of work, never inside one.
    """
    if location.get("latitude") is not None:
        lat, lon = location["latitude"], location["longitude"]
        hint = Gazetteer.default().nearest_district(lat, lon)
        return Place(
            latitude=lat,
            longitude=lon,
            precision="exact",
            province=hint.province if hint else None,
            city=hint.city if hint else None,
            district=hint.district if hint else None,
            adcode=hint.adcode if hint else None,
            source="client",
        )
    if location.get("address"):
        return geocode_address(location["address"])
    return None


def ambiguous(location: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The cities an address without coordinates may mean when it does not settle one."""
    if location.get("latitude") is not None:
        return []
    return address_candidates(location.get("address"))


def set_place(lead: Lead, place: Place) -> None:
    lead.latitude, lead.longitude = place.latitude, place.longitude
    lead.geo_precision, lead.geo_source = place.precision, place.source
    lead.province, lead.city, lead.district, lead.adcode = (
        place.province,
        place.city,
        place.district,
        place.adcode,
    )


def share_reason(referrer: Dealer, brand: str, place: Place | None) -> str | None:
    """Why the referrer cannot serve the customer itself; None when it can (or cannot tell yet)."""
    if place is not None and referrer.latitude is not None:
        distance = haversine_km(
            referrer.latitude, referrer.longitude, place.latitude, place.longitude
        )
        inside = distance <= referrer.service_radius_km or covers_adcode(
            referrer.region_codes, place.adcode
        )
        if not inside:
            return OUT_OF_REGION
    if not referrer.sells(brand):
        return BRAND_NOT_CARRIED
    return None


def not_shareable() -> Conflict:
    return Conflict(
        "Your store sells this brand and serves this customer's area: serve them yourself.",
        reason="not_shareable",
    )


def location_data(lead: Lead) -> dict[str, Any] | None:
    """The place recorded on the lead's trail (no street address, no point)."""
    if lead.latitude is None:
        return None
    return {
        "precision": lead.geo_precision,
        "source": lead.geo_source,
        "adcode": lead.adcode,
        "province": lead.province,
        "city": lead.city,
        "district": lead.district,
    }


def post_lead(
    actor: User,
    data: Mapping[str, Any],
    now: datetime | None = None,
    idempotency: Once | None = None,
) -> Lead:
    """SPEC 2: locate, then in one unit of work: de-duplicate, decide the share reason, store,
    route (and, for an Idempotency-Key, reserve the key and store the answer)."""
    now = now or utcnow()
    referrer = scope.acting_store(actor)
    data = {**data, "brand": brands.group_brand(referrer.group_id, data["brand"])}
    candidates = ambiguous(data["location"])
    place = None if candidates else locate(data["location"])
    try:
        with unit_of_work():
            lead = _store(actor, referrer, data, place, now, idempotency, candidates)
    except Conflict as error:
        if error.reason == "duplicate_lead":
            count_refused_duplicate(referrer, data, now)
        raise
    return lead


def customer_key(contact: str) -> str:
    """A keyed hash of a phone or WeChat ID: the same customer, the same hash; no key, no use."""
    secret = current_settings().secret_key
    return hmac.new(secret.encode(), f"customer:{contact}".encode(), hashlib.sha256).hexdigest()


@transactional
def count_refused_duplicate(referrer: Dealer, data: Mapping[str, Any], now: datetime) -> None:
    """Count a share refused as a duplicate, in a unit of work of its own (the refused one
    rolled back): store, channel, local day and the customer's keyed hash, nothing more."""
    customer = data["customer"]
    contact = customer.get("phone") or customer.get("wechat_id")
    values = {
        "group_id": referrer.group_id,
        "dealer_id": referrer.id,
        "brand_key": brand_key(data["brand"]),
        "channel": data["source"]["channel"],
        "day": local_date(now, referrer.group.timezone),
        "customer_key": customer_key(contact),
        "created_at": now,
    }
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(DuplicateRefusal).values(**values).on_conflict_do_nothing())


def _store(
    actor: User,
    referrer: Dealer,
    data: Mapping[str, Any],
    place: Place | None,
    now: datetime,
    once: Once | None,
    candidates: list[dict[str, Any]] | None = None,
) -> Lead:
    reservation = reserve(actor, once, now) if once else None
    group = referrer.group
    customer, source = data["customer"], data["source"]
    duplicate = _duplicate_of(
        group.id, customer.get("phone"), customer.get("wechat_id"), now, group.dedup_window_days
    )
    if duplicate:
        raise Conflict(
            "This customer was already shared in your group recently.",
            reason="duplicate_lead",
            duplicate_of=duplicate,
        )
    consent = _consent(group, data.get("consent") or {})
    reason = share_reason(referrer, data["brand"], place)
    if reason is None and place is not None:
        raise not_shareable()
    lead = Lead(
        public_id=new_public_id(),
        group=group,  # linked, not only keyed: the rows already read are not read again
        group_id=group.id,  # keyed too: routing reads the keys before the lead is flushed
        referrer=referrer,
        referrer_id=referrer.id,
        offers=[],  # a new lead has none: offers made below join the collection in memory
        offers_made=0,
        progress_rank=0,
        event_seq=0,
        created_by_id=actor.id,
        status=LeadStatus.NEEDS_LOCATION,
        share_reason=reason,
        customer_name=customer["name"],
        phone=customer.get("phone"),
        wechat_id=customer.get("wechat_id"),
        brand=data["brand"],
        brand_key=brand_key(data["brand"]),
        model=data.get("model"),
        budget=data.get("budget"),
        timeframe=data.get("timeframe"),
        channel=source["channel"],
        campaign=source.get("campaign"),
        notes=data.get("notes"),
        consent_at=now,
        consent_text_version=consent.get("text_version"),
        consent_channel=consent.get("channel"),
        address=data["location"].get("address"),
        location_candidates=candidates or None,
        created_at=now,
        updated_at=now,
    )
    if place is not None:
        set_place(lead, place)
    # Not flushed yet: the lead, its events and its offer are inserted together, with their
    # final values (no UPDATE of a row just inserted).
    db.session.add(lead)
    append_event(
        lead,
        EventType.POSTED,
        at=now,
        actor=actor,
        dealer_id=referrer.id,
        data={
            "share_reason": reason,
            "channel": lead.channel,
            "campaign": lead.campaign,
            "brand": lead.brand,
            "location": location_data(lead),
            "consent": consent or None,
        },
    )
    if place is None:
        append_event(lead, EventType.NEEDS_LOCATION, at=now, actor=actor, dealer_id=referrer.id)
    else:
        route_next(lead, now)
    if reservation is not None:
        db.session.flush()
        reservation.lead_id = lead.id
        db.session.flush()
        answer(actor, once, lead)
    return lead


def _consent(group: Group, consent: Mapping[str, Any]) -> dict[str, Any]:
    """The consent evidence; a group with consent_required needs its version and channel."""
    if group.consent_required:
        for field in ("text_version", "channel"):
            if not consent.get(field):
                raise Invalid(
                    f"consent.{field}",
                    "This group requires the consent notice's version and how consent was given.",
                    reason="consent_required",
                )
    return {k: consent[k] for k in ("text_version", "channel") if consent.get(k)}


def refuse_ambiguous(location: Mapping[str, Any], field: str) -> None:
    """422 `ambiguous_address` with the candidates when an address that must settle a place
    names a district several cities share (a fix or a correction, where nothing is stored)."""
    candidates = ambiguous(location)
    if candidates:
        raise Invalid(
            field,
            "Several cities have a district of this name: write the city too.",
            reason="ambiguous_address",
            candidates=candidates,
        )


def set_location(
    actor: User, public_id: str, location: Mapping[str, Any], now: datetime | None = None
) -> Lead:
    """The referrer completes a lead stored as needs_location; routing then runs.

    Refusals that need no place come before the geocoder; the place is located before the unit
    of work that locks the lead, checks again and routes.
    """
    now = now or utcnow()
    _may_locate(actor, visible(actor, public_id))
    refuse_ambiguous(location, "address")
    place = locate(location)
    with unit_of_work():
        lead = visible(actor, public_id, lock=True)
        _may_locate(actor, lead)
        _locate_lead(actor, lead, location, place, now)
    return lead


def _may_locate(actor: User, lead: Lead) -> None:
    """Only the referrer fixes the location, and only of a lead stored as needs_location."""
    if actor.dealer_id != lead.referrer_id:
        raise Forbidden(
            "Only the store that posted the lead may fix its location.", reason="not_referrer"
        )
    if lead.status != LeadStatus.NEEDS_LOCATION:
        raise Conflict("This lead already has a location.", reason="location_already_set")


def _locate_lead(
    actor: User, lead: Lead, location: Mapping[str, Any], place: Place | None, now: datetime
) -> None:
    if place is None:
        raise Invalid(
            "address",
            "This address could not be located; give latitude and longitude.",
            reason="address_not_found",
        )
    reason = share_reason(lead.referrer, lead.brand, place)
    if reason is None:
        raise not_shareable()
    lead.share_reason = reason
    lead.address = location.get("address") or lead.address
    lead.location_candidates = None
    set_place(lead, place)
    append_event(
        lead,
        EventType.LOCATED,
        at=now,
        actor=actor,
        dealer_id=lead.referrer_id,
        data={"share_reason": reason, "location": location_data(lead)},
    )
    route_next(lead, now)
