"""Feeds the pure routing core from indexed queries and records each decision as an offer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Dealer, DealerBrand, DealerRegion, Lead, Offer
from .eligibility import DealerFacts, LeadFacts
from .geo import bounding_box
from .ranking import Decision, decide

PENDING, ACCEPTED = "pending", "accepted"


def start_of_day_utc(now: datetime, timezone: str) -> datetime:
    """Midnight of `now`'s day in the group's time zone, as naive UTC (the storage convention)."""
    tz = ZoneInfo(timezone)
    local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def region_prefixes(adcode: str | None) -> list[str]:
    """Every code that covers `adcode`: its province, city and district forms (2-12 digits)."""
    if not adcode:
        return []
    return [adcode[:n] for n in range(2, len(adcode) + 1)]


def candidate_ids(group_id: int, key: str, lat: float, lon: float, adcode: str | None) -> set[int]:
    """Dealers of the brand that could reach the customer: inside the bounding box of the group's
    widest service radius, or serving the customer's administrative code. Index reads only."""
    reach = db.session.scalar(
        select(func.max(Dealer.service_radius_km)).where(Dealer.group_id == group_id)
    )
    ids: set[int] = set()
    if reach:
        min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, reach)
        ids.update(
            db.session.scalars(
                select(DealerBrand.dealer_id).where(
                    DealerBrand.group_id == group_id,
                    DealerBrand.key == key,
                    DealerBrand.latitude.between(min_lat, max_lat),
                    DealerBrand.longitude.between(min_lon, max_lon),
                )
            )
        )
    prefixes = region_prefixes(adcode)
    if prefixes:
        ids.update(
            db.session.scalars(
                select(DealerRegion.dealer_id)
                .join(DealerBrand, DealerBrand.dealer_id == DealerRegion.dealer_id)
                .where(
                    DealerRegion.code.in_(prefixes),
                    DealerBrand.group_id == group_id,
                    DealerBrand.key == key,
                )
            )
        )
    return ids


def loads_today(dealer_ids: Iterable[int], day_start: datetime) -> dict[int, int]:
    """Per dealer: offers accepted since `day_start` plus offers still pending (SPEC 3 rule 5)."""
    ids = list(dealer_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Offer.dealer_id, func.count())
        .where(
            Offer.dealer_id.in_(ids),
            or_(
                Offer.status == PENDING,
                (Offer.status == ACCEPTED) & (Offer.responded_at >= day_start),
            ),
        )
        .group_by(Offer.dealer_id)
    )
    return {dealer_id: count for dealer_id, count in rows}


def dealer_facts(dealers: Iterable[Dealer], loads: dict[int, int]) -> list[DealerFacts]:
    return [
        DealerFacts(
            id=d.id,
            group_id=d.group_id,
            latitude=d.latitude,
            longitude=d.longitude,
            brands=frozenset(b.key for b in d.brand_rows),
            is_active=d.is_active,
            is_accepting=d.is_accepting,
            service_radius_km=d.service_radius_km,
            region_codes=tuple(r.code for r in d.region_rows),
            daily_capacity=d.daily_capacity,
            load_today=loads.get(d.id, 0),
        )
        for d in dealers
    ]


def load_dealers(ids: Iterable[int]) -> list[Dealer]:
    ids = list(ids)
    if not ids:
        return []
    query = (
        select(Dealer)
        .where(Dealer.id.in_(ids))
        .options(selectinload(Dealer.brand_rows), selectinload(Dealer.region_rows))
        .order_by(Dealer.id)
    )
    return list(db.session.scalars(query))


def lead_facts(lead: Lead) -> LeadFacts:
    offered = db.session.scalars(select(Offer.dealer_id).where(Offer.lead_id == lead.id))
    return LeadFacts(
        group_id=lead.group_id,
        referrer_id=lead.referrer_id,
        brand=lead.brand_key,
        latitude=lead.latitude,
        longitude=lead.longitude,
        adcode=lead.adcode,
        offered_dealer_ids=frozenset(offered),
    )


def brand_sold_elsewhere(lead: Lead) -> bool:
    """False when no other dealer of the group sells the lead's brand: the lead is unroutable."""
    return bool(
        db.session.scalar(
            select(DealerBrand.id)
            .where(
                DealerBrand.group_id == lead.group_id,
                DealerBrand.key == lead.brand_key,
                DealerBrand.dealer_id != lead.referrer_id,
            )
            .limit(1)
        )
    )


def decide_for(lead: Lead, now: datetime) -> Decision:
    """Run the pure decision over the candidates the indexes give for this lead."""
    facts = lead_facts(lead)
    ids = candidate_ids(lead.group_id, lead.brand_key, lead.latitude, lead.longitude, lead.adcode)
    dealers = load_dealers(ids)
    loads = loads_today(ids, start_of_day_utc(now, lead.group.timezone))
    decision = decide(facts, dealer_facts(dealers, loads))
    beyond = db.session.scalar(
        select(func.count(DealerBrand.id)).where(
            DealerBrand.group_id == lead.group_id, DealerBrand.key == lead.brand_key
        )
    ) - len(ids)
    decision.excluded["area"] += max(beyond, 0)
    return decision


def make_offer(lead: Lead, dealer_id: int, distance_km: float, now: datetime) -> Offer:
    ttl = timedelta(minutes=lead.group.offer_ttl_minutes)
    offer = Offer(
        lead=lead,
        dealer_id=dealer_id,
        kind="routed",
        status=PENDING,
        distance_km=round(distance_km, 3),
        offered_at=now,
        expires_at=now + ttl,
    )
    db.session.add(offer)
    lead.offers_made += 1
    return offer
