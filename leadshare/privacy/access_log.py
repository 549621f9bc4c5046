"""The contact access log: every showing of a customer's unmasked contact is recorded.

Presenters note what they showed (`note_shown`); at the end of the request the notes are written
in one short transaction of their own (`uow.unit_of_work_apart`): the one write a read makes.
Alerts are read from these records (`views_over_threshold`): the alert page asks them as it is
shown, and the sweep (notify.notices) tells the group's admins once per user and day, so a read
writes nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import Response, g, has_request_context, request
from sqlalchemy import func, insert, select

from ..auth.models import User
from ..clock import local_midnight, utcnow
from ..extensions import db
from ..leads.models import Lead
from ..tenancy.models import Group
from ..uow import unit_of_work_apart
from .models import ContactAccess

CONTACT_FIELDS = ("name", "phone", "wechat_id", "notes", "address", "coordinates")
PENDING = "_leadshare_contact_access"


@dataclass(frozen=True, slots=True)
class Shown:
    group_id: int
    lead_id: int
    user_id: int
    fields: tuple[str, ...]
    is_held: bool
    via: str
    path: str | None
    reference: str | None


def shown_fields(lead: Lead) -> tuple[str, ...]:
    """The contact fields the lead has a value for (what an unmasked view shows)."""
    values = {
        "name": lead.customer_name,
        "phone": lead.phone,
        "wechat_id": lead.wechat_id,
        "notes": lead.notes,
        "address": lead.address,
        "coordinates": lead.latitude,
    }
    return tuple(name for name in CONTACT_FIELDS if values[name] not in (None, ""))


def note_shown(
    actor: User, lead: Lead, *, via: str | None = None, reference: str | None = None
) -> None:
    """Record that `actor` is shown the lead's unmasked contact; written when the request ends
    (at once outside a request). `via` defaults to api or page from the request's path."""
    fields = shown_fields(lead)
    if not fields:
        return
    in_request = has_request_context()
    path = request.path if in_request else None
    shown = Shown(
        group_id=lead.group_id,
        lead_id=lead.id,
        user_id=actor.id,
        fields=fields,
        is_held=actor.dealer_id is not None and actor.dealer_id == lead.holder_id,
        via=via or ("api" if path and path.startswith("/api/") else "page" if path else "service"),
        path=path,
        reference=reference,
    )
    if in_request:
        g.setdefault(PENDING, []).append(shown)
    else:
        write_access([shown])


def write_pending(response: Response) -> Response:
    """after_request: the request's notes written in their own short transaction."""
    pending = g.pop(PENDING, None)
    if pending:
        write_access(pending)
    return response


def write_access(shown: list[Shown], now: datetime | None = None) -> None:
    """One record per user and lead shown (repeats in one answer merged)."""
    now = now or utcnow()
    merged: dict[tuple[int, int], Shown] = {}
    for item in shown:
        merged.setdefault((item.user_id, item.lead_id), item)
    rows = [
        {
            "group_id": item.group_id,
            "lead_id": item.lead_id,
            "user_id": item.user_id,
            "at": now,
            "fields": list(item.fields),
            "via": item.via,
            "path": item.path and item.path[:300],
            "is_held": item.is_held,
            "reference": item.reference,
        }
        for item in merged.values()
    ]
    with unit_of_work_apart() as session:
        session.execute(insert(ContactAccess), rows)  # one statement for a whole page


def views_over_threshold(group: Group, day: date) -> list[tuple[int, int]]:
    """(user id, leads) of the group's users who opened the contacts of more leads their store
    does not hold than the group's contact_views_alert_per_day on that local day, most first."""
    start = local_midnight(day, group.timezone)
    views = func.count(func.distinct(ContactAccess.lead_id))
    rows = db.session.execute(
        select(ContactAccess.user_id, views.label("views"))
        .where(
            ContactAccess.group_id == group.id,
            ContactAccess.is_held.is_(False),
            ContactAccess.at >= start,
            ContactAccess.at < start + timedelta(days=1),
        )
        .group_by(ContactAccess.user_id)
        .having(views > group.contact_views_alert_per_day)
        .order_by(views.desc(), ContactAccess.user_id)
    ).all()
    return [(row.user_id, int(row.views)) for row in rows]
