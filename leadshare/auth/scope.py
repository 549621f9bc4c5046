"""Every "may this user see / do this" decision (SPEC 1 and 13), asked by views, pages and services.

Two layers, both here:
- the door: `ENDPOINT_ROLES` names, for every route of the app, the roles that may call it
  (checked before the view runs, so no route can forget it); views marked `@public`
  (auth/public.py) need no sign-in;
- the object: `can_see_lead`, `sees_contact`, `acting_store`, ... decide for one row. Outside
  your scope is 404 (the row's existence is not revealed); a role that may not act is 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import ColumnElement, exists, select

from ..errors import Forbidden, Invalid, NotFound
from ..extensions import db
from ..leads.models import Lead, Offer
from ..tenancy.models import Dealer, DealerBrand, OemBrand
from ..vocabulary import DEALER_ROLES, Role
from .models import User
from .public import is_public as is_public_view

if TYPE_CHECKING:
    from ..rewards.models import RewardProgram

PA, GA, OEM = Role.PLATFORM_ADMIN, Role.GROUP_ADMIN, Role.OEM_AUDITOR
STAFF, MANAGER = Role.STAFF, Role.MANAGER
EVERYONE = frozenset(Role)
DEALERS = frozenset(DEALER_ROLES)
ADMINS = frozenset({PA, GA})
AUDITORS = frozenset({OEM, GA})

ENDPOINT_ROLES: dict[str, dict[str, frozenset[Role]]] = {
    # API
    "auth.Me": {"GET": EVERYONE},
    "geocode.Geocode": {"GET": EVERYONE},
    "groups.Groups": {"GET": ADMINS | DEALERS, "POST": frozenset({PA})},
    "groups.GroupById": {"GET": ADMINS | DEALERS, "PATCH": ADMINS},  # GA: hours and SLAs only
    "groups.GroupCalendar": {"GET": ADMINS | DEALERS, "PUT": ADMINS},
    "oems.Oems": {"GET": frozenset({PA, OEM}), "POST": frozenset({PA})},
    "dealers.Dealers": {"GET": ADMINS | DEALERS, "POST": ADMINS},
    "dealers.DealerById": {"GET": ADMINS | DEALERS, "PATCH": ADMINS | {MANAGER}},
    "dealers.DealerHours": {"GET": ADMINS | DEALERS, "PUT": ADMINS | {MANAGER}},
    "dealers.DealerClosures": {"GET": ADMINS | DEALERS, "POST": ADMINS | {MANAGER}},
    "dealers.DealerClosureById": {"DELETE": ADMINS | {MANAGER}},
    "rewards.dealer_statement": {"GET": ADMINS | {MANAGER}},
    "notifications.DealerWebhookSecret": {"GET": ADMINS, "POST": ADMINS},
    "notifications.Notifications": {"GET": ADMINS},
    "notifications.NotificationById": {"GET": ADMINS},
    "notifications.NotificationRetry": {"POST": ADMINS},
    "users.Users": {"GET": ADMINS, "POST": ADMINS},
    "users.UserById": {"GET": EVERYONE, "PATCH": EVERYONE},  # yourself, or as an admin
    "users.UserWecom": {"GET": ADMINS, "PUT": ADMINS, "DELETE": ADMINS},
    "users.UserPasswordReset": {"POST": ADMINS},
    "wecom.GroupWecomApp": {"GET": ADMINS, "PUT": ADMINS, "DELETE": ADMINS},
    "leads.Leads": {"GET": EVERYONE, "POST": DEALERS},
    "leads.LeadById": {"GET": EVERYONE, "PATCH": DEALERS},
    "leads.trail": {"GET": EVERYONE},
    "leads.verify": {"GET": EVERYONE},
    "leads.board": {"GET": DEALERS},
    "leads.claim": {"POST": DEALERS},
    "leads.decline": {"POST": DEALERS},
    "leads.progress": {"POST": DEALERS},
    "leads.withdraw": {"POST": DEALERS},
    "leads.location": {"PATCH": DEALERS},
    "leads.undo": {"POST": DEALERS},
    "rewards.void": {"POST": ADMINS},
    "returns.request_return": {"POST": DEALERS},
    "returns.accept_return": {"POST": DEALERS},
    "returns.contest_return": {"POST": DEALERS},
    "returns.decide_return": {"POST": ADMINS},
    "returns.returns": {"GET": ADMINS},
    "rewards.Programs": {"GET": ADMINS, "POST": ADMINS},
    "rewards.ProgramById": {"GET": ADMINS, "PATCH": ADMINS},
    "rewards.fund": {"POST": ADMINS},
    "rewards.skips": {"GET": ADMINS},
    "rewards.payouts": {"POST": ADMINS},
    "rewards.accounts": {"GET": frozenset({GA, MANAGER})},
    "rewards.entries": {"GET": frozenset({GA, MANAGER})},
    "rewards.reward_alerts": {"GET": ADMINS},
    "retail.DealerOemCodes": {"GET": ADMINS, "PUT": ADMINS},
    "retail.RetailReports": {"GET": AUDITORS, "POST": AUDITORS},  # an auditor's one write
    "retail.RetailReportById": {"GET": AUDITORS},
    "retail.retail_flags": {"GET": frozenset({GA})},
    "retail.retail_audit": {"GET": AUDITORS},
    "audit.leads": {"GET": AUDITORS},
    "audit.funnel": {"GET": AUDITORS},
    "audit.flows": {"GET": AUDITORS},
    "audit.verify": {"GET": AUDITORS},
    "audit.trends": {"GET": AUDITORS},
    "audit.speed": {"GET": AUDITORS},
    "audit.league": {"GET": AUDITORS | {MANAGER}},
    "brands.Brands": {"GET": EVERYONE},
    "brands.BrandAliases": {"POST": ADMINS},
    "privacy.customers": {"GET": ADMINS},
    "privacy.export": {"GET": ADMINS},
    "privacy.erase": {"POST": ADMINS},
    "privacy.access": {"GET": ADMINS},
    "privacy.alerts": {"GET": ADMINS},
    "privacy.changes": {"GET": ADMINS},
    # pages
    "web.home": {"GET": EVERYONE},
    "web.logout": {"POST": EVERYONE},
    "web.logout_everywhere": {"POST": EVERYONE},
    "web.change_password": {"GET": EVERYONE, "POST": EVERYONE},
    "web.admin_reset_password": {"GET": ADMINS, "POST": ADMINS},
    "web.leads": {"GET": EVERYONE},
    "web.lead": {"GET": EVERYONE},
    "web.inbox": {"GET": DEALERS},
    "web.held": {"GET": DEALERS},
    "web.board": {"GET": DEALERS},
    "web.referrals": {"GET": DEALERS},
    "web.new_lead": {"GET": DEALERS, "POST": DEALERS},
    "web.claim": {"POST": DEALERS},
    "web.decline": {"POST": DEALERS},
    "web.progress": {"POST": DEALERS},
    "web.withdraw": {"POST": DEALERS},
    "web.locate": {"POST": DEALERS},
    "web.correct": {"POST": DEALERS},
    "web.undo_progress_step": {"POST": DEALERS},
    "web.add_note": {"POST": DEALERS},
    "web.hand_over": {"POST": frozenset({MANAGER})},
    "web.store_settings": {"GET": frozenset({MANAGER}), "POST": frozenset({MANAGER})},
    "web.store_statement": {"GET": frozenset({MANAGER})},
    "web.statements": {"GET": frozenset({GA, MANAGER})},
    "web.void_lead": {"POST": frozenset({GA})},
    "web.admin_dealers": {"GET": frozenset({GA})},
    "web.admin_dealer": {"GET": frozenset({GA}), "POST": frozenset({GA})},
    "web.admin_dealer_oem_codes": {"POST": frozenset({GA})},
    "web.admin_users": {"GET": frozenset({GA})},
    "web.admin_new_user": {"GET": frozenset({GA}), "POST": frozenset({GA})},
    "web.admin_user_active": {"POST": frozenset({GA})},
    "web.programs": {"GET": frozenset({GA}), "POST": frozenset({GA})},
    "web.program": {"GET": frozenset({GA})},
    "web.program_update": {"POST": frozenset({GA})},
    "web.program_fund": {"POST": frozenset({GA})},
    "web.ledger": {"GET": frozenset({GA})},
    "web.payouts": {"GET": frozenset({GA}), "POST": frozenset({GA})},
    "web.funnel": {"GET": AUDITORS},
    "web.flows": {"GET": AUDITORS},
    "web.trends": {"GET": AUDITORS},
    "web.flow_map": {"GET": AUDITORS},
    "web.league": {"GET": AUDITORS | {MANAGER}},
    "web.live": {"GET": DEALERS},
    "web.admin_user": {"GET": frozenset({GA}), "POST": frozenset({GA})},
    "web.admin_import_dealers": {"GET": frozenset({GA}), "POST": frozenset({GA})},
    "web.admin_webhooks": {"GET": frozenset({GA})},
    "web.admin_webhook_retry": {"POST": frozenset({GA})},
    "web.admin_notices": {"GET": frozenset({GA})},
    "web.admin_notices_read": {"POST": frozenset({GA})},
    "web.platform_groups": {"GET": frozenset({PA})},
    "web.platform_group": {"GET": frozenset({PA}), "POST": frozenset({PA})},
    "web.platform_oems": {"GET": frozenset({PA}), "POST": frozenset({PA})},
    "sla.LeadSla": {"GET": EVERYONE},  # whoever sees the lead
    "sla.LeadNotes": {"GET": DEALERS, "POST": DEALERS},  # the holder's and referrer's staff
    "sla.LeadConsultant": {"PUT": frozenset({MANAGER})},
    "web.store_hours": {"POST": frozenset({MANAGER})},
    "web.store_closure_add": {"POST": frozenset({MANAGER})},
    "web.store_closure_delete": {"POST": frozenset({MANAGER})},
    "web.admin_hours": {"GET": frozenset({GA})},
    "web.admin_hours_save": {"POST": frozenset({GA})},
    "web.admin_calendar_save": {"POST": frozenset({GA})},
    "web.return_lead": {"POST": DEALERS},
    "web.accept_return": {"POST": DEALERS},
    "web.contest_return": {"POST": DEALERS},
    "web.decide_return": {"POST": frozenset({GA})},
    "web.disputes": {"GET": frozenset({GA})},
    "web.privacy_alerts": {"GET": frozenset({GA})},
    "web.privacy_access": {"GET": frozenset({GA})},
    "web.admin_changes": {"GET": ADMINS},
    "web.retail_reports": {"GET": AUDITORS, "POST": AUDITORS},
    "web.retail_report": {"GET": AUDITORS},
    "web.retail_flags": {"GET": frozenset({GA})},
    "web.retail_audit": {"GET": AUDITORS},
}
"""Who may call each route, by method (HEAD and OPTIONS follow GET)."""


def is_public(endpoint: str | None) -> bool:
    """Marked with `auth.public.public`: the only routes anyone may call without signing in."""
    view = current_app.view_functions.get(endpoint or "")
    return view is not None and is_public_view(view)


def roles_for(endpoint: str | None, method: str) -> frozenset[Role] | None:
    """The roles that may call this route with this method; None when no rule names it."""
    rules = ENDPOINT_ROLES.get(endpoint or "")
    if rules is None:
        return None
    return rules.get("GET" if method in ("HEAD", "OPTIONS") else method, frozenset())


def require_endpoint(actor: User, endpoint: str | None, method: str) -> None:
    """The door: a route without a rule is closed to everyone (fail closed), not open."""
    require_role(actor, *(roles_for(endpoint, method) or ()))


def require_role(actor: User, *roles: Role) -> None:
    """Refuse a role that may never take this action, whatever the object."""
    if actor.role not in roles:
        raise Forbidden(
            f"A {actor.role} may not do this.", reason="role_not_allowed", role=actor.role
        )


def sees_group(actor: User, group_id: int | None) -> bool:
    """Platform admins see every group; group admins and dealer staff see their own."""
    if actor.role == Role.PLATFORM_ADMIN:
        return True
    return group_id is not None and actor.group_id == group_id


def is_group_admin_of(actor: User, group_id: int | None) -> bool:
    return actor.role == Role.PLATFORM_ADMIN or (
        actor.role == Role.GROUP_ADMIN and actor.group_id == group_id
    )


GROUP_CLOCK_FIELDS = frozenset(
    {
        "opening_hours",
        "contact_sla_minutes",
        "skip_closed_over_hours",
        "release_on_missed_contact",
        "visit_sla_days",
        "sla_remind_at",
    }
)
"""The group settings its own admins may change (hours and SLAs); the rest is the platform's."""
GROUP_PRIVACY_FIELDS = frozenset(
    {"retention_days", "contact_views_alert_per_day", "consent_required"}
)
"""Privacy settings (issue 20), which the group's own admins may change too."""

GROUP_NOTICE_FIELDS = frozenset({"admin_robot_url"})
"""Where the group's admins are told of budgets and contact views: theirs to choose."""

GROUP_RETURN_FIELDS = frozenset(
    {"return_window_days", "dispute_window_hours", "max_return_rate", "retail_match_days"}
)
"""The group's return, dispute and retail match settings (issue 17): its own admins decide
the disputes and look into the retail flags."""

GROUP_ADMIN_FIELDS = (
    GROUP_CLOCK_FIELDS | GROUP_PRIVACY_FIELDS | GROUP_NOTICE_FIELDS | GROUP_RETURN_FIELDS
)
"""Every group setting the group's own admins may change."""


def require_group_admin(actor: User, group_id: int) -> None:
    """Changing a group's calendar: its own admins and platform admins; others 403."""
    if not is_group_admin_of(actor, group_id):
        raise Forbidden("Only the group's admins may change this.", reason="role_not_allowed")


def require_group_change(actor: User, group_id: int, fields: set[str]) -> None:
    """A platform admin changes any group setting; a group admin its own group's hours, SLA and
    return settings only (403 field_not_allowed for more); others 403."""
    if actor.role == Role.PLATFORM_ADMIN:
        return
    require_group_admin(actor, group_id)
    if fields - GROUP_ADMIN_FIELDS:
        raise Forbidden(
            "A group admin may change only the group's hours, SLA and return settings.",
            reason="field_not_allowed",
        )


def require_store_hours_editor(actor: User, dealer: Dealer) -> None:
    """A store's hours and closures: the group's admins, and the store's own manager."""
    if is_group_admin_of(actor, dealer.group_id):
        return
    if not (
        actor.role == Role.MANAGER
        and actor.dealer_id == dealer.id
        and actor.group_id == dealer.group_id
    ):
        raise Forbidden(
            "Only a group admin or this store's manager may change its hours.",
            reason="role_not_allowed",
        )


# --- stores and leads -----------------------------------------------------------------------


def acting_store(actor: User) -> Dealer:
    """The store a staff member or manager acts for; it must belong to the user's own group.

    Defence in depth: a store whose group differs from its user's (a moved store, a bad import)
    acts for nobody, so it can neither claim nor see another group's leads.
    """
    if actor.role not in DEALER_ROLES or actor.dealer_id is None:
        raise Forbidden("Only a store's staff or manager may do this.", reason="role_not_allowed")
    dealer = db.session.get(Dealer, actor.dealer_id)
    if dealer is None or dealer.group_id != actor.group_id:
        raise Forbidden(
            "Your store does not belong to your group; ask your group admin.",
            reason="store_not_in_group",
        )
    return dealer


def acts_in_group(actor: User, group_id: int | None) -> bool:
    """A dealer user acts in a group only through a store of that group (see acting_store)."""
    if actor.role not in DEALER_ROLES or actor.group_id != group_id or actor.dealer_id is None:
        return False
    store_group = db.session.scalar(select(Dealer.group_id).where(Dealer.id == actor.dealer_id))
    return store_group == group_id


def oem_brand_keys(oem_id: int | None) -> set[str]:
    return set(db.session.scalars(select(OemBrand.key).where(OemBrand.oem_id == oem_id)))


def _has_offer(lead: Lead, dealer_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(exists().where(Offer.lead_id == lead.id, Offer.dealer_id == dealer_id))
        )
    )


def may_claim_open(lead: Lead, dealer: Dealer) -> bool:
    """SPEC 3: an open lead may be claimed by a dealer of its group meeting rules 1, 2 and 4."""
    from ..leads.enums import LeadStatus
    from ..routing import service as routing
    from ..routing.eligibility import may_claim_from_board

    if lead.status != LeadStatus.OPEN or dealer.group_id != lead.group_id:
        return False
    facts = routing.dealer_facts([dealer], {})[0]
    return may_claim_from_board(routing.lead_facts(lead), facts)


def can_see_lead(actor: User, lead: Lead) -> bool:
    """Referrer, offered stores, holder, board-eligible stores, group admins, the brand's OEM."""
    if actor.role == Role.PLATFORM_ADMIN:
        return True
    if actor.role == Role.GROUP_ADMIN:
        return lead.group_id == actor.group_id
    if actor.role == Role.OEM_AUDITOR:
        return lead.brand_key in oem_brand_keys(actor.oem_id)
    if not acts_in_group(actor, lead.group_id):
        return False
    dealer_id = actor.dealer_id
    if dealer_id in (lead.referrer_id, lead.holder_id) or _has_offer(lead, dealer_id):
        return True
    return may_claim_open(lead, db.session.get(Dealer, dealer_id))


def visible_lead(actor: User, lead: Lead | None) -> Lead:
    """The lead if the actor may see it; a 404 otherwise, exactly as if it did not exist."""
    if lead is None or not can_see_lead(actor, lead):
        raise NotFound("No such lead.")
    return lead


def sees_contact(actor: User, lead: Lead) -> bool:
    """PIPL: only the store holding the lead, and the store that collected it, see the contact.

    The contact is the name, phone, WeChat ID, notes, street address and exact coordinates.
    """
    return actor.role in DEALER_ROLES and (
        actor.group_id == lead.group_id and actor.dealer_id in (lead.referrer_id, lead.holder_id)
    )


# --- users, statements, the ledger and audit reports ---------------------------------------


def sees_user(actor: User, user: User | None) -> bool:
    """Yourself; every user for platform admins; your group's users for group admins."""
    return user is not None and (
        user.id == actor.id
        or actor.role == Role.PLATFORM_ADMIN
        or (actor.role == Role.GROUP_ADMIN and user.group_id == actor.group_id)
    )


def statement_dealer(actor: User, dealer: Dealer | None) -> Dealer:
    """A store's reward statement: the group's admins and the store's own manager.

    Outside the group (or another store of it): 404; the store's staff: 403.
    """
    if dealer is None or not (
        is_group_admin_of(actor, dealer.group_id)
        or (actor.dealer_id == dealer.id and actor.group_id == dealer.group_id)
    ):
        raise NotFound("No such dealer.")
    if not (is_group_admin_of(actor, dealer.group_id) or actor.role == Role.MANAGER):
        raise Forbidden(
            "Only the store's manager or a group admin may read its statement.",
            reason="role_not_allowed",
        )
    return dealer


def ledger_view(actor: User) -> tuple[int, list[int] | None]:
    """(group, dealer ids or None for all): a manager reads only its own store's accounts."""
    if actor.role == Role.GROUP_ADMIN:
        return actor.group_id, None
    if actor.role == Role.MANAGER:
        return actor.group_id, [actor.dealer_id]
    raise Forbidden(
        "Only group admins and store managers may read the ledger.", reason="role_not_allowed"
    )


def audited_brand_keys(actor: User) -> tuple[int | None, set[str] | None]:
    """What an audit report may count: (group or None, brand keys or None for every brand).

    An OEM auditor reads its OEM's brands in every group, a group admin its own group; others 403.
    """
    require_role(actor, Role.OEM_AUDITOR, Role.GROUP_ADMIN)
    if actor.role == Role.OEM_AUDITOR:
        return None, oem_brand_keys(actor.oem_id)
    return actor.group_id, None


def audited_stores(actor: User) -> ColumnElement[bool]:
    """The stores an audit page may show: a group admin its group's, an OEM auditor the stores
    selling one of its brands (in any group); others 403."""
    group_id, keys = audited_brand_keys(actor)
    if keys is None:
        return Dealer.group_id == group_id
    sellers = select(DealerBrand.dealer_id).where(DealerBrand.key.in_(sorted(keys)))
    return Dealer.id.in_(sellers)


def league_view(actor: User) -> tuple[int | None, set[str] | None, int | None]:
    """The store league table: (group or None, brand keys or None, own store or None).

    An OEM auditor: its brands' stores in every group; a group admin: its group; a manager: its
    own store only, beside its group's median (so the group's leads are counted); others 403.
    """
    if actor.role == Role.MANAGER:
        return actor.group_id, None, actor.dealer_id
    group_id, keys = audited_brand_keys(actor)
    return group_id, keys, None


# --- OEM retail reports (issue 17 item 3) --------------------------------------------------


def retail_upload_scope(
    actor: User, oem_id: int | None, group_id: int | None = None
) -> tuple[int, int | None]:
    """(OEM, group or None) of a retail report upload: an OEM auditor's own OEM (its reports
    name stores of every group), a group admin's choice of OEM for its own group, the console's
    (a platform admin) any OEM and group; others 403. An OEM the auditor is not: 404."""
    require_role(actor, OEM, GA, PA)
    if actor.role == OEM:
        if oem_id is not None and oem_id != actor.oem_id:
            raise NotFound("No such OEM.")
        return actor.oem_id, None
    if oem_id is None:
        raise Invalid("oem_id", "Name the OEM whose report this is.", reason="unknown_oem")
    return oem_id, actor.group_id if actor.role == GA else group_id


def retail_reports_seen(actor: User) -> ColumnElement[bool]:
    """The retail reports a user may list and open: an OEM auditor its OEM's (whoever uploaded
    them), a group admin those uploaded for its group, a platform admin all; others 403."""
    from ..retail.models import RetailReport

    require_role(actor, OEM, GA, PA)
    if actor.role == OEM:
        return RetailReport.oem_id == actor.oem_id
    if actor.role == PA:
        return RetailReport.id.is_not(None)
    return RetailReport.group_id == actor.group_id


# --- rewards ------------------------------------------------------------------------------


def program_in_scope(actor: User, program: RewardProgram | None) -> RewardProgram:
    """A reward program is its group's admins' to read and change.

    Outside the group: 404; the group's staff and managers: 403 (they may know it exists).
    """
    if program is None or not (
        is_group_admin_of(actor, program.group_id)
        or (actor.role in (STAFF, MANAGER) and actor.group_id == program.group_id)
    ):
        raise NotFound("No such reward program.")
    require_role(actor, GA, PA)
    return program


def may_void(actor: User, lead: Lead) -> bool:
    """Voiding a fraudulent lead (SPEC 6) is for the admins of its group."""
    return is_group_admin_of(actor, lead.group_id)


def lead_to_void(actor: User, lead: Lead | None) -> Lead:
    """The lead a void names, if the actor may void it.

    Unseen (not its group's admin, referrer or holder): 404; its referrer and holder: 403.
    """
    if lead is None or not (
        may_void(actor, lead)
        or (
            actor.group_id == lead.group_id
            and actor.dealer_id in (lead.referrer_id, lead.holder_id)
        )
    ):
        raise NotFound("No such lead.")
    require_role(actor, GA, PA)
    return lead
