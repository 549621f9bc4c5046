"""Eligibility: each SPEC rule on its own excludes a dealer; distances on the sphere."""

from __future__ import annotations

import math
from typing import Any

import pytest

from leadshare.routing.eligibility import (
    DealerFacts,
    LeadFacts,
    Rule,
    covers_adcode,
    distance_km,
    evaluate,
    first_failed_rule,
    is_eligible,
    may_claim_from_board,
)
from leadshare.routing.geo import EARTH_RADIUS_KM, bounding_box, haversine_km

from .routing_facts import dealer_facts, lead_facts

# Shenzhen Nanshan district (adcode 440305) and a point about 1 km east of it.
NANSHAN = (22.5333, 113.9304)
KM_PER_DEG_LAT = EARTH_RADIUS_KM * math.pi / 180


def make_dealer(**overrides: Any) -> DealerFacts:
    return dealer_facts((NANSHAN[0], NANSHAN[1] + 0.01), "byd", **overrides)


def make_lead(**overrides: Any) -> LeadFacts:
    return lead_facts(NANSHAN, "BYD", "440305", **overrides)


def test_default_dealer_is_eligible() -> None:
    assert first_failed_rule(make_lead(), make_dealer()) is None
    assert is_eligible(make_lead(), make_dealer())


def test_dealer_of_another_group_is_excluded() -> None:
    assert first_failed_rule(make_lead(), make_dealer(group_id=2)) is Rule.SAME_GROUP_NOT_REFERRER


def test_referrer_is_never_offered_its_own_lead() -> None:
    lead = make_lead(referrer_id=10)
    assert first_failed_rule(lead, make_dealer(id=10)) is Rule.SAME_GROUP_NOT_REFERRER


def test_dealer_not_selling_the_brand_is_excluded() -> None:
    dealer = make_dealer(brands=frozenset({"nio", "geely"}))
    assert first_failed_rule(make_lead(), dealer) is Rule.SELLS_BRAND


@pytest.mark.parametrize("lead_brand", ["byd", "BYD", " Byd ", "bYd"])
@pytest.mark.parametrize("dealer_brand", ["byd", "BYD", "Byd "])
def test_brand_matches_case_insensitively(lead_brand: str, dealer_brand: str) -> None:
    dealer = make_dealer(brands=frozenset({dealer_brand}))
    assert is_eligible(make_lead(brand=lead_brand), dealer)


def test_multiword_brand_ignores_blanks_and_width() -> None:
    dealer = make_dealer(brands=frozenset({"Mercedes-Benz", "Land  Rover"}))
    assert dealer.brands == frozenset({"mercedes-benz", "landrover"})
    assert is_eligible(make_lead(brand="LAND ROVER"), dealer)
    assert is_eligible(make_lead(brand="ＬＡＮＤ ＲＯＶＥＲ"), dealer)


def test_inactive_dealer_is_excluded() -> None:
    assert first_failed_rule(make_lead(), make_dealer(is_active=False)) is Rule.ACTIVE_ACCEPTING


def test_dealer_not_accepting_is_excluded() -> None:
    dealer = make_dealer(is_accepting=False)
    assert first_failed_rule(make_lead(), dealer) is Rule.ACTIVE_ACCEPTING


def test_customer_outside_radius_is_excluded() -> None:
    dealer = make_dealer(latitude=NANSHAN[0] + 1.0, longitude=NANSHAN[1])  # about 111 km north
    assert first_failed_rule(make_lead(), dealer) is Rule.IN_SERVICE_AREA


def test_radius_boundary_is_inclusive() -> None:
    north = {"latitude": NANSHAN[0] + 0.1, "longitude": NANSHAN[1]}
    gap = distance_km(make_lead(), make_dealer(**north))
    assert gap is not None
    assert is_eligible(make_lead(), make_dealer(service_radius_km=gap, **north))
    tighter = make_dealer(service_radius_km=gap - 0.001, **north)
    assert first_failed_rule(make_lead(), tighter) is Rule.IN_SERVICE_AREA


def test_region_code_prefix_covers_customer_outside_radius() -> None:
    far = {"latitude": NANSHAN[0] + 1.0, "longitude": NANSHAN[1]}
    assert is_eligible(make_lead(adcode="440305"), make_dealer(region_codes=("4403",), **far))
    assert is_eligible(make_lead(adcode="440305"), make_dealer(region_codes=("440305",), **far))
    dealer = make_dealer(region_codes=("4401", "4404"), **far)
    assert first_failed_rule(make_lead(adcode="440305"), dealer) is Rule.IN_SERVICE_AREA


def test_region_code_does_not_help_without_customer_adcode() -> None:
    dealer = make_dealer(latitude=NANSHAN[0] + 1.0, region_codes=("4403",))
    assert first_failed_rule(make_lead(adcode=None), dealer) is Rule.IN_SERVICE_AREA


def test_empty_region_code_covers_nothing() -> None:
    assert not covers_adcode(["", "4401"], "440305")
    assert covers_adcode(["4401", "44"], "440305")
    assert not covers_adcode(["4403"], None)
    assert not covers_adcode(["4403"], "")


def test_dealer_without_position_is_served_only_through_region_codes() -> None:
    unplaced = {"latitude": None, "longitude": None}
    assert distance_km(make_lead(), make_dealer(**unplaced)) is None
    assert first_failed_rule(make_lead(), make_dealer(**unplaced)) is Rule.IN_SERVICE_AREA
    assert is_eligible(make_lead(), make_dealer(region_codes=("4403",), **unplaced))


def test_dealer_offered_before_is_excluded() -> None:
    lead = make_lead(offered_dealer_ids=frozenset({10}))
    assert first_failed_rule(lead, make_dealer()) is Rule.NOT_OFFERED_BEFORE


def test_dealer_at_capacity_is_excluded() -> None:
    dealer = make_dealer(daily_capacity=3, load_today=3)
    assert first_failed_rule(make_lead(), dealer) is Rule.UNDER_CAPACITY
    assert is_eligible(make_lead(), make_dealer(daily_capacity=3, load_today=2))


def test_zero_capacity_takes_nothing_and_none_is_unlimited() -> None:
    assert not is_eligible(make_lead(), make_dealer(daily_capacity=0, load_today=0))
    assert is_eligible(make_lead(), make_dealer(daily_capacity=None, load_today=10_000))


def test_rules_are_checked_in_spec_order() -> None:
    hopeless = make_dealer(
        group_id=2,
        brands=frozenset({"nio"}),
        is_active=False,
        latitude=0.0,
        longitude=0.0,
        daily_capacity=0,
    )
    lead = make_lead(offered_dealer_ids=frozenset({10}))
    assert first_failed_rule(lead, hopeless) is Rule.SAME_GROUP_NOT_REFERRER
    expected = [
        ({"group_id": 1}, Rule.SELLS_BRAND),
        ({"brands": frozenset({"byd"})}, Rule.ACTIVE_ACCEPTING),
        ({"is_active": True}, Rule.IN_SERVICE_AREA),
        ({"latitude": NANSHAN[0], "longitude": NANSHAN[1]}, Rule.NOT_OFFERED_BEFORE),
    ]
    fields: dict[str, Any] = {
        "group_id": 2,
        "brands": frozenset({"nio"}),
        "is_active": False,
        "latitude": 0.0,
        "longitude": 0.0,
        "daily_capacity": 0,
    }
    for fix, rule in expected:
        fields.update(fix)
        assert first_failed_rule(lead, make_dealer(**fields)) is rule
    assert first_failed_rule(make_lead(), make_dealer(**fields)) is Rule.UNDER_CAPACITY


def test_evaluate_gives_the_distance_too() -> None:
    rule, distance = evaluate(make_lead(), make_dealer())
    assert rule is None
    assert distance == pytest.approx(distance_km(make_lead(), make_dealer()))


def test_board_claim_needs_group_brand_active_and_not_offered_only() -> None:
    lead = make_lead()
    far_and_full = make_dealer(latitude=NANSHAN[0] + 5, daily_capacity=1, load_today=1)
    assert not is_eligible(lead, far_and_full)
    assert may_claim_from_board(lead, far_and_full)
    assert not may_claim_from_board(lead, make_dealer(group_id=2))
    assert not may_claim_from_board(make_lead(referrer_id=10), make_dealer())
    assert not may_claim_from_board(lead, make_dealer(brands=frozenset({"nio"})))
    assert not may_claim_from_board(lead, make_dealer(is_active=False))
    assert not may_claim_from_board(lead, make_dealer(is_accepting=False))
    assert not may_claim_from_board(make_lead(offered_dealer_ids=frozenset({10})), make_dealer())


def test_haversine_known_distances() -> None:
    assert haversine_km(*NANSHAN, *NANSHAN) == 0.0
    assert haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(KM_PER_DEG_LAT)
    assert haversine_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    beijing, shanghai = (39.9042, 116.4074), (31.2304, 121.4737)
    assert haversine_km(*beijing, *shanghai) == pytest.approx(1067.3, abs=1.0)
    assert haversine_km(*beijing, *shanghai) == pytest.approx(haversine_km(*shanghai, *beijing))


def test_bounding_box_widens_longitude_with_latitude() -> None:
    min_lat, max_lat, min_lon, max_lon = bounding_box(0.0, 100.0, KM_PER_DEG_LAT)
    assert (min_lat, max_lat) == pytest.approx((-1.0, 1.0))
    assert (min_lon, max_lon) == pytest.approx((99.0, 101.0))
    min_lat, max_lat, min_lon, max_lon = bounding_box(60.0, 100.0, KM_PER_DEG_LAT)
    assert (min_lat, max_lat) == pytest.approx((59.0, 61.0))
    assert max_lon - 100.0 > 2.0 - 1e-6  # about 1/cos(60°) degrees


def test_bounding_box_near_pole_or_antimeridian_spans_all_longitudes() -> None:
    assert bounding_box(89.9, 10.0, 50.0) == (
        pytest.approx(89.9 - 50 / KM_PER_DEG_LAT),
        90.0,
        -180.0,
        180.0,
    )
    assert bounding_box(0.0, 179.9, 50.0)[2:] == (-180.0, 180.0)
    assert bounding_box(0.0, 0.0, 30_000.0) == (-90.0, 90.0, -180.0, 180.0)
