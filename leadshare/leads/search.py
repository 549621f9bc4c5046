"""Finding a lead by what its reader knows: its id, or the customer's phone or name.

Everyone may search by lead id (`ld_...`, exact). A customer's phone (normalised to E.164, then
exact) and name (part of it) are looked up only by the roles that may know the customer on
those leads: a store among the leads it referred or holds, a group admin among the group's
leads. Results are shown as they always are (masked where they were); a store offered a lead,
or seeing it on the board, cannot find it by phone. OEM auditors (and platform admins) search
by lead id only: their text matches nothing else.
"""

from __future__ import annotations

import re
from typing import Literal

from sqlalchemy import ColumnElement, false, or_, true

from ..auth.models import User
from ..vocabulary import DEALER_ROLES, Role
from .contact import normalise_phone
from .models import Lead

LEAD_ID = re.compile(r"^ld_[0-9a-f]{1,32}$")
PHONE_LIKE = re.compile(r"^[+0-9０-９ ()\-]{5,}$")
MAX_TEXT = 100

SearchKind = Literal["lead_id", "phone", "name", "lead_id_only", "bad_phone"]

SORTS = {
    "newest": (Lead.created_at.desc(), Lead.id.desc()),
    "oldest": (Lead.created_at.asc(), Lead.id.asc()),
    "status": (Lead.status.asc(), Lead.created_at.desc(), Lead.id.desc()),
}
"""The orders a lead list offers; newest first by default."""


def searches_contacts(actor: User) -> bool:
    """Whether the actor may look leads up by the customer's phone and name."""
    return actor.role in DEALER_ROLES or actor.role == Role.GROUP_ADMIN


def search_kind(actor: User, text: str) -> SearchKind:
    """What the search box's text is taken for, for this reader."""
    text = text.strip()
    if LEAD_ID.match(text.lower()):
        return "lead_id"
    if not searches_contacts(actor):
        return "lead_id_only"
    if PHONE_LIKE.match(text):
        try:
            normalise_phone(text)
        except ValueError:
            return "bad_phone"
        return "phone"
    return "name"


def _contact_scope(actor: User) -> ColumnElement[bool]:
    """The leads on which the actor may look the customer up (within their list's scope)."""
    if actor.role == Role.GROUP_ADMIN:
        return true()
    return or_(Lead.referrer_id == actor.dealer_id, Lead.holder_id == actor.dealer_id)


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_condition(actor: User, text: str) -> ColumnElement[bool]:
    """The condition a list adds for the search box's text (a lead list's other filters and
    scope still apply)."""
    text = text.strip()[:MAX_TEXT]
    kind = search_kind(actor, text)
    if kind == "lead_id":
        return Lead.public_id == text.lower()
    if kind in ("lead_id_only", "bad_phone"):
        return false()
    if kind == "phone":
        return (Lead.phone == normalise_phone(text)) & _contact_scope(actor)
    pattern = f"%{_like_escaped(text)}%"
    return Lead.customer_name.ilike(pattern, escape="\\") & _contact_scope(actor)
