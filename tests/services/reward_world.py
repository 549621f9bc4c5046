"""A referrer in Shenzhen, an Audi store in Guangzhou that takes its leads, and a group admin.

Service tests build this world with the factories, then act through the services directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from leadshare.auth.models import User
from leadshare.extensions import db
from leadshare.leads import intake, offers
from leadshare.leads.models import Lead
from leadshare.rewards import programs
from leadshare.rewards.enums import AccountKind
from leadshare.rewards.ledger import account_key
from leadshare.rewards.models import LedgerAccount, LedgerPosting, RewardProgram
from leadshare.vocabulary import Role
from tests.api.lead_world import GZ_TIANHE, SZ_NANSHAN, lead_payload

RULES = [
    {"event": "accepted", "amount": 5_000},
    {"event": "accepted", "amount": 8_000, "channel": "livestream"},
    {"event": "visited", "amount": 3_000},
    {"event": "ordered", "amount": 10_000},
    {"event": "delivered", "amount": 20_000},
    {"event": "delivered", "amount": 30_000, "brand": "奥迪"},
]


@dataclass
class RewardWorld:
    group: Any
    referrer: Any
    holder: Any
    user_ids: dict[str, int]

    def user(self, name: str) -> User:
        """The user as a row of the test's own session (services read its store and group)."""
        return db.session.get(User, self.user_ids[name])


def build(make, **group_settings: Any) -> RewardWorld:
    group = make.group(**group_settings)
    referrer = make.dealer(group, code="SZ1", brands=["奥迪"], at=SZ_NANSHAN)
    holder = make.dealer(group, code="GZ1", brands=["奥迪"], at=GZ_TIANHE, service_radius_km=40)
    users = {
        "referrer": make.user(Role.STAFF, dealer=referrer),
        "holder": make.user(Role.STAFF, dealer=holder),
        "admin": make.user(Role.GROUP_ADMIN, group=group),
    }
    return RewardWorld(group, referrer, holder, {name: u.id for name, u in users.items()})


def program(world: RewardWorld, budget: int = 100_000, **overrides: Any) -> RewardProgram:
    data = {
        "name": "转介绍奖励",
        "starts_on": date(2020, 1, 1),
        "budget": budget,
        "rules": RULES,
        "hold_days": 0,  # available at once unless a test holds its credits
        **overrides,
    }
    return programs.create_program(world.user("admin"), data)


def accepted_lead(world: RewardWorld, n: int = 0, at: datetime | None = None, **payload) -> Lead:
    """A lead the referrer shares and the Guangzhou store claims (at `at`, if given)."""
    data = lead_payload(customer={"name": f"客户{n}", "phone": f"1380000{n:04d}"}, **payload)
    lead = intake.post_lead(world.user("referrer"), data, now=at)
    return offers.claim_lead(world.user("holder"), lead.public_id, now=at)


def balance(kind: AccountKind, owner_id: int) -> int:
    """An account's balance in minor units (0 for an account never used)."""
    found = db.session.scalar(
        select(LedgerAccount.balance_minor).where(LedgerAccount.key == account_key(kind, owner_id))
    )
    return found or 0


def ledger_total() -> int:
    """The sum of every posting there is: a double-entry ledger keeps it at zero."""
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerPosting.amount_minor), 0))))


def assert_ledger_balanced() -> None:
    """Every entry sums to zero, so does the whole ledger, and each balance is its postings' sum
    (in the caller's app context)."""
    assert ledger_total() == 0
    unbalanced = db.session.execute(
        select(LedgerPosting.entry_id)
        .group_by(LedgerPosting.entry_id)
        .having(func.sum(LedgerPosting.amount_minor) != 0)
    ).all()
    assert unbalanced == []
    for account in db.session.scalars(select(LedgerAccount)):
        posted = db.session.scalar(
            select(func.coalesce(func.sum(LedgerPosting.amount_minor), 0)).where(
                LedgerPosting.account_id == account.id
            )
        )
        assert account.balance_minor == int(posted), account.key
