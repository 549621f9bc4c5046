"""Pages for a store's staff and manager: inbox, our leads, share a lead, board, referrals."""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.models import User
from ..clock import utcnow
from ..errors import Conflict, DomainError, Invalid, NotFound
from ..hours import followup
from ..hours import service as hours
from ..hours.schemas import ClosureWriteSchema
from ..hours.service import store_opens_at
from ..hours.sla import running_due
from ..leads import access, intake
from ..leads.presenter import present_lead, shown_km
from ..leads.schemas import LeadCreateSchema
from ..privacy.notice import notice_version
from ..rewards import credits
from ..rewards.money import format_amount
from ..routing.geo import haversine_km
from ..tenancy.schemas import DealerWriteSchema
from ..tenancy.service import group_brands, update_dealer
from ..vocabulary import DEALER_ROLES, Role
from . import blp
from .forms import (
    ClosureForm,
    DeclineForm,
    LeadForm,
    ProgressForm,
    StoreHoursForm,
    StoreSettingsForm,
    brand_choices,
    load_or_flash,
)
from .i18n import LABELS
from .leads import page_number, routed_message, search_box, search_filters
from .lookups import actor
from .messages import flash_refusal
from .nav import counts_for, poll_seconds
from .views import roles_required

PER_PAGE = 20


@blp.get("/inbox")
@roles_required(*DEALER_ROLES)
def inbox():
    """Offers waiting for my store's answer, soonest to expire first."""
    user = actor()
    page = access.list_leads(user, {"view": "offered"}, 1, 100)
    offers = [present_lead(item, user) for item in page.items]
    offers.sort(key=lambda lead: lead["current_offer"]["expires_at"])
    now = utcnow()
    return render_template(
        "staff/inbox.html",
        offers=offers,
        board_total=access.board(user, 1, 1).total,
        now=now,
        decline=DeclineForm(formdata=None),
        opens_at=store_opens_at(user.dealer, now) if offers else None,
        contact_sla_minutes=user.dealer.group.contact_sla_minutes,
        appointments=followup.due_appointments(user.dealer_id, now),
    )


@blp.get("/live")
@roles_required(*DEALER_ROLES)
def live():
    """What the pages poll (every INBOX_POLL_SECONDS, while shown): the navigation's counts and
    the ids of the offers waiting in the inbox. A small read: sync workers hold no stream."""
    user = actor()
    page = access.list_leads(user, {"view": "offered"}, 1, 100)
    return jsonify(
        counts=counts_for(user),
        offers=sorted(item.public_id for item in page.items),
        poll_seconds=poll_seconds(),
    )


def _store_leads(user: User, view: str):
    """A page of my store's leads in `view`, narrowed by the status chip when it names one."""
    status = request.args.get("status")
    filters: dict[str, Any] = {"view": view, **search_filters(request.args)}
    if status in LABELS["status"]:
        filters["status"] = status
    return access.list_leads(user, filters, page_number(), PER_PAGE), status


@blp.get("/held")
@roles_required(*DEALER_ROLES)
def held():
    """The leads my store holds, each with its next progress step."""
    user = actor()
    page, status = _store_leads(user, "held")
    slas = running_due(user.dealer_id, [item.id for item in page.items])
    leads = [
        (
            present_lead(item, user),
            ProgressForm.for_lead(item.status, formdata=None),
            bool(item.order_ref),
            slas.get(item.id),
        )
        for item in page.items
    ]
    ids = [item.id for item in page.items]
    now = utcnow()
    return render_template(
        "staff/held.html",
        leads=leads,
        page=page,
        status=status,
        search=search_box(user, request.args, keep=("status",)),
        now=now,
        consultants=_by_public_id(page.items, followup.consultants_by_lead(user.dealer_id, ids)),
        next_at=_by_public_id(page.items, followup.next_appointments(user.dealer_id, ids)),
        appointments=followup.due_appointments(user.dealer_id, now),
        summary=followup.consultant_summary(user.dealer_id, now)
        if user.role == Role.MANAGER
        else None,
    )


def _by_public_id(items, found: dict[int, Any]) -> dict[str, Any]:
    """A lookup keyed by lead id (the store's own ids) re-keyed by the ids the page shows."""
    return {item.public_id: found[item.id] for item in items if item.id in found}


def _duplicate_link(user: User, duplicate_of: str | None) -> str | None:
    """A link to the earlier lead when this reader may open it (another store's may be hidden)."""
    if not duplicate_of:
        return None
    try:
        access.get_lead(user, duplicate_of)
    except NotFound:
        return None
    return url_for("web.lead", lead_id=duplicate_of)


@blp.route("/leads/new", methods=["GET", "POST"])
@roles_required(*DEALER_ROLES)
def new_lead():
    """Share a customer my store cannot serve; the API's rules check the form."""
    user = actor()
    form = LeadForm()
    form.brand.choices = brand_choices(group_brands(user, user.group_id))
    if not form.consent_text_version.data:  # the version of the notice the form links to
        form.consent_text_version.data = notice_version(user.group.retention_days)
    duplicate: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        data = load_or_flash(form, LeadCreateSchema(), form.payload())
        if data is None:
            status = 422
        else:
            try:
                lead = intake.post_lead(user, data)
            except (Conflict, Invalid) as error:
                flash_refusal(error)
                status = 409 if isinstance(error, Conflict) else 422
                if error.reason == "duplicate_lead":
                    duplicate = {"link": _duplicate_link(user, error.extra.get("duplicate_of"))}
            else:
                flash(*routed_message(lead))
                return redirect(url_for("web.lead", lead_id=lead.public_id))
    return render_template(
        "staff/new_lead.html",
        form=form,
        duplicate=duplicate,
        dedup_days=user.group.dedup_window_days,
        group_code=user.group.code,
    ), status


@blp.get("/board")
@roles_required(*DEALER_ROLES)
def board():
    """Open leads my store may claim, nearest first."""
    user = actor()
    page = access.board(user, page_number(), PER_PAGE)
    store = user.dealer
    rows = []
    for item in page.items:
        distance = None
        if store.latitude is not None and item.latitude is not None:
            distance = haversine_km(store.latitude, store.longitude, item.latitude, item.longitude)
        rows.append((present_lead(item, user), shown_km(distance, unmasked=False)))
    return render_template(
        "staff/board.html",
        rows=rows,
        page=page,
        store=store,
    )


def referral_earnings(user: User, leads: list[dict[str, Any]]) -> dict[str, str]:
    """What each shared lead earned the store, by lead id: the net credited amount (credits
    minus reversals) as a decimal string; leads that never earned a credit are left out."""
    from .rewards import net_earnings

    return net_earnings(user.dealer_id, [lead["id"] for lead in leads])


@blp.get("/referrals")
@roles_required(*DEALER_ROLES)
def referrals():
    """Every lead my store shared: where it is now and what it earned."""
    user = actor()
    page, status = _store_leads(user, "posted")
    leads = [present_lead(item, user) for item in page.items]
    return render_template(
        "staff/referrals.html",
        leads=leads,
        page=page,
        status=status,
        earnings=referral_earnings(user, leads),
        earnings_total=format_amount(credits.store_earnings_total(user.dealer_id)),
        currency=user.group.currency,
        search=search_box(user, request.args, keep=("status",)),
    )


@blp.route("/store/settings", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def store_settings():
    """The manager's operating settings: accepting leads, daily capacity, service radius."""
    user = actor()
    store = user.dealer
    form = _operating_form(store, posted=request.method == "POST")
    status = 200
    if request.method == "POST":
        data = load_or_flash(form, DealerWriteSchema(partial=True), form.payload())
        if data is None:
            status = 422
        else:
            try:
                update_dealer(user, store.id, data)
            except DomainError as error:
                flash_refusal(error)
                status = error.status
            else:
                flash(_("Store settings saved."), "success")
                return redirect(url_for("web.store_settings"))
    return _settings_page(form, store, status)


def _settings_page(form, store, status: int = 200, hours_form=None, closure_form=None):
    """The settings page: operating settings, opening hours, closures."""
    user = actor()
    shown = hours.get_store_hours(user, store.id)
    hours_form = hours_form or StoreHoursForm.for_hours(shown)
    return render_template(
        "staff/settings.html",
        hours_source=shown["source"],
        form=form,
        store=store,
        hours_form=hours_form,
        closure_form=closure_form or ClosureForm(formdata=None),
        closures=hours.list_closures(user, store.id),
    ), status


def _operating_form(store, *, posted: bool = False) -> StoreSettingsForm:
    """The operating settings form, filled from the store (and from the request when posted)."""
    return StoreSettingsForm(
        **({} if posted else {"formdata": None}),
        data={
            "accepting_leads": store.is_accepting,
            "daily_capacity": "" if store.daily_capacity is None else str(store.daily_capacity),
            "service_radius_km": f"{store.service_radius_km:g}",
        },
    )


@blp.post("/store/hours")
@roles_required(Role.MANAGER)
def store_hours():
    """The manager replaces the store's opening hours, or goes back to the group's."""
    user = actor()
    form = StoreHoursForm()
    if not form.validate():
        flash(_("Check the highlighted fields."), "error")
        return _settings_page(_operating_form(user.dealer), user.dealer, 422, hours_form=form)
    try:
        hours.put_store_hours(user, user.dealer_id, form.payload())
    except DomainError as error:
        flash_refusal(error)
        return _settings_page(_operating_form(user.dealer), user.dealer, error.status, form)
    flash(_("Opening hours saved."), "success")
    return redirect(url_for("web.store_settings"))


@blp.post("/store/closures")
@roles_required(Role.MANAGER)
def store_closure_add():
    """The manager closes the store for a range of days."""
    user = actor()
    form = ClosureForm()
    data = load_or_flash(form, ClosureWriteSchema(), form.payload()) if form.validate() else None
    status = 422
    if data is not None:
        try:
            hours.add_closure(user, user.dealer_id, data)
        except DomainError as error:
            flash_refusal(error)
            status = error.status
        else:
            flash(_("Closure added."), "success")
            return redirect(url_for("web.store_settings"))
    store = user.dealer
    return _settings_page(_operating_form(store), store, status, closure_form=form)


@blp.post("/store/closures/<int:closure_id>/delete")
@roles_required(Role.MANAGER)
def store_closure_delete(closure_id: int):
    """The manager removes a closure."""
    user = actor()
    try:
        hours.delete_closure(user, user.dealer_id, closure_id)
    except DomainError as error:
        flash_refusal(error)
    else:
        flash(_("Closure removed."), "success")
    return redirect(url_for("web.store_settings"))
