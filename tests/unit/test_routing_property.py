"""Property tests of routing: a lead's offer cascade always goes to the nearest eligible dealer."""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from leadshare.routing.eligibility import DealerFacts, LeadFacts, distance_km, is_eligible
from leadshare.routing.geo import bounding_box, haversine_km
from leadshare.routing.ranking import TIE_KM, Candidate, decide, rank

CENTRES = [(22.5431, 114.0579), (23.1291, 113.2644), (31.2304, 121.4737)]  # SZ, GZ, SH
BRANDS = ["BYD", "nio", "Geely", "Tesla"]
SLACK_KM = 1e-9

# Small offsets put dealers a few metres apart (0.00005 deg is about 5.6 m), so ties happen.
offsets = st.one_of(
    st.floats(min_value=-0.4, max_value=0.4),
    st.sampled_from([0.0, 0.00005, -0.00005, 0.0001, 0.00009]),
)


@st.composite
def dealer_lists(draw: st.DrawFn) -> list[DealerFacts]:
    dealers = []
    for dealer_id in range(1, draw(st.integers(min_value=0, max_value=25)) + 1):
        centre = draw(st.sampled_from(CENTRES))
        placed = draw(st.integers(min_value=0, max_value=9)) > 0
        dealers.append(
            DealerFacts(
                id=dealer_id,
                group_id=draw(st.sampled_from([1, 1, 1, 2])),
                latitude=centre[0] + draw(offsets) if placed else None,
                longitude=centre[1] + draw(offsets) if placed else None,
                brands=draw(st.frozensets(st.sampled_from(BRANDS), min_size=1)),
                is_active=draw(st.integers(min_value=0, max_value=5)) > 0,
                is_accepting=draw(st.integers(min_value=0, max_value=5)) > 0,
                service_radius_km=draw(st.sampled_from([5.0, 10.0, 30.0, 50.0, 100.0])),
                region_codes=tuple(
                    draw(st.lists(st.sampled_from(["4403", "440305", "4401", "3101"]), max_size=2))
                ),
                daily_capacity=draw(st.none() | st.integers(min_value=0, max_value=4)),
                load_today=draw(st.integers(min_value=0, max_value=4)),
            )
        )
    return dealers


@st.composite
def leads(draw: st.DrawFn, dealer_count: int) -> LeadFacts:
    centre = draw(st.sampled_from(CENTRES))
    return LeadFacts(
        group_id=1,
        referrer_id=draw(st.integers(min_value=0, max_value=max(dealer_count, 1))),
        brand=draw(st.sampled_from(BRANDS + ["byd", "NIO"])),
        latitude=centre[0] + draw(offsets),
        longitude=centre[1] + draw(offsets),
        adcode=draw(st.sampled_from([None, "440305", "440104", "310101"])),
        offered_dealer_ids=frozenset(),
    )


def position(lead: LeadFacts, dealer: DealerFacts) -> float:
    distance = distance_km(lead, dealer)
    return math.inf if distance is None else distance


@settings(max_examples=200, deadline=None)
@given(data=st.data(), dealers=dealer_lists(), max_offers=st.integers(min_value=1, max_value=6))
def test_offer_cascade_goes_to_nearest_eligible_dealer(
    data: st.DataObject, dealers: list[DealerFacts], max_offers: int
) -> None:
    lead = data.draw(leads(len(dealers)))
    declines = data.draw(st.lists(st.booleans(), min_size=max_offers, max_size=max_offers))
    by_id = {dealer.id: dealer for dealer in dealers}
    offered: list[int] = []

    for declined in declines:
        lead = replace(lead, offered_dealer_ids=frozenset(offered))
        decision = decide(lead, by_id.values())
        eligible = [d for d in by_id.values() if is_eligible(lead, d)]
        assert decision.considered == len(by_id)
        assert decision.considered - sum(decision.excluded.values()) == len(eligible)

        if decision.chosen is None:
            assert not eligible
            break
        chosen = by_id[decision.chosen.dealer_id]
        assert is_eligible(lead, chosen)
        assert chosen.id not in offered
        nearest = min(position(lead, d) for d in eligible)
        assert decision.chosen.distance_km <= nearest + TIE_KM + SLACK_KM
        for rival in eligible:
            if position(lead, rival) <= nearest + TIE_KM:
                assert (chosen.load_today, chosen.id) <= (rival.load_today, rival.id)

        runner_ids = [c.dealer_id for c in decision.runners_up]
        assert len(runner_ids) == min(5, len(eligible) - 1)
        assert len(set(runner_ids)) == len(runner_ids)
        assert chosen.id not in runner_ids
        assert all(is_eligible(lead, by_id[i]) for i in runner_ids)

        offered.append(chosen.id)
        if not declined:
            by_id[chosen.id] = replace(chosen, load_today=chosen.load_today + 1)
            break

    assert len(offered) <= max_offers
    assert len(set(offered)) == len(offered)


candidates = st.lists(
    st.builds(
        Candidate,
        dealer_id=st.integers(min_value=1, max_value=10_000),
        distance_km=st.sampled_from([0.0, 0.004, 0.009, 0.01, 0.015, 0.021, math.inf])
        | st.floats(min_value=0, max_value=0.05),
        load_today=st.integers(min_value=0, max_value=3),
    ),
    unique_by=lambda c: c.dealer_id,
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(pool=candidates, data=st.data())
def test_rank_is_a_permutation_independent_of_input_order(
    pool: list[Candidate], data: st.DataObject
) -> None:
    ranked = rank(pool)
    assert sorted(ranked, key=lambda c: c.dealer_id) == sorted(pool, key=lambda c: c.dealer_id)
    assert rank(data.draw(st.permutations(pool))) == ranked
    for index, head in enumerate(ranked):
        rest = ranked[index:]
        nearest = min(c.distance_km for c in rest)
        assert head.distance_km <= nearest + TIE_KM + SLACK_KM


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(min_value=-89.99, max_value=89.99),
    lon=st.floats(min_value=-180, max_value=180),
    radius_km=st.floats(min_value=0, max_value=2_000),
    bearing=st.floats(min_value=0, max_value=2 * math.pi),
    fraction=st.floats(min_value=0, max_value=1),
)
def test_bounding_box_contains_every_point_within_radius(
    lat: float, lon: float, radius_km: float, bearing: float, fraction: float
) -> None:
    angular = radius_km * fraction / 6371.0088
    phi1, lambda1 = math.radians(lat), math.radians(lon)
    phi2 = math.asin(
        math.sin(phi1) * math.cos(angular) + math.cos(phi1) * math.sin(angular) * math.cos(bearing)
    )
    lambda2 = lambda1 + math.atan2(
        math.sin(bearing) * math.sin(angular) * math.cos(phi1),
        math.cos(angular) - math.sin(phi1) * math.sin(phi2),
    )
    lat2 = math.degrees(phi2)
    lon2 = (math.degrees(lambda2) + 180.0) % 360.0 - 180.0
    if haversine_km(lat, lon, lat2, lon2) > radius_km:
        return  # rounding put the point just outside the circle: nothing to check
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius_km)
    assert min_lat <= lat2 <= max_lat
    assert min_lon <= lon2 <= max_lon
