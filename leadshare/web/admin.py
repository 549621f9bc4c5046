"""Group admin pages: the group's stores and users."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.schemas import UserCreateSchema, UserQueryArgsSchema
from ..errors import DomainError, Forbidden, NotFound
from ..settings import current_settings
from ..tenancy import service
from ..tenancy.models import Dealer
from ..tenancy.schemas import DealerQueryArgsSchema, DealerWriteSchema
from ..vocabulary import Role
from . import blp
from .forms import DealerForm, UserForm, compact, load_or_flash, store_choices
from .leads import page_number
from .lookups import actor, store_names
from .messages import domain_message, flash_refusal
from .views import roles_required

PER_PAGE = 50


def _query(schema: ma.Schema, args: dict[str, Any]) -> dict[str, Any]:
    """Filters from the query string through the API's query schema; bad ones are dropped, and
    so is the schema's paging (the page number comes from `page_number`)."""
    try:
        filters = schema.load(compact(args))
    except ma.ValidationError as error:
        good = {k: v for k, v in compact(args).items() if k not in error.messages}
        filters = schema.load(good)
    filters.pop("page"), filters.pop("per_page")
    return filters


@blp.get("/admin/dealers")
@roles_required(Role.GROUP_ADMIN)
def admin_dealers():
    """The group's stores with filters."""
    args = {k: request.args.get(k, "") for k in ("q", "brand", "active", "accepting_leads")}
    filters = _query(DealerQueryArgsSchema(), args)
    user = actor()
    page = service.list_dealers(user, filters, page_number(), PER_PAGE)
    brands = service.group_brands(user, user.group_id)
    return render_template("admin/dealers.html", page=page, args=args, brands=brands)


def _dealer_form_data(dealer: Dealer) -> dict[str, Any]:
    def text(value) -> str:
        return "" if value is None else str(value)

    return {
        "code": dealer.code,
        "name": dealer.name,
        "brands": ", ".join(dealer.brands),
        "address": dealer.address or "",
        "latitude": text(dealer.latitude),
        "longitude": text(dealer.longitude),
        "service_radius_km": f"{dealer.service_radius_km:g}",
        "region_codes": ", ".join(dealer.region_codes),
        "daily_capacity": text(dealer.daily_capacity),
        "accepting_leads": dealer.is_accepting,
        "active": dealer.is_active,
        "webhook_url": dealer.webhook_url or "",
    }


def _changes(dealer: Dealer, data: dict[str, Any]) -> dict[str, Any]:
    """Only what the form changed: an untouched address must not be geocoded again."""
    changed = {k: v for k, v in data.items() if getattr(dealer, k, None) != v}
    if "latitude" in changed or "longitude" in changed:
        changed["latitude"], changed["longitude"] = data["latitude"], data["longitude"]
    return changed


@blp.route("/admin/dealers/new", methods=["GET", "POST"])
@blp.route("/admin/dealers/<int:dealer_id>", methods=["GET", "POST"])
@roles_required(Role.GROUP_ADMIN)
def admin_dealer(dealer_id: int | None = None):
    """Create a store, or edit one; the address is geocoded when no coordinates are given."""
    user = actor()
    dealer = service.get_dealer(user, dealer_id) if dealer_id is not None else None
    form = DealerForm(data=_dealer_form_data(dealer) if dealer else None)
    status = 200
    if request.method == "POST":
        data = load_or_flash(form, DealerWriteSchema(), form.payload())
        if data is None:
            status = 422
        else:
            try:
                if dealer is None:
                    dealer = service.create_dealer(user, data)
                else:
                    service.update_dealer(user, dealer.id, _changes(dealer, data))
            except DomainError as error:
                if isinstance(error, NotFound | Forbidden):
                    raise
                flash_refusal(error)
                field = form._fields.get(getattr(error, "field", ""))
                if field is not None:
                    field.errors = [*field.errors, domain_message(error)]
                status = error.status
            else:
                flash(_("Store %(code)s saved.", code=dealer.code), "success")
                return redirect(url_for("web.admin_dealers"))
    return render_template("admin/dealer_form.html", form=form, dealer=dealer), status


@blp.get("/admin/users")
@roles_required(Role.GROUP_ADMIN)
def admin_users():
    """The group's users: staff, managers and group admins."""
    args = {k: request.args.get(k, "") for k in ("role", "dealer_id")}
    filters = _query(UserQueryArgsSchema(), args)
    user = actor()
    page = service.list_users(user, filters, page_number(), PER_PAGE)
    dealers = service.group_dealers(user, user.group_id)
    return render_template(
        "admin/users.html",
        page=page,
        args=args,
        dealers=dealers,
        names=store_names(dealers),
    )


@blp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required(Role.GROUP_ADMIN)
def admin_new_user():
    user = actor()
    form = UserForm()
    form.dealer_id.choices = store_choices(service.group_dealers(user, user.group_id))
    status = 200
    if request.method == "POST":
        data = load_or_flash(form, UserCreateSchema(), form.payload(user.group_id))
        if data is None:
            status = 422
        else:
            try:
                created = service.create_user(user, data, current_settings())
            except DomainError as error:
                if isinstance(error, NotFound):
                    raise
                flash_refusal(error)
                status = error.status
            else:
                flash(_("User %(email)s created.", email=created.email), "success")
                return redirect(url_for("web.admin_users"))
    return render_template("admin/user_form.html", form=form), status


@blp.post("/admin/users/<int:user_id>/active")
@roles_required(Role.GROUP_ADMIN)
def admin_user_active(user_id: int):
    """Deactivate (or reactivate) a user: their sessions and tokens stop working."""
    active = request.form.get("active") == "1"
    try:
        changed = service.update_user(actor(), user_id, {"is_active": active}, current_settings())
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        flash_refusal(error)
    else:
        if active:
            flash(_("%(email)s can sign in again.", email=changed.email), "success")
        else:
            flash(_("%(email)s is deactivated.", email=changed.email), "success")
    return redirect(url_for("web.admin_users"))
