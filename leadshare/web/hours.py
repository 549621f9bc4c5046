"""The group admin's hours page: the group's default opening hours and the holiday calendar of
a year (built-in days, the group's own, and a box to type next year's in when announced)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..clock import local_date, utcnow
from ..errors import DomainError
from ..hours import service as hours
from ..hours.schedule import DayKind
from ..tenancy.service import update_group
from ..vocabulary import Role
from . import blp
from .forms import CalendarForm, StoreHoursForm
from .lookups import actor
from .messages import flash_refusal
from .views import roles_required

_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s+(holiday|workday|normal)(?:\s+(.+))?$")


def own_days_text(group_id: int, year: int) -> str:
    """The group's own days of the year, one per line: "2027-01-01 holiday 元旦"."""
    own = sorted(
        (day, kind, name)
        for day, (kind, name) in hours.group_overrides(group_id).items()
        if day.year == year
    )
    return "\n".join(" ".join(filter(None, (d.isoformat(), str(k), n))) for d, k, n in own)


def parse_days(text: str) -> tuple[list[dict[str, Any]], int | None]:
    """The box's lines as calendar days, or the number of the first line that is not one."""
    days = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = " ".join(raw.split())
        if not line:
            continue
        match = _LINE.match(line)
        try:
            day = date.fromisoformat(match[1]) if match else None
        except ValueError:
            day = None
        if day is None:
            return [], number
        days.append({"date": day, "kind": DayKind(match[2]), "name": match[3]})
    return days, None


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
    days, bad_line = parse_days(form.days.data) if form.validate() else ([], 0)
    if bad_line is not None:
        flash(
            _("Line %(line)d is not a day: write 2027-01-01 holiday 元旦.", line=bad_line), "error"
        )
        return _page(year, 422, calendar_form=form)
    try:
        hours.put_calendar(user, user.group_id, year, days)
    except DomainError as error:
        flash_refusal(error)
        return _page(year, error.status, calendar_form=form)
    flash(_("The calendar of %(year)d is saved.", year=year), "success")
    return redirect(url_for("web.admin_hours", year=year))
