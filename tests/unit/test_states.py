"""The lead lifecycle table: forward progress, lost, withdraw and required fields."""

from __future__ import annotations

import pytest

from leadshare.leads.enums import LeadStatus
from leadshare.leads.states import (
    PROGRESS_LADDER,
    InvalidTransition,
    can_withdraw,
    missing_fields,
    progress_steps,
)

S = LeadStatus


def test_status_values_are_the_stored_strings() -> None:
    assert [s.value for s in LeadStatus] == [
        "needs_location",
        "offered",
        "open",
        "accepted",
        "contacted",
        "visited",
        "ordered",
        "delivered",
        "lost",
        "unroutable",
        "withdrawn",
    ]
    assert S("ordered") is S.ORDERED


def test_progress_ladder_order() -> None:
    assert PROGRESS_LADDER == (S.ACCEPTED, S.CONTACTED, S.VISITED, S.ORDERED, S.DELIVERED)


def test_one_step_forward_reaches_only_that_stage() -> None:
    assert progress_steps(S.ACCEPTED, S.CONTACTED) == [S.CONTACTED]
    assert progress_steps(S.ORDERED, S.DELIVERED) == [S.DELIVERED]


@pytest.mark.parametrize(
    ("current", "target", "reached"),
    [
        (S.ACCEPTED, S.VISITED, [S.CONTACTED, S.VISITED]),
        (S.ACCEPTED, S.DELIVERED, [S.CONTACTED, S.VISITED, S.ORDERED, S.DELIVERED]),
        (S.CONTACTED, S.ORDERED, [S.VISITED, S.ORDERED]),
        (S.VISITED, S.DELIVERED, [S.ORDERED, S.DELIVERED]),
    ],
)
def test_skipping_stages_lists_every_skipped_stage_in_order(
    current: LeadStatus, target: LeadStatus, reached: list[LeadStatus]
) -> None:
    assert progress_steps(current, target) == reached


def test_plain_strings_work_like_statuses() -> None:
    assert progress_steps("contacted", "visited") == [S.VISITED]


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.CONTACTED, S.ACCEPTED),
        (S.ORDERED, S.VISITED),
        (S.DELIVERED, S.ORDERED),
        (S.VISITED, S.VISITED),
        (S.ACCEPTED, S.ACCEPTED),
    ],
)
def test_backwards_or_standing_still_is_invalid(current: LeadStatus, target: LeadStatus) -> None:
    with pytest.raises(InvalidTransition):
        progress_steps(current, target)


@pytest.mark.parametrize("current", [S.ACCEPTED, S.CONTACTED, S.VISITED, S.ORDERED])
def test_lost_is_allowed_from_accepted_up_to_ordered(current: LeadStatus) -> None:
    assert progress_steps(current, S.LOST) == [S.LOST]


def test_lost_after_delivered_is_invalid() -> None:
    with pytest.raises(InvalidTransition):
        progress_steps(S.DELIVERED, S.LOST)


@pytest.mark.parametrize("current", [S.DELIVERED, S.LOST, S.WITHDRAWN, S.UNROUTABLE])
@pytest.mark.parametrize("target", list(LeadStatus))
def test_nothing_leaves_a_terminal_status(current: LeadStatus, target: LeadStatus) -> None:
    with pytest.raises(InvalidTransition):
        progress_steps(current, target)


@pytest.mark.parametrize("current", [S.NEEDS_LOCATION, S.OFFERED, S.OPEN])
@pytest.mark.parametrize("target", [S.CONTACTED, S.VISITED, S.ORDERED, S.DELIVERED, S.LOST])
def test_unheld_lead_takes_no_progress(current: LeadStatus, target: LeadStatus) -> None:
    with pytest.raises(InvalidTransition):
        progress_steps(current, target)


@pytest.mark.parametrize(
    "target", [S.NEEDS_LOCATION, S.OFFERED, S.OPEN, S.ACCEPTED, S.UNROUTABLE, S.WITHDRAWN]
)
def test_progress_never_targets_a_routing_status(target: LeadStatus) -> None:
    with pytest.raises(InvalidTransition):
        progress_steps(S.ACCEPTED, target)


def test_invalid_transition_carries_reason_and_readable_message() -> None:
    with pytest.raises(InvalidTransition) as caught:
        progress_steps(S.ORDERED, S.CONTACTED)
    error = caught.value
    assert error.reason == "invalid_transition"
    assert (error.current, error.target) == (S.ORDERED, S.CONTACTED)
    assert str(error) == "a lead cannot move from 'ordered' to 'contacted'"


@pytest.mark.parametrize("status", list(LeadStatus))
def test_withdraw_allowed_only_before_acceptance(status: LeadStatus) -> None:
    assert can_withdraw(status) is (status in {S.NEEDS_LOCATION, S.OFFERED, S.OPEN})


def test_ordered_needs_order_ref() -> None:
    assert missing_fields(S.ORDERED, order_ref_recorded=False, data={}) == ["order_ref"]
    assert missing_fields(S.ORDERED, order_ref_recorded=False, data={"order_ref": "  "}) == [
        "order_ref"
    ]
    assert missing_fields(S.ORDERED, order_ref_recorded=False, data={"order_ref": "SO-1"}) == []


def test_delivered_needs_vin_and_order_ref_unless_one_was_recorded() -> None:
    assert missing_fields(S.DELIVERED, order_ref_recorded=False, data={}) == ["vin", "order_ref"]
    assert missing_fields(S.DELIVERED, order_ref_recorded=True, data={}) == ["vin"]
    data = {"vin": "1M8GDM9AXKP042788"}
    assert missing_fields(S.DELIVERED, order_ref_recorded=True, data=data) == []
    assert missing_fields(S.DELIVERED, order_ref_recorded=False, data=data) == ["order_ref"]


def test_lost_needs_lost_reason() -> None:
    assert missing_fields(S.LOST, order_ref_recorded=False, data={"lost_reason": None}) == [
        "lost_reason"
    ]
    assert missing_fields(S.LOST, order_ref_recorded=True, data={"lost_reason": "price"}) == []


@pytest.mark.parametrize("target", [S.CONTACTED, S.VISITED])
def test_other_stages_need_nothing(target: LeadStatus) -> None:
    assert missing_fields(target, order_ref_recorded=False, data={}) == []
