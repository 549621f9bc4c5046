"""The group admin's hours page: the group's default opening hours and the holiday calendar of
a year (built-in days, the group's own, and a box to type next year's in when announced)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..clock import local_date, utcnow
from ..errors import DomainError
from ..hours import service as hours
from ..hours.calendar import BUILT_IN, GROUP
from ..hours.schedule import DayKind
from ..tenancy.service import update_group
from ..vocabulary import Role
from . import blp
from .forms import CalendarForm, StoreHoursForm
from .lookups import actor
from .messages import flash_refusal
from .views import roles_required

KIND_WORDS: dict[str, DayKind] = {
    "holiday": DayKind.HOLIDAY,
    "放假": DayKind.HOLIDAY,
    "休息": DayKind.HOLIDAY,
    "假": DayKind.HOLIDAY,
    "休": DayKind.HOLIDAY,
    "workday": DayKind.WORKDAY,
    "调休上班": DayKind.WORKDAY,
    "上班": DayKind.WORKDAY,
    "补班": DayKind.WORKDAY,
    "班": DayKind.WORKDAY,
    "normal": DayKind.NORMAL,
    "取消": DayKind.NORMAL,
    "正常": DayKind.NORMAL,
}
"""The words a day's kind may be typed as: the State Council notice's (放假, 上班) or the API's."""
WRITTEN = {DayKind.HOLIDAY: "放假", DayKind.WORKDAY: "上班", DayKind.NORMAL: "正常"}
"""How the box writes a kind back."""

_DATE = r"(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
_KIND = "|".join(sorted(map(re.escape, KIND_WORDS), key=len, reverse=True))
_LINE = re.compile(
    rf"^{_DATE}(?:\s*(?:至|到|~|～|—|–|\s-\s)\s*{_DATE})?\s*({_KIND})(?:\s+(.+))?$",
    re.IGNORECASE,
)


def own_days_text(group_id: int, year: int) -> str:
    """The group's own days of the year, one run of days of the same kind and name a line:
    "2027-02-06 至 2027-02-12 放假 春节"."""
    own = sorted(
        (day, kind, name)
        for day, (kind, name) in hours.group_overrides(group_id).items()
        if day.year == year
    )
    runs: list[list[Any]] = []
    for day, kind, name in own:
        last = runs[-1] if runs else None
        if last and last[1] == day - timedelta(days=1) and (last[2], last[3]) == (kind, name):
            last[1] = day
        else:
            runs.append([day, day, kind, name])
    return "\n".join(
        " ".join(
            filter(
                None,
                (
                    first.isoformat(),
                    f"至 {last.isoformat()}" if last != first else None,
                    WRITTEN[kind],
                    name,
                ),
            )
        )
        for first, last, kind, name in runs
    )


def _day(year: str | None, month: str, day: str, default_year: int) -> date:
    return date(int(year) if year else default_year, int(month), int(day))


def parse_days(text: str, year: int) -> tuple[list[dict[str, Any]], int | None]:
    """The box's lines as calendar days, or the number of the first line that is not one. A
    line is a date or a range of dates (至, ~), a kind (放假, 上班, 正常 or holiday, workday,
    normal) and an optional name; a date without its year is of the page's year."""
    days = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = " ".join(raw.split())
        if not line:
            continue
        match = _LINE.match(line)
        if match is None:
            return [], number
        try:
            first = _day(*match.group(1, 2, 3), year)
            last = _day(match[4] or match[1], match[5], match[6], year) if match[5] else first
        except ValueError:
            return [], number
        if last < first or (last - first).days > 366:
            return [], number
        kind = KIND_WORDS[match[7].lower()]
        days += [
            {"date": first + timedelta(days=n), "kind": kind, "name": match[8]}
            for n in range((last - first).days + 1)
        ]
    return days, None


SOURCE_WORDS = {
    BUILT_IN: _l("the statutory holidays as announced (built in)"),
    GROUP: _l("days your group typed in"),
}


def _page(year: int, status: int = 200, hours_form=None, calendar_form=None):
    user = actor()
    group = user.group
    calendar = hours.get_calendar(user, group.id, year)
    shown = hours.effective_hours_of_group(group)
    return render_template(
        "admin/hours.html",
        group=group,
        year=year,
        this_year=local_date(utcnow(), group.timezone).year,
        calendar=calendar,
        unknown_years=[y for y in hours.unknown_years_of(group) if y != year],
        sources=[SOURCE_WORDS[source] for source in calendar.sources],
        hours_form=hours_form or StoreHoursForm.for_hours(shown),
        calendar_form=calendar_form
        or CalendarForm(formdata=None, data={"days": own_days_text(group.id, year)}),
    ), status


def _year() -> int:
    user = actor()
    this_year = local_date(utcnow(), user.group.timezone).year
    year = request.args.get("year", type=int) or this_year
    return year if 2000 <= year <= 2100 else this_year


@blp.get("/admin/hours")
@roles_required(Role.GROUP_ADMIN)
def admin_hours():
    """The group's default hours and a year's holiday calendar."""
    return _page(_year())


@blp.post("/admin/hours")
@roles_required(Role.GROUP_ADMIN)
def admin_hours_save():
    """The group admin replaces the group's default opening hours."""
    user = actor()
    form = StoreHoursForm()
    if form.validate():
        try:
            update_group(user, user.group_id, {"opening_hours": form.payload()})
        except DomainError as error:
            flash_refusal(error)
            return _page(_year(), error.status, hours_form=form)
        flash(_("Opening hours saved."), "success")
        return redirect(url_for("web.admin_hours"))
    flash(_("Check the highlighted fields."), "error")
    return _page(_year(), 422, hours_form=form)


@blp.post("/admin/calendar")
@roles_required(Role.GROUP_ADMIN)
def admin_calendar_save():
    """The group admin replaces the group's own days of a year."""
    user = actor()
    year = _year()
    form = CalendarForm()
    days, bad_line = parse_days(form.days.data, year) if form.validate() else ([], 0)
    if bad_line is not None:
        flash(
            _(
                "Line %(line)d is not a day: write, e.g., %(example)s.",
                line=bad_line,
                example="2027-02-06 至 2027-02-12 放假 春节",
            ),
            "error",
        )
        return _page(year, 422, calendar_form=form)
    try:
        hours.put_calendar(user, user.group_id, year, days)
    except DomainError as error:
        flash_refusal(error)
        return _page(year, error.status, calendar_form=form)
    flash(_("The calendar of %(year)d is saved.", year=year), "success")
    return redirect(url_for("web.admin_hours", year=year))
