"""OEM retail reports under concurrency (issue 17 item 3), on the suite's engine (PostgreSQL with
TEST_DATABASE_URL) in a scratch database of its own.

A report confirming a delivery races the sweep reversing its unconfirmed credit at the deadline:
exactly one outcome each round (confirmed and released, or reversed and then confirmed without
money), never both, and the ledger balances. The same file uploaded twice at once is one report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from leadshare.auth.models import User
from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.leads import progress
from leadshare.leads.models import Lead
from leadshare.retail import codes
from leadshare.retail.models import RetailMatch, RetailReport
from leadshare.retail.reports import import_report
from leadshare.rewards.holds import reverse_unconfirmed_credits
from leadshare.rewards.models import RewardCredit
from leadshare.vocabulary import Role

from ..factories import Factory
from ..retail_world import report_csv, vin
from ..services.reward_world import accepted_lead, assert_ledger_balanced, build, program
from .scratch import migrated_app
from .test_hold_race import _together

pytestmark = pytest.mark.no_rollback

ROUNDS = 6
DELIVERED_AT = utcnow().replace(microsecond=0) - timedelta(days=11)


@pytest.fixture(scope="module")
def race_app(tmp_path_factory) -> Iterator:
    with migrated_app(
        tmp_path_factory.mktemp("retail"), "retail", SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 5}
    ) as app:
        yield app


def _world(app, brand: str):
    make = Factory(app)
    world = build(make)
    oem = make.oem(brands=[brand])
    world.user_ids["auditor"] = make.user(Role.OEM_AUDITOR, oem=oem).id
    code = [{"oem_id": oem.id, "code": f"FAW-{world.holder.id}"}]
    codes.set_oem_codes(world.user("admin"), world.holder.id, code)
    return world, code[0]["code"]


def test_a_confirmation_racing_the_deadline_has_exactly_one_outcome(race_app):
    with race_app.app_context():
        world, code = _world(race_app, "奥迪")
        program(
            world, budget=10_000_000, requires_retail_confirmation=True, retail_deadline_days=10
        )
        leads = []
        for n in range(ROUNDS):
            lead = accepted_lead(world, n, at=DELIVERED_AT - timedelta(hours=1))
            data = {"status": "delivered", "order_ref": f"SO-{n}", "vin": vin(n)}
            progress.record_progress(world.user("holder"), lead.public_id, data, now=DELIVERED_AT)
            leads.append(lead.public_id)
        auditor_id = world.user_ids["auditor"]
        db.session.remove()

    outcomes: Counter[str] = Counter()
    for n, public_id in enumerate(leads):
        content = report_csv([(vin(n), code, DELIVERED_AT.date())])

        def confirm(content: bytes = content) -> None:
            import_report(db.session.get(User, auditor_id), None, content)

        assert _together(race_app, reverse_unconfirmed_credits, confirm) == []
        with race_app.app_context():
            credit = db.session.scalar(
                select(RewardCredit)
                .join(Lead)
                .where(Lead.public_id == public_id, RewardCredit.event == "delivered")
            )
            matched = db.session.scalar(
                select(func.count(RetailMatch.id)).where(RetailMatch.lead_id == credit.lead_id)
            )
            assert matched == 1, "the report confirms the delivery either way"
            if credit.reversal_entry_id is None:
                assert credit.retail_confirmed_at is not None
                assert credit.release_entry_id is not None
                outcomes["confirmed and released"] += 1
            else:
                assert credit.release_entry_id is None and credit.retail_confirmed_at is None
                outcomes["reversed, confirmed without money"] += 1
            assert_ledger_balanced()
            db.session.remove()
    assert sum(outcomes.values()) == ROUNDS, outcomes


def test_the_same_file_uploaded_twice_at_once_is_one_report(race_app):
    with race_app.app_context():
        world, code = _world(race_app, "大众")  # an OEM of its own: only the upload matters
        auditor_id = world.user_ids["auditor"]
        db.session.remove()
    content = report_csv([(vin(99), code, DELIVERED_AT.date())])
    answers = []

    def upload() -> None:
        done = import_report(db.session.get(User, auditor_id), None, content)
        answers.append((done.report.id, done.created))

    assert _together(race_app, upload, upload) == []
    assert sorted(created for _, created in answers) == [False, True]
    assert len({report_id for report_id, _ in answers}) == 1
    with race_app.app_context():
        reports = db.session.scalar(
            select(func.count(RetailReport.id)).where(RetailReport.id == answers[0][0])
        )
        assert reports == 1
