"""Crediting referrers (SPEC 6) through the rewards services and the lead changes that earn them."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from leadshare.errors import Conflict, Forbidden
from leadshare.extensions import db
from leadshare.leads import progress
from leadshare.rewards import credits, programs
from leadshare.rewards.enums import AccountKind, EntryKind, RewardEvent, SkipReason
from leadshare.rewards.models import LedgerEntry, RewardCredit, RewardSkip
from leadshare.uow import unit_of_work

from .reward_world import accepted_lead, balance, build, ledger_total, program

VIN = "LSVAU2A31N2123456"


@pytest.fixture
def world(make):
    return build(make)


def credited(lead) -> list[tuple[str, int, bool]]:
    """(event, amount, reversed) of the lead's credits, in the order they were made."""
    rows = db.session.scalars(
        select(RewardCredit).where(RewardCredit.lead_id == lead.id).order_by(RewardCredit.id)
    )
    return [(row.event, row.amount_minor, row.reversal_entry_id is not None) for row in rows]


def test_a_claim_credits_the_referrer_from_the_program(ctx, world):
    reward = program(world)
    lead = accepted_lead(world)
    assert credited(lead) == [(RewardEvent.ACCEPTED, 8_000, False)]
    assert balance(AccountKind.DEALER_REWARDS, world.referrer.id) == 8_000
    assert balance(AccountKind.PROGRAM, reward.id) == 100_000 - 8_000
    assert programs.program_figures(reward)["credits"] == 1
    assert ledger_total() == 0


def test_the_most_specific_rule_pays(ctx, world):
    program(world)
    by_channel = accepted_lead(world, 1)  # livestream beats the plain accepted rule
    plain = accepted_lead(world, 2, source={"channel": "phone"})
    assert credited(by_channel) == [(RewardEvent.ACCEPTED, 8_000, False)]
    assert credited(plain) == [(RewardEvent.ACCEPTED, 5_000, False)]
    holder = world.user("holder")
    progress.record_progress(
        holder, plain.public_id, {"status": "delivered", "vin": VIN, "order_ref": "SO-1"}
    )
    delivered = [c for c in credited(plain) if c[0] == RewardEvent.DELIVERED]
    assert delivered == [(RewardEvent.DELIVERED, 30_000, False)]  # the brand rule beats the plain


def test_skipped_stages_are_credited_once_each(ctx, world):
    program(world)
    lead = accepted_lead(world)
    progress.record_progress(
        world.user("holder"), lead.public_id, {"status": "ordered", "order_ref": "SO-1"}
    )
    assert credited(lead) == [
        (RewardEvent.ACCEPTED, 8_000, False),
        (RewardEvent.VISITED, 3_000, False),
        (RewardEvent.ORDERED, 10_000, False),
    ]


def test_a_credit_the_budget_cannot_cover_is_skipped_whole_and_recorded(ctx, world):
    reward = program(world, budget=6_000)
    lead = accepted_lead(world)  # 80.00 due, 60.00 left: nothing is paid, not even a part
    assert credited(lead) == []
    (skip,) = db.session.scalars(select(RewardSkip).where(RewardSkip.lead_id == lead.id))
    assert (skip.event, skip.amount_minor, skip.reason) == (
        RewardEvent.ACCEPTED,
        8_000,
        SkipReason.BUDGET_EXHAUSTED,
    )
    assert balance(AccountKind.PROGRAM, reward.id) == 6_000
    assert balance(AccountKind.DEALER_REWARDS, world.referrer.id) == 0
    assert programs.program_figures(reward)["skips"] == {SkipReason.BUDGET_EXHAUSTED: 1}


def test_the_monthly_cap_counts_the_month_in_group_time(ctx, world):
    program(world, per_dealer_monthly_cap=10_000)
    # 31 January 17:00 UTC is already 1 February in Shanghai: both claims fall in February.
    first = accepted_lead(world, 1, at=datetime(2026, 1, 31, 17, 0))
    second = accepted_lead(world, 2, at=datetime(2026, 2, 1, 10, 0))
    assert credited(first) == [(RewardEvent.ACCEPTED, 8_000, False)]
    assert credited(second) == []
    (skip,) = db.session.scalars(select(RewardSkip).where(RewardSkip.lead_id == second.id))
    assert skip.reason == SkipReason.DEALER_CAP_REACHED
    third = accepted_lead(world, 3, at=datetime(2026, 2, 28, 16, 30))  # 1 March in Shanghai
    assert credited(third) == [(RewardEvent.ACCEPTED, 8_000, False)]


def test_a_lead_lost_after_ordered_gives_back_the_ordered_credit_only(ctx, world):
    program(world)
    lead = accepted_lead(world)
    holder = world.user("holder")
    progress.record_progress(holder, lead.public_id, {"status": "ordered", "order_ref": "SO-1"})
    progress.record_progress(holder, lead.public_id, {"status": "lost", "lost_reason": "price"})
    assert credited(lead) == [
        (RewardEvent.ACCEPTED, 8_000, False),
        (RewardEvent.VISITED, 3_000, False),
        (RewardEvent.ORDERED, 10_000, True),
    ]
    assert balance(AccountKind.DEALER_REWARDS, world.referrer.id) == 11_000
    reversal = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.REVERSAL))
    assert (reversal.event, reversal.memo) == (
        RewardEvent.ORDERED,
        f"lost after ordered {lead.public_id}",
    )
    assert ledger_total() == 0


def test_voiding_reverses_every_credit_once_and_stops_new_ones(ctx, world):
    reward = program(world)
    lead = accepted_lead(world)
    admin = world.user("admin")
    credits.void_lead(admin, lead.public_id, "fake customer")
    assert credited(lead) == [(RewardEvent.ACCEPTED, 8_000, True)]
    assert balance(AccountKind.DEALER_REWARDS, world.referrer.id) == 0
    assert balance(AccountKind.PROGRAM, reward.id) == 100_000
    with pytest.raises(Conflict) as refused:
        credits.void_lead(admin, lead.public_id, "again")
    assert refused.value.reason == "already_voided"
    progress.record_progress(world.user("holder"), lead.public_id, {"status": "visited"})
    assert [c[0] for c in credited(lead)] == [RewardEvent.ACCEPTED]  # a void lead earns nothing
    assert ledger_total() == 0


def test_only_a_group_admin_may_void(ctx, world):
    program(world)
    lead = accepted_lead(world)
    with pytest.raises(Forbidden) as refused:
        credits.void_lead(world.user("holder"), lead.public_id, "not mine to void")
    assert refused.value.reason == "role_not_allowed"
    assert credited(lead) == [(RewardEvent.ACCEPTED, 8_000, False)]


def test_a_void_inside_a_failing_unit_of_work_reverses_nothing(ctx, world):
    program(world)
    lead = accepted_lead(world)
    with pytest.raises(RuntimeError), unit_of_work():
        credits.void_lead(world.user("admin"), lead.public_id, "fake customer")
        raise RuntimeError("the caller fails after the void")
    assert credited(lead) == [(RewardEvent.ACCEPTED, 8_000, False)]
    assert db.session.get(type(lead), lead.id).voided_at is None
    assert balance(AccountKind.DEALER_REWARDS, world.referrer.id) == 8_000
