"""A hold release racing a reversal, and two sweepers racing each other (issue 17 item 2), on
the suite's engine (PostgreSQL with TEST_DATABASE_URL) in a scratch database of their own.

Each round one held credit is due; the sweep and a group admin voiding the lead start together.
Exactly one outcome: the credit is cancelled while pending (no release), or released and then
debited from the available money; never released after its reversal, never reversed twice, and
the ledger balances. Two sweepers at once release every due credit exactly once.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from leadshare.auth.models import User
from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.leads.models import Lead
from leadshare.rewards import credits
from leadshare.rewards.enums import AccountKind, EntryKind
from leadshare.rewards.holds import release_due_credits
from leadshare.rewards.models import LedgerEntry, RewardCredit

from ..factories import Factory
from ..services.reward_world import (
    accepted_lead,
    assert_ledger_balanced,
    balance,
    build,
    program,
)
from .scratch import migrated_app

pytestmark = pytest.mark.no_rollback

ROUNDS = 6
CLAIMED_AT = utcnow().replace(microsecond=0) - timedelta(days=40)


@pytest.fixture(scope="module")
def race_app(tmp_path_factory) -> Iterator:
    with migrated_app(
        tmp_path_factory.mktemp("holds"), "holds", SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 5}
    ) as app:
        yield app


def _together(app, *jobs: Callable[[], object]) -> list[BaseException]:
    """Run the jobs in threads released by one barrier, each in its own app context."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        with app.app_context():
            barrier.wait()
            try:
                job()
            except BaseException as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_a_hold_release_racing_a_reversal_has_exactly_one_outcome(race_app):
    with race_app.app_context():
        world = build(Factory(race_app))
        program(world, budget=10_000_000, hold_days=30)
        leads = [accepted_lead(world, n, at=CLAIMED_AT).public_id for n in range(ROUNDS)]
        admin_id = world.user_ids["admin"]
        db.session.remove()

    outcomes: Counter[str] = Counter()
    for public_id in leads:

        def void(public_id: str = public_id) -> None:
            credits.void_lead(db.session.get(User, admin_id), public_id, "刷单")

        assert _together(race_app, release_due_credits, void) == []
        with race_app.app_context():
            credit = db.session.scalar(
                select(RewardCredit).join(Lead).where(Lead.public_id == public_id)
            )
            assert credit.reversal_entry_id is not None, "the void always reverses the credit"
            reversal = db.session.get(LedgerEntry, credit.reversal_entry_id)
            kinds = {p.account.kind for p in reversal.postings}
            releases = db.session.scalar(
                select(func.count(LedgerEntry.id)).where(
                    LedgerEntry.kind == EntryKind.RELEASE, LedgerEntry.lead_id == credit.lead_id
                )
            )
            if credit.release_entry_id is None:
                assert releases == 0 and kinds == {AccountKind.PROGRAM, AccountKind.DEALER_PENDING}
                outcomes["cancelled while pending"] += 1
            else:
                assert releases == 1 and kinds == {AccountKind.PROGRAM, AccountKind.DEALER_REWARDS}
                assert credit.release_entry_id < credit.reversal_entry_id
                outcomes["released, then debited"] += 1
            assert_ledger_balanced()
            db.session.remove()

    with race_app.app_context():
        assert release_due_credits(utcnow() + timedelta(days=365)) == 0  # nothing left to release
        assert balance(AccountKind.DEALER_PENDING, world.referrer.id) == 0
        assert balance(AccountKind.DEALER_REWARDS, world.referrer.id) == 0
        assert_ledger_balanced()
    assert sum(outcomes.values()) == ROUNDS, outcomes


def test_two_sweepers_release_every_due_credit_exactly_once(race_app):
    with race_app.app_context():
        world = build(Factory(race_app))
        program(world, budget=10_000_000, hold_days=30)
        for n in range(ROUNDS):
            accepted_lead(world, n, at=CLAIMED_AT)
        db.session.remove()
    released: list[int] = []
    errors = _together(
        race_app,
        lambda: released.append(release_due_credits(batch=2)),
        lambda: released.append(release_due_credits(batch=2)),
    )
    assert errors == []
    assert sum(released) == ROUNDS
    with race_app.app_context():
        assert (
            db.session.scalar(
                select(func.count(LedgerEntry.id)).where(
                    LedgerEntry.kind == EntryKind.RELEASE,
                    LedgerEntry.dealer_id == world.referrer.id,
                )
            )
            == ROUNDS
        )
        assert (
            db.session.scalar(
                select(func.count(RewardCredit.id)).where(
                    RewardCredit.release_entry_id.is_(None),
                    RewardCredit.reversal_entry_id.is_(None),
                    RewardCredit.dealer_id == world.referrer.id,
                )
            )
            == 0
        )
        assert balance(AccountKind.DEALER_PENDING, world.referrer.id) == 0
        assert balance(AccountKind.DEALER_REWARDS, world.referrer.id) == ROUNDS * 8_000
        assert_ledger_balanced()
