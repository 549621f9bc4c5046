"""The contact access log: every showing of a customer's unmasked contact is recorded.

Presenters note what they showed (`note_shown`); at the end of the request the notes are written
in one short transaction of their own (`uow.unit_of_work_apart`): the one write a read makes.
Alerts are read from these records (privacy.service.contact_alerts), so nothing else is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Response, g, has_request_context, request
from sqlalchemy import insert

from ..auth.models import User
from ..clock import utcnow
from ..leads.models import Lead
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
