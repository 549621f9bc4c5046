"""Pages for a store's staff and manager: inbox, our leads, share a lead, board, referrals."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.models import User
from ..clock import utcnow
from ..errors import Conflict, DomainError, Invalid, NotFound
from ..leads import access, intake
from ..leads.enums import LeadStatus
from ..leads.models import Lead
from ..leads.presenter import present_lead, shown_km
from ..leads.schemas import LeadCreateSchema
from ..privacy.notice import notice_version
from ..routing.geo import haversine_km
from ..tenancy.schemas import DealerWriteSchema
from ..tenancy.service import group_brands, update_dealer
from ..vocabulary import DEALER_ROLES, Role
from . import blp
from .forms import DeclineForm, LeadForm, ProgressForm, StoreSettingsForm, load_or_flash
from .i18n import LABELS, label
from .leads import page_number
from .lookups import actor
from .messages import flash_refusal
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
    return render_template(
        "staff/inbox.html",
        offers=offers,
        board_total=access.board(user, 1, 1).total,
        now=utcnow(),
        decline=DeclineForm(formdata=None),
    )


def _store_leads(user: User, view: str):
    """A page of my store's leads in `view`, narrowed by the status chip when it names one."""
    status = request.args.get("status")
    filters: dict[str, Any] = {"view": view}
    if status in LABELS["status"]:
        filters["status"] = status
    return access.list_leads(user, filters, page_number(), PER_PAGE), status


@blp.get("/held")
@roles_required(*DEALER_ROLES)
def held():
    """The leads my store holds, each with its next progress step."""
    user = actor()
    page, status = _store_leads(user, "held")
    leads = [
        (
            present_lead(item, user),
            ProgressForm.for_lead(item.status, formdata=None),
            bool(item.order_ref),
        )
        for item in page.items
    ]
    return render_template("staff/held.html", leads=leads, page=page, status=status)


def _duplicate_link(user: User, duplicate_of: str | None) -> str | None:
    """A link to the earlier lead when this reader may open it (another store's may be hidden)."""
    if not duplicate_of:
        return None
    try:
        access.get_lead(user, duplicate_of)
    except NotFound:
        return None
    return url_for("web.lead", lead_id=duplicate_of)


def _posted_message(lead: Lead) -> str:
    if lead.status == LeadStatus.OFFERED:
        offer = access.current_offer(lead)
        return _(
            "Shared: offered to %(store)s (%(km).1f km from the customer).",
            store=offer.dealer.name,
            km=offer.distance_km or 0,
        )
    if lead.status == "needs_location":
        return _(
            "Saved, but the address could not be located: add a clearer address on the lead "
            "page and it will be routed."
        )
    return _("Shared: %(status)s.", status=label("status", lead.status))


@blp.route("/leads/new", methods=["GET", "POST"])
@roles_required(*DEALER_ROLES)
def new_lead():
    """Share a customer my store cannot serve; the API's rules check the form."""
    user = actor()
    form = LeadForm()
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
                flash(_posted_message(lead), "success")
                return redirect(url_for("web.lead", lead_id=lead.public_id))
    return render_template(
        "staff/new_lead.html",
        form=form,
        brands=group_brands(user, user.group_id),
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
    )


@blp.route("/store/settings", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def store_settings():
    """The manager's operating settings: accepting leads, daily capacity, service radius."""
    user = actor()
    store = user.dealer
    form = StoreSettingsForm(
        data={
            "accepting_leads": store.is_accepting,
            "daily_capacity": "" if store.daily_capacity is None else str(store.daily_capacity),
            "service_radius_km": f"{store.service_radius_km:g}",
        }
    )
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
    return render_template("staff/settings.html", form=form, store=store), status
