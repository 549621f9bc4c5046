"""Ranking: nearest eligible dealer first, ties within 10 m by load then id; decision records."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace
from typing import Any

import pytest

from leadshare.routing.eligibility import DealerFacts, LeadFacts, Rule
from leadshare.routing.geo import EARTH_RADIUS_KM
from leadshare.routing.ranking import Candidate, Decision, decide, rank

from .routing_facts import dealer_facts, lead_facts

CUSTOMER = (31.2304, 121.4737)  # Shanghai, People's Square
KM_PER_DEG_LAT = EARTH_RADIUS_KM * math.pi / 180


def make_dealer(dealer_id: int, km_north: float, **overrides: Any) -> DealerFacts:
    """A dealer due north of the customer, so its distance is exactly km_north."""
    at = (CUSTOMER[0] + km_north / KM_PER_DEG_LAT, CUSTOMER[1])
    return dealer_facts(at, "nio", id=dealer_id, **overrides)


def make_lead(**overrides: Any) -> LeadFacts:
    return lead_facts(CUSTOMER, "NIO", "310101", **overrides)


def ids(candidates: list[Candidate] | tuple[Candidate, ...]) -> list[int]:
    return [c.dealer_id for c in candidates]


def test_nearest_dealer_ranks_first() -> None:
    ranked = rank([Candidate(3, 9.0, 0), Candidate(2, 2.0, 0), Candidate(4, 5.0, 0)])
    assert ids(ranked) == [2, 4, 3]


def test_tie_within_10_m_goes_to_lower_load() -> None:
    ranked = rank([Candidate(1, 1.000, 3), Candidate(2, 1.009, 1)])
    assert ids(ranked) == [2, 1]


def test_tie_within_10_m_and_equal_load_goes_to_lower_id() -> None:
    ranked = rank([Candidate(7, 1.000, 2), Candidate(5, 1.006, 2)])
    assert ids(ranked) == [5, 7]


def test_exactly_10_m_apart_is_still_a_tie() -> None:
    ranked = rank([Candidate(1, 1.000, 2), Candidate(2, 1.010, 0)])
    assert ids(ranked) == [2, 1]


def test_11_m_apart_goes_to_the_nearer_whatever_the_load() -> None:
    ranked = rank([Candidate(1, 1.000, 5), Candidate(2, 1.011, 0)])
    assert ids(ranked) == [1, 2]


def test_ties_do_not_chain_beyond_10_m_of_the_nearest() -> None:
    # B is within 10 m of A and C is within 10 m of B, but C is 16 m from A: C cannot jump A.
    a, b, c = Candidate(1, 0.000, 5), Candidate(2, 0.008, 3), Candidate(3, 0.016, 0)
    assert ids(rank([a, b, c])) == [2, 1, 3]


def test_ranking_does_not_depend_on_input_order() -> None:
    pool = [
        Candidate(1, 0.000, 5),
        Candidate(2, 0.008, 3),
        Candidate(3, 0.016, 0),
        Candidate(4, 0.016, 0),
        Candidate(5, 3.0, 1),
        Candidate(6, math.inf, 0),
    ]
    expected = rank(pool)
    for order in itertools.permutations(pool):
        assert rank(order) == expected


def test_unknown_distance_ranks_last_and_limit_stops_early() -> None:
    pool = [Candidate(1, math.inf, 0), Candidate(2, 40.0, 9), Candidate(3, math.inf, 0)]
    assert ids(rank(pool)) == [2, 1, 3]
    assert ids(rank(pool, limit=2)) == [2, 1]
    assert rank([]) == []


def test_decide_offers_nearest_eligible_dealer() -> None:
    dealers = [make_dealer(2, 5.0), make_dealer(3, 2.0), make_dealer(4, 8.0)]
    decision = decide(make_lead(), dealers)
    assert decision.chosen is not None
    assert decision.chosen.dealer_id == 3
    assert decision.chosen.distance_km == pytest.approx(2.0)
    assert ids(decision.runners_up) == [2, 4]


def test_decide_breaks_10_m_tie_by_load_then_id() -> None:
    dealers = [
        make_dealer(2, 3.000, load_today=2),
        make_dealer(3, 3.008, load_today=1),
        make_dealer(4, 3.009, load_today=1),
    ]
    decision = decide(make_lead(), dealers)
    assert decision.chosen is not None
    assert [decision.chosen.dealer_id, *ids(decision.runners_up)] == [3, 4, 2]


def test_decide_prefers_nearer_dealer_11_m_closer() -> None:
    dealers = [make_dealer(2, 3.000, load_today=4), make_dealer(3, 3.011, load_today=0)]
    decision = decide(make_lead(), dealers)
    assert decision.chosen is not None
    assert decision.chosen.dealer_id == 2


def test_runners_up_are_the_next_five_in_order() -> None:
    dealers = [make_dealer(10 + n, float(n)) for n in range(1, 10)]
    decision = decide(make_lead(), reversed(dealers))
    assert decision.chosen is not None
    assert decision.chosen.dealer_id == 11
    assert ids(decision.runners_up) == [12, 13, 14, 15, 16]
    assert ids(decide(make_lead(), dealers, runners_up=2).runners_up) == [12, 13]
    assert decide(make_lead(), dealers, runners_up=0).runners_up == ()


def test_excluded_counts_each_dealer_under_its_first_failing_rule() -> None:
    dealers = [
        make_dealer(1, 1.0),  # the referrer
        make_dealer(2, 1.0, group_id=9),
        make_dealer(3, 1.0, group_id=9, brands=frozenset({"bmw"})),  # group, not brand
        make_dealer(4, 1.0, brands=frozenset({"bmw"})),
        make_dealer(5, 1.0, is_active=False),
        make_dealer(6, 1.0, is_accepting=False),
        make_dealer(7, 80.0),
        make_dealer(8, 80.0, is_accepting=False),  # active rule comes before area
        make_dealer(9, 1.0),  # offered before
        make_dealer(10, 1.0, daily_capacity=2, load_today=2),
        make_dealer(11, 4.0),
        make_dealer(12, 90.0, region_codes=("3101",)),
    ]
    decision = decide(make_lead(offered_dealer_ids=frozenset({9})), dealers)
    assert decision.excluded == {
        "group": 3,
        "brand": 1,
        "active": 3,
        "area": 1,
        "offered_before": 1,
        "capacity": 1,
        "closed": 0,
    }
    assert list(decision.excluded) == [rule.value for rule in Rule]
    assert decision.considered == 12
    assert decision.chosen is not None
    assert decision.chosen.dealer_id == 11
    assert ids(decision.runners_up) == [12]
    assert not decision.is_unroutable


def test_no_eligible_dealer_gives_no_choice() -> None:
    decision = decide(make_lead(), [make_dealer(2, 1.0, is_accepting=False)])
    assert decision.chosen is None
    assert decision.runners_up == ()
    assert decision.excluded["active"] == 1
    assert not decision.is_unroutable


def test_unroutable_when_no_other_group_dealer_sells_the_brand() -> None:
    dealers = [
        make_dealer(1, 1.0),
        make_dealer(2, 1.0, group_id=9),
        make_dealer(3, 1.0, brands=frozenset({"bmw"})),
    ]
    assert decide(make_lead(), dealers).is_unroutable
    assert decide(make_lead(), []).is_unroutable


def test_a_seller_beyond_the_searched_area_makes_the_lead_routable() -> None:
    decision = decide(make_lead(), [make_dealer(1, 1.0)])
    assert decision.is_unroutable
    assert not replace(decision, out_of_reach=1).is_unroutable


def test_decision_to_dict_is_json_ready_and_rounded() -> None:
    decision = Decision(
        chosen=Candidate(3, 1.23456, 2),
        runners_up=(Candidate(4, 2.0004, 0), Candidate(5, math.inf, 0)),
        excluded={rule.value: 0 for rule in Rule},
        considered=3,
    )
    data = decision.to_dict()
    assert data == {
        "chosen": {"dealer_id": 3, "distance_km": 1.235, "load_today": 2},
        "runners_up": [
            {"dealer_id": 4, "distance_km": 2.0, "load_today": 0},
            {"dealer_id": 5, "distance_km": None, "load_today": 0},
        ],
        "excluded": {
            "group": 0,
            "brand": 0,
            "active": 0,
            "area": 0,
            "offered_before": 0,
            "capacity": 0,
            "closed": 0,
        },
        "considered": 3,
    }
    json.dumps(data, allow_nan=False)
    empty = Decision(chosen=None, runners_up=(), excluded={}, considered=0).to_dict()
    assert empty["chosen"] is None
