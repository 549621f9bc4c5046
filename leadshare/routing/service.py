"""Feeds the pure routing core from indexed queries and records each decision as an offer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, func, null, or_, select, union

from ..clock import start_of_day
from ..extensions import db
from ..hours.models import StoreHours
from ..hours.service import StoreClocks
from ..leads.enums import OfferKind, OfferStatus
from ..leads.models import Lead, Offer
from ..tenancy.models import Dealer, DealerBrand, DealerRegion
from .eligibility import DealerFacts, LeadFacts, Rule
from .geo import bounding_box
from .ranking import TIE_KM, Decision, decide

RUNNERS_UP = 5
SEARCH_RINGS_KM = (10.0, 30.0)
"""Boxes searched, nearest first, before the box of the group's widest service radius."""


def region_prefixes(adcode: str | None) -> list[str]:
    """Every code that covers `adcode`: its province, city and district forms (2-12 digits)."""
    if not adcode:
        return []
    return [adcode[:n] for n in range(2, len(adcode) + 1)]


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


def lead_facts(lead: Lead) -> LeadFacts:
    offered: Iterable[int] = ()
    if lead.offers_made or lead.holder_id:  # a lead never offered has no offer rows to read
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


FACT_COLUMNS = (
    Dealer.id,
    Dealer.group_id,
    Dealer.latitude,
    Dealer.longitude,
    Dealer.is_active,
    Dealer.is_accepting,
    Dealer.service_radius_km,
    Dealer.daily_capacity,
)
"""The dealer columns a DealerFacts is made of (with today's load), in the order read."""
REACH = select(func.max(Dealer.service_radius_km)).where(Dealer.group_id == bindparam("group_id"))
"""The group's widest service radius: the box that holds every dealer that may serve anyone."""
SELLERS = select(
    func.count(), func.count().filter(DealerBrand.dealer_id == bindparam("referrer"))
).where(DealerBrand.group_id == bindparam("group_id"), DealerBrand.key == bindparam("brand_key"))
"""How many of the group's dealers sell the brand, and whether the referrer is one of them."""


_statements: dict[tuple, Select] = {}
"""The candidate queries, built once per shape (a box or not, codes or not, the closures' day,
the dialect) with every value a bound parameter: building a statement costs more than running
it on SQLite, and SQLAlchemy's compiled cache then hits at once."""


def _codes_column(dialect: str):
    """Each dealer's region codes in one text column (comma-separated), read in the same query."""
    join = func.string_agg if dialect == "postgresql" else func.group_concat
    return (
        select(join(DealerRegion.code, ","))
        .where(DealerRegion.dealer_id == Dealer.id)
        .correlate(Dealer)
        .scalar_subquery()
    )


def _candidates_statement(
    boxed: bool, coded: bool, clocks: StoreClocks | None, dialect: str
) -> Select:
    key = (boxed, coded, clocks.day if clocks is not None else None, dialect)
    statement = _statements.get(key)
    if statement is not None:
        return statement
    of_brand = select(DealerBrand.dealer_id).where(
        DealerBrand.group_id == bindparam("group_id"), DealerBrand.key == bindparam("brand_key")
    )
    parts = []
    if boxed:
        parts.append(
            of_brand.where(
                DealerBrand.latitude.between(bindparam("min_lat"), bindparam("max_lat")),
                DealerBrand.longitude.between(bindparam("min_lon"), bindparam("max_lon")),
            )
        )
    if coded:
        parts.append(
            of_brand.join(DealerRegion, DealerRegion.dealer_id == DealerBrand.dealer_id).where(
                DealerRegion.code.in_(bindparam("prefixes", expanding=True))
            )
        )
    load = (
        select(func.count())
        .where(
            Offer.dealer_id == Dealer.id,
            or_(
                Offer.status == OfferStatus.PENDING,
                (Offer.status == OfferStatus.ACCEPTED)
                & (Offer.responded_at >= bindparam("day_start")),
            ),
        )
        .correlate(Dealer)
        .scalar_subquery()
    )
    codes = _codes_column(dialect) if coded else null()
    statement = select(*FACT_COLUMNS, load, codes).where(
        Dealer.id.in_(parts[0] if len(parts) == 1 else union(*parts))
    )
    if clocks is not None:  # the closures' day is part of the key: the columns hold it
        statement = statement.add_columns(*clocks.columns()).outerjoin(
            StoreHours, StoreHours.dealer_id == Dealer.id
        )
    if len(_statements) > 64:  # a day's key per time zone: never many, but bounded
        _statements.clear()
    _statements[key] = statement
    return statement


def candidate_facts(
    lead: Lead, day_start: datetime, radius_km: float | None, clocks: StoreClocks | None = None
) -> list[DealerFacts]:
    """The facts of the dealers of the lead's brand inside the box of radius_km around the
    customer or serving the customer's code: plain rows, today's load and (when the customer
    has a code) each dealer's region codes counted in the same query, and (with `clocks`) each
    store's own hours and whether a closure lies ahead, noted there."""
    prefixes = region_prefixes(lead.adcode)
    if not radius_km and not prefixes:
        return []
    params: dict[str, object] = {
        "group_id": lead.group_id,
        "brand_key": lead.brand_key,
        "day_start": day_start,
    }
    if radius_km:
        min_lat, max_lat, min_lon, max_lon = bounding_box(lead.latitude, lead.longitude, radius_km)
        params.update(min_lat=min_lat, max_lat=max_lat, min_lon=min_lon, max_lon=max_lon)
    if prefixes:
        params["prefixes"] = prefixes
    connection = db.session.connection()
    statement = _candidates_statement(
        bool(radius_km), bool(prefixes), clocks, connection.dialect.name
    )
    rows = connection.execute(statement, params).all()
    width = len(FACT_COLUMNS) + 2
    if clocks is not None:
        for row in rows:
            clocks.note(row[0], *row[width:])
    brands = frozenset((lead.brand_key,))  # rule 2 only asks about the lead's brand
    return [
        DealerFacts(
            id=dealer_id,
            group_id=group_id,
            latitude=latitude,
            longitude=longitude,
            brands=brands,
            is_active=is_active,
            is_accepting=is_accepting,
            service_radius_km=radius,
            region_codes=tuple(sorted(codes.split(","))) if codes else (),
            daily_capacity=capacity,
            load_today=load_today,
        )
        for (
            dealer_id,
            group_id,
            latitude,
            longitude,
            is_active,
            is_accepting,
            radius,
            capacity,
            load_today,
            codes,
            *_clock,
        ) in rows
    ]


def _with_clocks(
    lead: Lead, dealers: list[DealerFacts], now: datetime, clocks: StoreClocks | None
) -> list[DealerFacts]:
    """Mark the stores closed longer than the group's `skip_closed_over_hours` from now."""
    limit = lead.group.skip_closed_over_hours
    if clocks is None or limit is None:
        return dealers
    return [
        replace(d, is_closed_long=True) if clocks.closed_longer_than(d.id, now, limit) else d
        for d in dealers
    ]


def decide_for(
    lead: Lead, now: datetime, clocks: StoreClocks | None = None
) -> tuple[Decision, float | None]:
    """Run the pure decision over the nearest box that settles it, else over the group's reach.

    A box of radius r holds every dealer nearer than r, so once the chosen dealer and the
    runners-up are all nearer than r - TIE_KM nobody outside can change them. Returns the
    decision and the radius searched: the exclusion counts cover the dealers inside it (and,
    for the full reach, the dealers of the brand beyond any reach count as `area`, and those
    other than the referrer as the decision's `out_of_reach`). With `clocks`, a store closed
    longer than the group allows is excluded as `closed`.
    """
    facts = lead_facts(lead)
    day_start = start_of_day(now, lead.group.timezone)
    reach = db.session.connection().execute(REACH, {"group_id": lead.group_id}).scalar()
    for radius in (r for r in SEARCH_RINGS_KM if reach and r < reach):
        dealers = _with_clocks(lead, candidate_facts(lead, day_start, radius, clocks), now, clocks)
        decision = decide(facts, dealers, RUNNERS_UP)
        ranked = [decision.chosen, *decision.runners_up] if decision.chosen else []
        if len(ranked) == 1 + RUNNERS_UP and max(c.distance_km for c in ranked) + TIE_KM < radius:
            return decision, radius
    dealers = _with_clocks(lead, candidate_facts(lead, day_start, reach, clocks), now, clocks)
    decision = decide(facts, dealers, RUNNERS_UP)
    sellers, referrer_sells = (
        db.session.connection()
        .execute(
            SELLERS,
            {"group_id": lead.group_id, "brand_key": lead.brand_key, "referrer": lead.referrer_id},
        )
        .one()
    )
    beyond = max(sellers - len(dealers), 0)
    referrer_beyond = referrer_sells - any(d.id == lead.referrer_id for d in dealers)
    decision.excluded[Rule.IN_SERVICE_AREA.value] += beyond
    return replace(decision, out_of_reach=max(beyond - referrer_beyond, 0)), reach


def make_offer(
    lead: Lead,
    dealer_id: int,
    distance_km: float,
    now: datetime,
    expires_at: datetime | None = None,
) -> Offer:
    """The routed offer to one store; it expires at `expires_at` (the store clock's count),
    else after the group's offer time on the wall clock."""
    ttl = timedelta(minutes=lead.group.offer_ttl_minutes)
    offer = Offer(
        lead=lead,
        dealer_id=dealer_id,
        kind=OfferKind.ROUTED,
        status=OfferStatus.PENDING,
        distance_km=round(distance_km, 3),
        offered_at=now,
        expires_at=expires_at or now + ttl,
    )
    db.session.add(offer)
    lead.offers_made += 1
    return offer
