"""The calendar warns about a year no source knows, until a group admin types it in."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from leadshare.hours import service as hours
from leadshare.vocabulary import Role


@pytest.fixture
def admin(make, ctx):
    group = make.group(code="CAL")
    return group, make.user(Role.GROUP_ADMIN, group=group)


def test_next_year_is_warned_about_from_november_until_it_is_typed_in(admin):
    group, user = admin
    assert ("CAL", 2027) not in hours.unknown_calendar_years(datetime(2026, 10, 1))
    assert ("CAL", 2027) in hours.unknown_calendar_years(datetime(2026, 12, 3))
    days = [{"date": date(2027, 2, 6), "kind": "holiday", "name": "春节"}]
    hours.put_calendar(user, group.id, 2027, days)
    assert ("CAL", 2027) not in hours.unknown_calendar_years(datetime(2026, 12, 3))


def test_a_year_no_source_knows_is_warned_about_all_year(admin):
    assert ("CAL", 2028) in hours.unknown_calendar_years(datetime(2028, 3, 1))
    assert ("CAL", 2026) not in hours.unknown_calendar_years(datetime(2026, 3, 1))
