"""Reward rules: the most specific matching rule pays; events reached include skipped stages."""

from __future__ import annotations

import pytest

from leadshare.rewards.enums import RewardEvent
from leadshare.rewards.rules import (
    Rule,
    events_reached,
    match_rule,
    reversible_events_on_lost,
    specificity,
)

E = RewardEvent
GENERAL = Rule(event="accepted", amount_minor=1000, id=1)
BY_CHANNEL = Rule(event="accepted", amount_minor=2000, channel="livestream", id=2)
BY_BRAND = Rule(event="accepted", amount_minor=3000, brand="BYD", id=3)
BY_BOTH = Rule(event="accepted", amount_minor=4000, brand="BYD", channel="livestream", id=4)
ALL = [GENERAL, BY_CHANNEL, BY_BRAND, BY_BOTH]


def match(
    rules: list[Rule], event: str = "accepted", brand: str = "BYD", channel: str = "livestream"
) -> Rule | None:
    return match_rule(rules, event=event, brand=brand, channel=channel)


def test_event_values_are_the_stored_strings() -> None:
    assert [event.value for event in RewardEvent] == ["accepted", "visited", "ordered", "delivered"]
    assert "contacted" not in {event.value for event in RewardEvent}


def test_specificity_ranks_brand_and_channel_over_brand_over_channel_over_neither() -> None:
    assert [specificity(rule) for rule in ALL] == [0, 1, 2, 3]


def test_brand_and_channel_rule_beats_every_other() -> None:
    assert match(ALL) is BY_BOTH
    assert match(list(reversed(ALL))) is BY_BOTH


def test_brand_rule_beats_channel_rule() -> None:
    assert match([GENERAL, BY_CHANNEL, BY_BRAND]) is BY_BRAND
    assert match(ALL, channel="walk_in") is BY_BRAND


def test_channel_rule_beats_general_rule() -> None:
    assert match([GENERAL, BY_CHANNEL]) is BY_CHANNEL
    assert match(ALL, brand="Geely") is BY_CHANNEL


def test_general_rule_matches_any_brand_and_channel() -> None:
    assert match(ALL, brand="Geely", channel="walk_in") is GENERAL


def test_rules_for_other_events_never_match() -> None:
    visited = Rule(event="visited", amount_minor=500, brand="BYD", channel="livestream", id=9)
    assert match([GENERAL, visited]) is GENERAL
    assert match([GENERAL, visited], event="visited") is visited
    assert match(ALL, event="delivered") is None
    assert match(ALL, event=E.ACCEPTED) is BY_BOTH


@pytest.mark.parametrize("brand", ["byd", "BYD", "  Byd ", "bYd"])
def test_brand_compares_case_insensitively_and_ignoring_blanks(brand: str) -> None:
    assert match([GENERAL, BY_BRAND], brand=brand) is BY_BRAND


def test_brand_ignores_blanks_and_width_on_either_side() -> None:
    rule = Rule(event="accepted", amount_minor=100, brand="Li  Auto", id=5)
    assert match([rule], brand="li auto") is rule
    assert match([rule], brand="LI\tAUTO ") is rule
    assert match([rule], brand="ＬｉAuto") is rule
    assert match([rule], brand="Li Auto L9") is None


def test_channel_compares_exactly() -> None:
    assert match([BY_CHANNEL], channel="Livestream") is None
    assert match([BY_CHANNEL], channel="livestream") is BY_CHANNEL


def test_ties_go_to_the_lower_id() -> None:
    later = Rule(event="accepted", amount_minor=9, brand="byd", id=7)
    earlier = Rule(event="accepted", amount_minor=8, brand="BYD", id=6)
    assert match([later, earlier], channel="walk_in") is earlier


def test_ties_without_ids_go_to_the_earlier_position_and_after_rules_with_ids() -> None:
    first = Rule(event="accepted", amount_minor=1)
    second = Rule(event="accepted", amount_minor=2)
    saved = Rule(event="accepted", amount_minor=3, id=99)
    assert match([first, second]) is first
    assert match([first, second, saved]) is saved


def test_no_matching_rule_gives_none() -> None:
    assert match([], event="accepted") is None
    assert match([BY_BRAND, BY_BOTH], brand="Tesla") is None


@pytest.mark.parametrize(
    ("statuses", "events"),
    [
        ([], []),
        (["offered", "open", "withdrawn"], []),
        (["accepted"], [E.ACCEPTED]),
        (["accepted", "contacted"], [E.ACCEPTED]),
        (["accepted", "visited"], [E.ACCEPTED, E.VISITED]),
        (["accepted", "ordered"], [E.ACCEPTED, E.VISITED, E.ORDERED]),
        (["delivered"], [E.ACCEPTED, E.VISITED, E.ORDERED, E.DELIVERED]),
        (["accepted", "contacted", "visited", "lost"], [E.ACCEPTED, E.VISITED]),
        (["ordered", "accepted"], [E.ACCEPTED, E.VISITED, E.ORDERED]),
    ],
)
def test_events_reached_counts_skipped_stages_as_reached(
    statuses: list[str], events: list[RewardEvent]
) -> None:
    assert events_reached(statuses) == events


def test_events_reached_refuses_an_unknown_status() -> None:
    with pytest.raises(ValueError):
        events_reached(["accepted", "deliverd"])


def test_lost_after_ordered_reverses_ordered_and_delivered_credits() -> None:
    assert reversible_events_on_lost() == (E.ORDERED, E.DELIVERED)
