"""The navigation bar: one list of pages per role.

A slot names an endpoint that may not exist yet (rewards: programs, ledger, statements,
payouts; audit: funnel, flows). It shows up by itself once a view with that endpoint is
registered on the `web` blueprint, so a feature adds its page without touching this list.

On a phone the first TAB_BAR_ITEMS of a role's pages are a bottom tab bar and the rest sit in a
"more" sheet (at most five tabs in all). An item may name a count (COUNTERS): the number shown
beside it, which the live inbox refreshes (`web.live_counts`). The current page is highlighted
on every page: an item is current on its own endpoint, on the endpoints it lists in `also`, and
on the pages under its path (`/admin/users/5` is under Users).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l

from ..auth.models import User
from ..vocabulary import Role

DEALER = frozenset({Role.STAFF, Role.MANAGER})
MANAGER = frozenset({Role.MANAGER})
GROUP_ADMIN = frozenset({Role.GROUP_ADMIN})
AUDITOR = frozenset({Role.OEM_AUDITOR})
READERS = frozenset({Role.GROUP_ADMIN, Role.OEM_AUDITOR, Role.PLATFORM_ADMIN})
PLATFORM_ADMIN = frozenset({Role.PLATFORM_ADMIN})


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy string, translated when rendered
    roles: frozenset[str]
    count: str | None = None  # a key of COUNTERS: the number shown beside the label
    also: tuple[str, ...] = ()  # other endpoints on which this item is the current page


NAV: tuple[NavItem, ...] = (
    NavItem("web.inbox", _l("Inbox"), DEALER, count="offers"),
    NavItem("web.held", _l("Our leads"), DEALER, count="sla_due"),
    NavItem("web.new_lead", _l("Share a lead"), DEALER),
    NavItem("web.board", _l("Board"), DEALER, count="board"),
    NavItem("web.referrals", _l("My referrals"), DEALER),
    NavItem("web.store_settings", _l("Store settings"), MANAGER),
    NavItem("web.leads", _l("Leads"), READERS),
    NavItem("web.admin_notices", _l("Notices"), GROUP_ADMIN, count="notices"),
    NavItem("web.admin_dealers", _l("Stores"), GROUP_ADMIN),
    NavItem("web.admin_users", _l("Users"), GROUP_ADMIN),
    NavItem("web.admin_hours", _l("Hours and holidays"), GROUP_ADMIN),
    NavItem("web.privacy_alerts", _l("Privacy"), GROUP_ADMIN),
    NavItem("web.admin_changes", _l("Change log"), GROUP_ADMIN | PLATFORM_ADMIN),
    # Slots for the rewards pages.
    NavItem("web.programs", _l("Programs"), GROUP_ADMIN),
    NavItem("web.ledger", _l("Ledger"), GROUP_ADMIN),
    NavItem(
        "web.statements", _l("Statements"), GROUP_ADMIN | MANAGER, also=("web.store_statement",)
    ),
    NavItem("web.payouts", _l("Payouts"), GROUP_ADMIN),
    NavItem("web.disputes", _l("Disputes"), GROUP_ADMIN),
    # Slots for the audit pages.
    NavItem("web.funnel", _l("Funnel"), AUDITOR | GROUP_ADMIN),
    NavItem("web.flows", _l("Flows"), AUDITOR | GROUP_ADMIN),
    NavItem("web.trends", _l("Trends"), AUDITOR | GROUP_ADMIN),
    NavItem("web.flow_map", _l("Map"), AUDITOR | GROUP_ADMIN),
    NavItem("web.league", _l("Store league"), AUDITOR | GROUP_ADMIN | MANAGER),
    NavItem(
        "web.retail_audit",
        _l("Retail audit"),
        AUDITOR | GROUP_ADMIN,
        also=("web.retail_reports", "web.retail_report", "web.retail_flags"),
    ),
    # Every role: the change-password page, which also signs out everywhere.
    NavItem("web.change_password", _l("Change password"), frozenset(Role)),
    # The admin tools (issue 16).
    NavItem("web.admin_webhooks", _l("Webhooks"), GROUP_ADMIN),
    NavItem("web.platform_groups", _l("Groups"), PLATFORM_ADMIN),
    NavItem("web.platform_oems", _l("OEMs"), PLATFORM_ADMIN),
)


def nav_for(user: User) -> list[NavItem]:
    """The pages this user's role may open, among those that exist."""
    views = current_app.view_functions
    return [item for item in NAV if user.role in item.roles and item.endpoint in views]


TAB_BAR_ITEMS = 4
"""Tabs before the "more" sheet on a phone; a role with five pages or fewer gets them all."""


def split_for_phone(items: list[NavItem]) -> tuple[list[NavItem], list[NavItem]]:
    """The bottom tab bar's items and the "more" sheet's: never more than five tabs in all."""
    if len(items) <= TAB_BAR_ITEMS + 1:
        return items, []
    return items[:TAB_BAR_ITEMS], items[TAB_BAR_ITEMS:]


def current_item(items: list[NavItem]) -> NavItem | None:
    """The item of the page being shown: its endpoint, else the longest path it lies under."""
    endpoint = request.endpoint
    for item in items:
        if endpoint == item.endpoint or endpoint in item.also:
            return item
    best: tuple[int, NavItem | None] = (0, None)
    for item in items:
        path = url_for(item.endpoint)
        if request.path.startswith(path.rstrip("/") + "/") and len(path) > best[0]:
            best = (len(path), item)
    return best[1]


# --- counts ------------------------------------------------------------------------------------

Counter = Callable[[User], "int | None"]
COUNTERS: dict[str, Counter] = {}
"""Counts beside navigation items, by key: a counter answers for a user (None: not shown)."""

SLA_DUE_COUNTER = ("leadshare.hours.sla", "due_count")
"""Where the SLA work's count lives, when it has landed: `due_count(user) -> int`, the leads the
user's store holds whose SLA is due. Absent, the "Our leads" item shows no count."""


def register_counter(key: str, counter: Counter) -> None:
    COUNTERS[key] = counter


def _offers(user: User) -> int:
    from ..leads import access

    return access.list_leads(user, {"view": "offered"}, 1, 1).total


def _board(user: User) -> int:
    from ..leads import access

    return access.board(user, 1, 1).total


def _sla_due(user: User) -> int | None:
    module_name, function = SLA_DUE_COUNTER
    if importlib.util.find_spec(module_name) is None:
        return None
    counter = getattr(importlib.import_module(module_name), function, None)
    return None if counter is None else counter(user)


def _notices(user: User) -> int | None:
    from ..notify.notices import unread_count

    return unread_count(user)


register_counter("offers", _offers)
register_counter("notices", _notices)
register_counter("board", _board)
register_counter("sla_due", _sla_due)


def counts_for(user: User, items: list[NavItem] | None = None) -> dict[str, int]:
    """The counts of the user's navigation items that have one (keys whose counter answers)."""
    keys = {item.count for item in (nav_for(user) if items is None else items) if item.count}
    counts = {}
    for key in sorted(keys):
        counter = COUNTERS.get(key)
        value = counter(user) if counter else None
        if value is not None:
            counts[key] = int(value)
    return counts


def poll_seconds() -> float:
    """How often the pages ask for fresh counts and offers (INBOX_POLL_SECONDS)."""
    return float(current_app.config["INBOX_POLL_SECONDS"])
