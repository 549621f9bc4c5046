"""The lead lifecycle table: forward progress, lost, withdraw and required fields."""

from __future__ import annotations

import pytest

from leadshare.leads.enums import EventType, LeadStatus, OfferKind, OfferStatus
from leadshare.leads.states import (
    BOARD_AT_MAX_OFFERS,
    BOARD_NO_DEALER,
    NOWHERE,
    OFFER_NEXT,
    PROGRESS_LADDER,
    ROUTED,
    TRANSITIONS,
    ClaimRefusal,
    InvalidTransition,
    RouteWhy,
    can_withdraw,
    cascade,
    claim_path,
    claim_refusal,
    may_move,
    missing_fields,
    move,
    progress_rank,
    progress_steps,
    routes_on_expiry,
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
        "returned",
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


@pytest.mark.parametrize("current", [S.DELIVERED, S.LOST, S.WITHDRAWN, S.UNROUTABLE, S.RETURNED])
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
    "target",
    [S.NEEDS_LOCATION, S.OFFERED, S.OPEN, S.ACCEPTED, S.UNROUTABLE, S.WITHDRAWN, S.RETURNED],
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
    assert error.message == "A lead that is ordered cannot move to contacted."


@pytest.mark.parametrize("status", list(LeadStatus))
def test_withdraw_allowed_only_before_acceptance(status: LeadStatus) -> None:
    assert can_withdraw(status) is (status in {S.NEEDS_LOCATION, S.OFFERED, S.OPEN, S.UNROUTABLE})


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


# --- the whole lifecycle table ------------------------------------------------------------------


def test_the_table_names_every_status() -> None:
    assert set(TRANSITIONS) == set(LeadStatus)


@pytest.mark.parametrize(
    ("current", "targets"),
    [
        (S.NEEDS_LOCATION, {S.OFFERED, S.OPEN, S.UNROUTABLE, S.WITHDRAWN}),
        (S.OFFERED, {S.OFFERED, S.OPEN, S.ACCEPTED, S.WITHDRAWN}),
        (S.OPEN, {S.OFFERED, S.OPEN, S.UNROUTABLE, S.ACCEPTED, S.WITHDRAWN}),
        # ... back to routing when the holder misses the contact SLA (issue 14), or returned
        (
            S.ACCEPTED,
            {S.CONTACTED, S.VISITED, S.ORDERED, S.DELIVERED, S.LOST, S.OFFERED, S.OPEN}
            | {S.UNROUTABLE, S.RETURNED},
        ),
        (S.CONTACTED, {S.VISITED, S.ORDERED, S.DELIVERED, S.LOST, S.RETURNED}),
        (S.VISITED, {S.ORDERED, S.DELIVERED, S.LOST, S.RETURNED}),
        (S.ORDERED, {S.DELIVERED, S.LOST}),
        (S.DELIVERED, set()),
        (S.LOST, set()),
        (S.UNROUTABLE, {S.OFFERED, S.OPEN, S.UNROUTABLE, S.WITHDRAWN}),
        (S.WITHDRAWN, set()),
        (S.RETURNED, set()),
    ],
)
def test_each_status_moves_only_where_the_lifecycle_allows(
    current: LeadStatus, targets: set[LeadStatus]
) -> None:
    assert {target for target in LeadStatus if may_move(current, target)} == targets


def test_move_returns_the_target_or_refuses_with_invalid_transition() -> None:
    assert move("open", S.ACCEPTED) is S.ACCEPTED
    with pytest.raises(InvalidTransition):
        move(S.WITHDRAWN, S.OFFERED)
    with pytest.raises(InvalidTransition):
        move(S.OPEN, S.CONTACTED)


def test_an_offered_lead_is_never_made_unroutable() -> None:
    assert not may_move(S.OFFERED, S.UNROUTABLE)


def test_progress_steps_agree_with_the_table() -> None:
    for current in PROGRESS_LADDER[:-1]:
        for target in LeadStatus:
            if may_move(current, target) and target not in ROUTED and target != S.RETURNED:
                assert progress_steps(current, target)[-1] == target
            else:
                with pytest.raises(InvalidTransition):
                    progress_steps(current, target)


def test_progress_rank_counts_the_ladder_from_one() -> None:
    assert [progress_rank(stage) for stage in PROGRESS_LADDER] == [1, 2, 3, 4, 5]
    assert progress_rank(S.LOST) == progress_rank(S.OPEN) == 0
    assert progress_rank("ordered") == 4


# --- the cascade --------------------------------------------------------------------------------


def test_a_chosen_store_is_offered_the_lead() -> None:
    route = cascade(offers_made=0, max_offers=3, chosen=True, unroutable=False)
    assert route == OFFER_NEXT
    assert (route.status, route.event, route.why) == (S.OFFERED, EventType.OFFERED, None)


def test_decline_or_expiry_routes_to_the_next_store_while_offers_are_left() -> None:
    assert cascade(offers_made=2, max_offers=3, chosen=True, unroutable=False) == OFFER_NEXT


def test_max_offers_reached_sends_the_lead_to_the_board_whoever_is_eligible() -> None:
    route = cascade(offers_made=3, max_offers=3, chosen=True, unroutable=False)
    assert route == BOARD_AT_MAX_OFFERS
    assert (route.status, route.event, route.why) == (
        S.OPEN,
        EventType.OPENED,
        RouteWhy.MAX_OFFERS_REACHED,
    )


def test_no_eligible_store_sends_the_lead_to_the_board() -> None:
    route = cascade(offers_made=0, max_offers=3, chosen=False, unroutable=False)
    assert route == BOARD_NO_DEALER and route.why == "no_eligible_dealer"


def test_brand_sold_nowhere_else_is_unroutable_when_nothing_was_offered() -> None:
    route = cascade(offers_made=0, max_offers=3, chosen=False, unroutable=True)
    assert route == NOWHERE
    assert (route.status, route.event, route.why) == (
        S.UNROUTABLE,
        EventType.UNROUTABLE,
        "brand_not_sold_elsewhere",
    )


def test_a_lead_once_offered_goes_to_the_board_rather_than_unroutable() -> None:
    assert cascade(offers_made=1, max_offers=3, chosen=False, unroutable=True) == BOARD_NO_DEALER


@pytest.mark.parametrize("status", list(LeadStatus))
def test_an_expired_offer_routes_on_only_an_offered_lead(status: LeadStatus) -> None:
    assert routes_on_expiry(status) is (status == S.OFFERED)


def test_every_cascade_step_is_a_move_of_the_table() -> None:
    for offers_made in (0, 1, 3):
        for chosen in (True, False):
            for unroutable in (True, False):
                route = cascade(
                    offers_made=offers_made, max_offers=3, chosen=chosen, unroutable=unroutable
                )
                source = S.NEEDS_LOCATION if offers_made == 0 else S.OFFERED
                assert may_move(source, route.status)


# --- claims -------------------------------------------------------------------------------------


def test_a_pending_offer_is_claimed_as_routed() -> None:
    assert claim_path(S.OFFERED, OfferStatus.PENDING, board_eligible=False) is OfferKind.ROUTED


def test_an_open_lead_never_offered_to_an_eligible_store_is_claimed_from_the_board() -> None:
    assert claim_path(S.OPEN, None, board_eligible=True) is OfferKind.BOARD


@pytest.mark.parametrize(
    ("status", "offer", "eligible"),
    [
        (S.OPEN, None, False),
        (S.OPEN, OfferStatus.DECLINED, True),
        (S.OPEN, OfferStatus.EXPIRED, True),
        (S.OFFERED, None, True),
        (S.ACCEPTED, OfferStatus.ACCEPTED, True),
        (S.WITHDRAWN, OfferStatus.WITHDRAWN, True),
    ],
)
def test_no_other_claim_is_possible(
    status: LeadStatus, offer: OfferStatus | None, eligible: bool
) -> None:
    assert claim_path(status, offer, board_eligible=eligible) is None


def test_a_claim_refusal_names_why() -> None:
    assert claim_refusal(held=True, offer=OfferStatus.EXPIRED, offer_due=True) == (
        ClaimRefusal.ALREADY_CLAIMED
    )
    assert claim_refusal(held=False, offer=OfferStatus.EXPIRED, offer_due=False) == (
        "offer_expired"
    )
    assert claim_refusal(held=False, offer=OfferStatus.PENDING, offer_due=True) == ("offer_expired")
    assert claim_refusal(held=False, offer=OfferStatus.PENDING, offer_due=False) == ("not_offered")
    assert claim_refusal(held=False, offer=None, offer_due=False) == "not_offered"
    assert claim_refusal(held=False, offer=OfferStatus.DECLINED, offer_due=True) == "not_offered"
