"""The navigation bar: one list of pages per role.

A slot names an endpoint that may not exist yet (rewards: programs, ledger, statements,
payouts; audit: funnel, flows). It shows up by itself once a view with that endpoint is
registered on the `web` blueprint, so a feature adds its page without touching this list.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..auth.models import User
from ..vocabulary import Role

DEALER = frozenset({Role.STAFF, Role.MANAGER})
MANAGER = frozenset({Role.MANAGER})
GROUP_ADMIN = frozenset({Role.GROUP_ADMIN})
AUDITOR = frozenset({Role.OEM_AUDITOR})
READERS = frozenset({Role.GROUP_ADMIN, Role.OEM_AUDITOR, Role.PLATFORM_ADMIN})


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy string, translated when rendered
    roles: frozenset[str]


NAV: tuple[NavItem, ...] = (
    NavItem("web.inbox", _l("Inbox"), DEALER),
    NavItem("web.held", _l("Our leads"), DEALER),
    NavItem("web.new_lead", _l("Share a lead"), DEALER),
    NavItem("web.board", _l("Board"), DEALER),
    NavItem("web.referrals", _l("My referrals"), DEALER),
    NavItem("web.store_settings", _l("Store settings"), MANAGER),
    NavItem("web.leads", _l("Leads"), READERS),
    NavItem("web.admin_dealers", _l("Stores"), GROUP_ADMIN),
    NavItem("web.admin_users", _l("Users"), GROUP_ADMIN),
    NavItem("web.privacy_alerts", _l("Privacy"), GROUP_ADMIN),
    # Slots for the rewards pages.
    NavItem("web.programs", _l("Programs"), GROUP_ADMIN),
    NavItem("web.ledger", _l("Ledger"), GROUP_ADMIN),
    NavItem("web.statements", _l("Statements"), GROUP_ADMIN | MANAGER),
    NavItem("web.payouts", _l("Payouts"), GROUP_ADMIN),
    # Slots for the audit pages.
    NavItem("web.funnel", _l("Funnel"), AUDITOR | GROUP_ADMIN),
    NavItem("web.flows", _l("Flows"), AUDITOR | GROUP_ADMIN),
    NavItem("web.trends", _l("Trends"), AUDITOR | GROUP_ADMIN),
    NavItem("web.flow_map", _l("Map"), AUDITOR | GROUP_ADMIN),
    NavItem("web.league", _l("Store league"), AUDITOR | GROUP_ADMIN | MANAGER),
    # Every role: the change-password page, which also signs out everywhere.
    NavItem("web.change_password", _l("Change password"), frozenset(Role)),
)


def nav_for(user: User) -> list[NavItem]:
    """The pages this user's role may open, among those that exist."""
    views = current_app.view_functions
    return [item for item in NAV if user.role in item.roles and item.endpoint in views]
