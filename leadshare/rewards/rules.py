"""Reward rules: the most specific rule matching a lead's event, brand and channel pays."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from leadshare.leads.enums import LeadStatus
from leadshare.leads.states import PROGRESS_LADDER
from leadshare.rewards.enums import RewardEvent
from leadshare.vocabulary import brand_key


@dataclass(frozen=True)
class Rule:
    """Pays `amount_minor` when a lead reaches `event`; `brand`/`channel` None match any lead."""

    event: str
    amount_minor: int
    brand: str | None = None
    channel: str | None = None
    id: int | None = None


def specificity(rule: Rule) -> int:
    """How specific a rule is: brand and channel 3, brand only 2, channel only 1, neither 0."""
    return (2 if rule.brand is not None else 0) + (1 if rule.channel is not None else 0)


def matches(rule: Rule, *, event: str, brand: str, channel: str) -> bool:
    """A rule applies to its event, to its brand (if any) and to its channel (if any, exactly)."""
    return (
        rule.event == event
        and (rule.brand is None or brand_key(rule.brand) == brand_key(brand))
        and (rule.channel is None or rule.channel == channel)
    )


def match_rule(rules: Iterable[Rule], *, event: str, brand: str, channel: str) -> Rule | None:
    """The most specific matching rule, ties going to the lower id, then the earlier one; or None.

    Rules without an id rank after rules with one among equally specific rules.
    """
    matching = [
        (position, rule)
        for position, rule in enumerate(rules)
        if matches(rule, event=event, brand=brand, channel=channel)
    ]
    return min(matching, key=_precedence)[1] if matching else None


def events_reached(statuses: Iterable[str]) -> list[RewardEvent]:
    """Reward events reached by a lead that reached these stages, in lifecycle order.

    Reaching a stage reaches every earlier stage of the progress ladder, since skipped stages
    count as reached; statuses off the ladder (`lost`, `offered`, ...) reach nothing. An unknown
    status raises ValueError.
    """
    reached = [LeadStatus(status) for status in statuses]
    on_ladder = [PROGRESS_LADDER.index(status) for status in reached if status in PROGRESS_LADDER]
    if not on_ladder:
        return []
    furthest = max(on_ladder)
    rewardable = {event.value for event in RewardEvent}
    return [RewardEvent(stage) for stage in PROGRESS_LADDER[: furthest + 1] if stage in rewardable]


def events_reached_on(stage: str) -> list[RewardEvent]:
    """Reward events a lead reaches on stepping onto `stage`, in lifecycle order.

    A change records one event per stage it passes, skipped ones included, so a step reaches
    what `stage` reaches and the stage before it on the ladder does not: each reward event is
    reached on exactly one step. Stages off the ladder reach nothing.
    """
    status = LeadStatus(stage)
    if status not in PROGRESS_LADDER:
        return []
    before = set(events_reached(PROGRESS_LADDER[: PROGRESS_LADDER.index(status)]))
    return [event for event in events_reached([status]) if event not in before]


def reversible_events_on_lost() -> tuple[RewardEvent, ...]:
    """A lead lost after `ordered` has its `ordered` and later credits reversed."""
    return (RewardEvent.ORDERED, RewardEvent.DELIVERED)


def _precedence(item: tuple[int, Rule]) -> tuple[int, bool, int, int]:
    position, rule = item
    return (-specificity(rule), rule.id is None, rule.id or 0, position)
