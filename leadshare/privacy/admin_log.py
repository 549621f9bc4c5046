"""What admins did: every change a group or platform admin makes is an AdminChange row.

A listener on every session's flush records, for the changes made in a request by a group or
platform admin, each created, changed or deleted row of the tables that hold admin decisions
(users and roles, stores, group settings, hours and calendar, programs and rules, funding and
payouts, voids, return decisions, webhooks, WeCom, OEMs), with its values before and after.
Secrets and password hashes are never copied (a new webhook secret is recorded as made, without
its value). The rows join the same transaction as the change: they commit or roll back with it.
"""

from __future__ import annotations

import json
from typing import Any

from flask import g, has_request_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from ..auth.models import User
from ..brands.models import BrandAlias
from ..hours.models import CalendarDay, StoreClosure, StoreHours
from ..leads.chain import canonical_json
from ..leads.models import Lead, LeadReturn
from ..notify.models import WebhookSecret
from ..retail.models import DealerOemCode
from ..rewards.models import LedgerEntry, RewardProgram, RewardRule
from ..tenancy.models import Dealer, DealerBrand, DealerRegion, Group, Oem, OemBrand
from ..uow import APART
from ..vocabulary import Role
from ..wecom.models import WecomApp, WecomMember
from .models import AdminChange

WATCHED: dict[type, str] = {
    User: "user",
    Group: "group",
    Dealer: "store",
    DealerBrand: "store_brand",
    DealerRegion: "store_region",
    StoreHours: "store_hours",
    StoreClosure: "store_closure",
    CalendarDay: "calendar_day",
    RewardProgram: "program",
    RewardRule: "rule",
    LedgerEntry: "ledger_entry",
    Lead: "lead",
    WecomApp: "wecom_app",
    WecomMember: "wecom_member",
    LeadReturn: "return",  # a group admin's decision on a contested return
    BrandAlias: "brand_alias",
    DealerOemCode: "store_oem_code",
    WebhookSecret: "webhook_secret",
    Oem: "oem",
    OemBrand: "oem_brand",
}
"""The tables whose rows are admin decisions, and the name each is listed under."""
CHANGE_KINDS = frozenset(WATCHED.values())
NEVER_COPIED = frozenset(
    {"password_hash", "secret_encrypted", "secret", "updated_at", "created_at"}
)
LEAD_COLUMNS = frozenset({"voided_at", "holder_id", "status"})
"""A lead's columns an admin decides (a void, a return decision); never its personal data."""
ADMIN_ROLES = frozenset({Role.GROUP_ADMIN, Role.PLATFORM_ADMIN})


def _admin() -> User | None:
    """The request's admin: its Bearer actor or its signed-in page user (never loaded here)."""
    if not has_request_context():
        return None
    actor = g.get("actor") or g.get("_login_user")
    loaded = vars(actor) if isinstance(actor, User) else {}  # never a load inside a flush
    return actor if loaded.get("role") in ADMIN_ROLES and loaded.get("id") else None


def _columns(obj: Any) -> list[str]:
    names = [c.key for c in inspect(obj).mapper.column_attrs]
    if isinstance(obj, Lead):
        return [n for n in names if n in LEAD_COLUMNS]
    return [n for n in names if n not in NEVER_COPIED]


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return json.loads(canonical_json(values))


def _changes(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(before, after) of the changed columns of a row being updated."""
    state = inspect(obj)
    before, after = {}, {}
    for name in _columns(obj):
        history = state.attrs[name].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old != new:
            before[name], after[name] = old, new
    return before, after


def _moved(entry: LedgerEntry) -> int:
    """The money a new journal entry moves (its positive postings; they are in memory)."""
    postings = vars(entry).get("postings") or []
    return sum(p.amount_minor for p in postings if p.amount_minor > 0)


PARENTS: tuple[tuple[str, type], ...] = (
    ("dealer_id", Dealer),
    ("program_id", RewardProgram),
    ("lead_id", Lead),
    ("user_id", User),
)
"""The row a row without its own group belongs to (a rule: its program; a member: its user)."""


def _group_id(session: Session, obj: Any) -> int | None:
    """The group whose admins see the change: the row's own, else its store's, program's,
    lead's or user's; None for a platform-wide row (an OEM)."""
    if isinstance(obj, Group):
        return obj.id
    if getattr(obj, "group_id", None) is not None:
        return obj.group_id
    for key, model in PARENTS:
        parent_id = getattr(obj, key, None)
        if parent_id is not None:
            parent = session.get(model, parent_id)
            return None if parent is None else _group_id(session, parent)
    return None


def _row(session: Session, actor: User, obj: Any, action: str, before, after) -> AdminChange:
    identity = inspect(obj).identity
    return AdminChange(
        group_id=_group_id(session, obj),
        actor_id=actor.id,
        action=f"{WATCHED[type(obj)]}.{action}",
        object_type=WATCHED[type(obj)],
        object_id=None if identity is None else "/".join(str(part) for part in identity),
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
    )


@event.listens_for(Session, "after_flush")
def _record(session: Session, _context) -> None:
    """Queue a record of every watched row the admin's flush created, changed or deleted (ids
    are known after the flush); the next flush of the same commit writes them."""
    actor = _admin()
    if actor is None or session.info.get(APART):
        return
    rows = []
    with session.no_autoflush:
        for obj in session.new:
            if type(obj) in WATCHED and not isinstance(obj, Lead):
                values = {n: getattr(obj, n) for n in _columns(obj)}
                if isinstance(obj, LedgerEntry):
                    values["amount_minor"] = _moved(obj)
                rows.append(_row(session, actor, obj, "create", None, values))
        for obj in session.dirty:
            if type(obj) in WATCHED and session.is_modified(obj, include_collections=False):
                before, after = _changes(obj)
                if after:
                    rows.append(_row(session, actor, obj, "change", before, after))
        for obj in session.deleted:
            if type(obj) in WATCHED:
                values = {n: getattr(obj, n) for n in _columns(obj)}
                rows.append(_row(session, actor, obj, "delete", values, None))
    session.add_all(rows)
