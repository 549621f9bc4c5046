"""The offer clock in the services: the issue's example, the sweep, and what it costs in SQL."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from leadshare.extensions import db
from leadshare.hours.models import StoreClosure, StoreHours
from leadshare.leads import intake, offers
from leadshare.leads.enums import OfferStatus
from leadshare.leads.models import Offer
from leadshare.tenancy.models import Group
from leadshare.uow import unit_of_work

from .lead_world import intake_data, service_world, stored

SH = ZoneInfo("Asia/Shanghai")
NINE_TO_NINE = {
    "weekly": {d: [["09:00", "21:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    "holidays": None,
}


def shanghai(*args) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC).replace(tzinfo=None)


@pytest.fixture
def world(make, ctx):
    return service_world(make)


def _set_group(world, **settings) -> None:
    with unit_of_work():
        group = db.session.get(Group, world.group.id)
        for name, value in settings.items():
            setattr(group, name, value)


def _offer(public_id: str) -> Offer:
    return db.session.scalar(
        select(Offer)
        .where(Offer.lead_id == stored(public_id).id, Offer.status == OfferStatus.PENDING)
        .execution_options(populate_existing=True)
    )


def test_an_offer_at_2030_to_a_store_open_9_to_21_expires_at_1030_next_day(world):
    _set_group(world, opening_hours=NINE_TO_NINE)
    lead = intake.post_lead(
        world.users["referrer"], intake_data(), now=shanghai(2026, 12, 3, 20, 30)
    )
    offer = _offer(lead.public_id)
    assert offer.dealer_id == world.tianhe.id
    assert offer.expires_at == shanghai(2026, 12, 4, 10, 30)


def test_the_sweep_expires_at_the_counted_instant_and_not_before(world):
    _set_group(world, opening_hours=NINE_TO_NINE)
    lead = intake.post_lead(
        world.users["referrer"], intake_data(), now=shanghai(2026, 12, 3, 20, 30)
    )
    assert offers.sweep(shanghai(2026, 12, 3, 22, 30)).expired == 0  # two wall-clock hours
    assert offers.sweep(shanghai(2026, 12, 4, 10, 29, 59)).expired == 0
    assert _offer(lead.public_id).dealer_id == world.tianhe.id
    assert offers.sweep(shanghai(2026, 12, 4, 10, 30)).expired == 1
    following = _offer(lead.public_id)
    assert following.dealer_id != world.tianhe.id
    assert following.offered_at == shanghai(2026, 12, 4, 10, 30)
    assert following.expires_at == shanghai(2026, 12, 4, 12, 30)  # offered in hours


def test_the_spring_festival_closes_stores_whose_holiday_hours_are_empty(world):
    _set_group(world, opening_hours={**NINE_TO_NINE, "holidays": []}, skip_closed_over_hours=None)
    lead = intake.post_lead(world.users["referrer"], intake_data(), now=shanghai(2026, 2, 14, 20))
    # 2026-02-14 is a make-up Saturday; 02-15 .. 02-23 is 春节
    assert _offer(lead.public_id).expires_at == shanghai(2026, 2, 24, 10)


def test_during_the_spring_festival_every_store_closed_that_long_is_skipped(world):
    _set_group(world, opening_hours={**NINE_TO_NINE, "holidays": []})
    lead = intake.post_lead(world.users["referrer"], intake_data(), now=shanghai(2026, 2, 16, 12))
    lead = stored(lead.public_id)
    assert lead.status == "open" and _offer(lead.public_id) is None  # to the board


@contextmanager
def counting_statements():
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _statements_of_an_intake(world, n: int) -> int:
    data = intake_data(customer={"name": f"客户{n}", "phone": f"1390000{n:04d}"})
    with counting_statements() as seen:
        intake.post_lead(world.users["referrer"], data, now=shanghai(2026, 12, 3, 12))
    return len(seen)


def test_the_clock_costs_no_statement_when_no_hours_are_set_and_few_when_they_are(world):
    plain = _statements_of_an_intake(world, 1)
    assert _statements_of_an_intake(world, 2) == plain
    _set_group(world, opening_hours=NINE_TO_NINE)
    assert _statements_of_an_intake(world, 3) == plain + 1  # the group's calendar days
    with unit_of_work():
        for dealer in (world.tianhe, world.baiyun, world.panyu):
            db.session.add(StoreHours(dealer_id=dealer.id, weekly=NINE_TO_NINE["weekly"]))
            closure = StoreClosure(
                dealer_id=dealer.id, starts_on=date(2027, 1, 1), ends_on=date(2027, 1, 2)
            )
            db.session.add(closure)
    assert _statements_of_an_intake(world, 4) == plain + 2  # and every closure, in one
