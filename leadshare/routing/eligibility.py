"""Which dealers may be offered a lead: the five eligibility rules of SPEC section 3, and the
store clock's rule of SPEC 10 (a store closed too long from the offer instant is skipped)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from leadshare.routing.geo import haversine_km
from leadshare.vocabulary import brand_key


@dataclass(frozen=True, slots=True)
class DealerFacts:
    """What routing needs to know about one dealer; brands are normalised on creation."""

    id: int
    group_id: int
    latitude: float | None
    longitude: float | None
    brands: frozenset[str]
    is_active: bool
    is_accepting: bool
    service_radius_km: float
    region_codes: tuple[str, ...]
    daily_capacity: int | None
    load_today: int
    is_closed_long: bool = False
    """Closed for longer than the group's `skip_closed_over_hours` from the offer instant."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "brands", frozenset(brand_key(b) for b in self.brands))
        object.__setattr__(self, "region_codes", tuple(c for c in self.region_codes if c))


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """What routing needs to know about one lead."""

    group_id: int
    referrer_id: int
    brand: str
    latitude: float
    longitude: float
    adcode: str | None
    offered_dealer_ids: frozenset[int]


class Rule(StrEnum):
    """The eligibility rules, in the order they are checked; the value names them in reports."""

    SAME_GROUP_NOT_REFERRER = "group"
    SELLS_BRAND = "brand"
    ACTIVE_ACCEPTING = "active"
    IN_SERVICE_AREA = "area"
    NOT_OFFERED_BEFORE = "offered_before"
    UNDER_CAPACITY = "capacity"
    OPEN_SOON = "closed"


BOARD_RULES: frozenset[Rule] = frozenset(
    {Rule.SAME_GROUP_NOT_REFERRER, Rule.SELLS_BRAND, Rule.ACTIVE_ACCEPTING, Rule.NOT_OFFERED_BEFORE}
)
"""SPEC rules 1, 2 and 4: what a dealer must satisfy to claim an open lead from the board."""


def distance_km(lead: LeadFacts, dealer: DealerFacts) -> float | None:
    """Great-circle distance from customer to dealer; None when the dealer has no position."""
    if dealer.latitude is None or dealer.longitude is None:
        return None
    return haversine_km(lead.latitude, lead.longitude, dealer.latitude, dealer.longitude)


def covers_adcode(region_codes: Iterable[str], adcode: str | None) -> bool:
    """A region code covers an administrative code it prefixes ("4403" covers "440305")."""
    if not adcode:
        return False
    return any(adcode.startswith(code) for code in region_codes if code)


def _violations(lead: LeadFacts, dealer: DealerFacts, distance: float | None) -> Iterator[Rule]:
    if dealer.group_id != lead.group_id or dealer.id == lead.referrer_id:
        yield Rule.SAME_GROUP_NOT_REFERRER
    if brand_key(lead.brand) not in dealer.brands:
        yield Rule.SELLS_BRAND
    if not (dealer.is_active and dealer.is_accepting):
        yield Rule.ACTIVE_ACCEPTING
    within_radius = distance is not None and distance <= dealer.service_radius_km
    if not (within_radius or covers_adcode(dealer.region_codes, lead.adcode)):
        yield Rule.IN_SERVICE_AREA
    if dealer.id in lead.offered_dealer_ids:
        yield Rule.NOT_OFFERED_BEFORE
    if dealer.daily_capacity is not None and dealer.load_today >= dealer.daily_capacity:
        yield Rule.UNDER_CAPACITY
    if dealer.is_closed_long:
        yield Rule.OPEN_SOON


def evaluate(lead: LeadFacts, dealer: DealerFacts) -> tuple[Rule | None, float | None]:
    """The first rule (SPEC order) that excludes the dealer, or None, with the dealer's distance."""
    distance = distance_km(lead, dealer)
    return next(_violations(lead, dealer, distance), None), distance


def first_failed_rule(lead: LeadFacts, dealer: DealerFacts) -> Rule | None:
    """The first rule, in SPEC order, that excludes the dealer from being offered the lead."""
    return evaluate(lead, dealer)[0]


def is_eligible(lead: LeadFacts, dealer: DealerFacts) -> bool:
    """A dealer may be offered a lead only when it satisfies all five SPEC rules."""
    return first_failed_rule(lead, dealer) is None


def may_claim_from_board(lead: LeadFacts, dealer: DealerFacts) -> bool:
    """An open lead may be claimed by a dealer that satisfies SPEC rules 1, 2 and 4."""
    violations = _violations(lead, dealer, distance_km(lead, dealer))
    return not any(rule in BOARD_RULES for rule in violations)
