"""Routing facts for the pure core's tests; a keyword override (even `latitude=` or `brand=`)
replaces any field."""

from __future__ import annotations

from typing import Any

from leadshare.routing.eligibility import DealerFacts, LeadFacts


def dealer_facts(at: tuple[float, float], brand: str, /, **overrides: Any) -> DealerFacts:
    """An active, accepting dealer of group 1 at `at` selling `brand`: 50 km, no regions, no cap."""
    fields: dict[str, Any] = {
        "id": 10,
        "group_id": 1,
        "latitude": at[0],
        "longitude": at[1],
        "brands": frozenset({brand}),
        "is_active": True,
        "is_accepting": True,
        "service_radius_km": 50.0,
        "region_codes": (),
        "daily_capacity": None,
        "load_today": 0,
    }
    return DealerFacts(**{**fields, **overrides})


def lead_facts(at: tuple[float, float], brand: str, adcode: str, /, **overrides: Any) -> LeadFacts:
    """A lead of group 1 referred by dealer 1 and offered to nobody yet."""
    fields: dict[str, Any] = {
        "group_id": 1,
        "referrer_id": 1,
        "brand": brand,
        "latitude": at[0],
        "longitude": at[1],
        "adcode": adcode,
        "offered_dealer_ids": frozenset(),
    }
    return LeadFacts(**{**fields, **overrides})
