"""Group admin pages: the group's stores (and their CSV import), users, and webhook messages."""

from __future__ import annotations

import io
from typing import Any

import marshmallow as ma
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField

from ..auth.models import User
from ..auth.schemas import UserCreateSchema, UserEditSchema, UserQueryArgsSchema
from ..errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from ..notify import service as notify
from ..notify.enums import RETRYABLE, NotificationStatus
from ..retail.codes import code_boxes, set_oem_codes
from ..retail.schemas import OemCodesInSchema
from ..settings import current_settings
from ..tenancy import service
from ..tenancy.dealer_csv import CSV_FIELDS, import_rows, read_rows
from ..tenancy.models import Dealer
from ..tenancy.schemas import DealerQueryArgsSchema, DealerWriteSchema
from ..tenancy.user_edit import edit_user
from ..vocabulary import Role
from . import blp
from .errors import safe_target
from .forms import (
    DealerForm,
    UserForm,
    compact,
    load_or_flash,
    store_choices,
    whole_number,
)
from .leads import page_number, refuse_at
from .lookups import actor, store_names
from .messages import domain_message, flash_refusal, schema_message
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
                refuse_at(form._fields.get(getattr(error, "field", "")), error)
                status = error.status
            else:
                flash(_("Store %(code)s saved.", code=dealer.code), "success")
                return redirect(url_for("web.admin_dealers"))
    return _dealer_page(form, dealer, status)


def _dealer_page(form, dealer: Dealer | None, status: int = 200, **codes_page: Any):
    """The store's form and, for a store that exists, its OEM dealer codes (one box per OEM
    whose brands it sells, and any OEM it already has a code with)."""
    oem_codes = []
    if dealer is not None:
        typed = codes_page.get("typed", {})
        oem_codes = [
            {"oem": oem, "value": typed.get(oem.id, code or "")}
            for oem, code in code_boxes(actor(), dealer.id)
        ]
    return (
        render_template(
            "admin/dealer_form.html",
            form=form,
            dealer=dealer,
            oem_codes=oem_codes,
            code_error=codes_page.get("error"),
        ),
        status,
    )


@blp.post("/admin/dealers/<int:dealer_id>/oem-codes")
@roles_required(Role.GROUP_ADMIN)
def admin_dealer_oem_codes(dealer_id: int):
    """Replace the store's OEM dealer codes from the boxes of its page (an empty box: none)."""
    user = actor()
    dealer = service.get_dealer(user, dealer_id)
    typed = {}
    for key, value in request.form.items():
        if key.startswith("oem_") and key[4:].isdigit():
            typed[int(key[4:])] = value.strip()
    rows = [{"oem_id": oem_id, "code": code} for oem_id, code in typed.items() if code]
    form = DealerForm(data=_dealer_form_data(dealer))
    try:
        codes = OemCodesInSchema().load({"codes": rows})["codes"]
        set_oem_codes(user, dealer.id, codes)
    except ma.ValidationError:
        message = _("A dealer code is 1-50 letters, digits, dots, dashes or underscores.")
        return _dealer_page(form, dealer, 422, typed=typed, error=message)
    except (Conflict, Invalid) as error:
        message = (
            _("Another store already has this code with that OEM.")
            if error.reason == "code_taken"
            else domain_message(error)
        )
        return _dealer_page(form, dealer, error.status, typed=typed, error=message)
    flash(_("OEM dealer codes of %(code)s saved.", code=dealer.code), "success")
    return redirect(url_for("web.admin_dealer", dealer_id=dealer.id))


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


# --- editing a user ------------------------------------------------------------------------


class UserEditForm(UserForm):
    """The new-user form without email and password (a reset gives a new password)."""

    email = None
    password = None
    active = BooleanField(_l("Can sign in"))
    wecom_userid = StringField(_l("WeCom userid"))
    wecom_corp_id = StringField(_l("WeCom corp id (a store with its own corp, 上下游)"))

    def payload(self, group_id: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "role": self.role.data,
            "is_active": bool(self.active.data),
            "wecom_userid": (self.wecom_userid.data or "").strip(),
        }
        if (self.name.data or "").strip():
            data["name"] = self.name.data.strip()
        if (self.wecom_corp_id.data or "").strip():
            data["wecom_corp_id"] = self.wecom_corp_id.data.strip()
        if self.role.data != "group_admin":
            data["dealer_id"] = whole_number(self.dealer_id.data) if self.dealer_id.data else None
        return data


def _user_form_data(user: User) -> dict[str, Any]:
    member = user.wecom_member
    return {
        "name": user.name or "",
        "role": user.role,
        "dealer_id": "" if user.dealer_id is None else str(user.dealer_id),
        "active": user.is_active_user,
        "wecom_userid": member.userid if member else "",
        "wecom_corp_id": member.corp_id if member else "",
    }


@blp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.GROUP_ADMIN)
def admin_user(user_id: int):
    """Edit a user: role, store, name, active, the WeCom member; refused parts change nothing."""
    admin = actor()
    user = service.get_user(admin, user_id)
    form = UserEditForm(data=_user_form_data(user))
    form.dealer_id.choices = store_choices(service.group_dealers(admin, admin.group_id))
    status = 200
    if request.method == "POST":
        data = load_or_flash(form, UserEditSchema(), form.payload())
        if data is None:
            status = 422
        else:
            try:
                edit_user(admin, user.id, data, current_settings())
            except DomainError as error:
                if isinstance(error, NotFound):
                    raise
                refuse_at(form._fields.get(_FIELD_OF.get(error.reason, "")), error)
                status = error.status
            else:
                flash(_("User %(email)s saved.", email=user.email), "success")
                return redirect(url_for("web.admin_users"))
    return render_template("admin/user_edit.html", form=form, user=user), status


_FIELD_OF = {
    "unknown_dealer": "dealer_id",
    "corp_id_required": "wecom_corp_id",
    "wecom_userid_taken": "wecom_userid",
}
"""The form field each refusal of a user edit is about."""


# --- webhook messages ----------------------------------------------------------------------

WEBHOOK_STATUSES = {
    NotificationStatus.DEAD: _l("Dead (out of attempts)"),
    NotificationStatus.PENDING: _l("Pending"),
    NotificationStatus.SENT: _l("Sent"),
    NotificationStatus.CANCELLED: _l("Cancelled"),
}


@blp.get("/admin/webhooks")
@roles_required(Role.GROUP_ADMIN)
def admin_webhooks():
    """The group's webhook messages, dead ones first by default: what needs an admin."""
    status = request.args.get("status") or NotificationStatus.DEAD
    if status not in WEBHOOK_STATUSES:
        status = NotificationStatus.DEAD
    user = actor()
    page = notify.list_notifications(user, {"status": status}, page_number(), PER_PAGE)
    dealers = service.group_dealers(user, user.group_id)
    return render_template(
        "admin/webhooks.html",
        page=page,
        status=status,
        statuses=WEBHOOK_STATUSES,
        names=store_names(dealers),
        retryable=RETRYABLE,
    )


@blp.post("/admin/webhooks/<message_id>/retry")
@roles_required(Role.GROUP_ADMIN)
def admin_webhook_retry(message_id: str):
    """Send a dead (or cancelled) message again: back to pending with fresh attempts."""
    try:
        notify.retry_notification(actor(), message_id)
    except Conflict as error:
        flash_refusal(error)
    else:
        flash(_("The message is queued to be sent again."), "success")
    return redirect(safe_target(request.form.get("next"), url_for("web.admin_webhooks")))


# --- importing stores ----------------------------------------------------------------------

MAX_IMPORT_ROWS = 2000
"""More rows than this go through `flask leadshare import-dealers` (one request stays short)."""


def _uploaded_rows() -> list[dict[str, str]]:
    """The uploaded CSV's rows; Invalid with a reason the page explains when it cannot be read."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid("file", "Choose a CSV file.", reason="no_file")
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("file", "The file is not UTF-8.", reason="not_utf8") from exc
    rows = read_rows(io.StringIO(text, newline=""))
    if not rows:
        raise Invalid("file", "The file has no rows.", reason="empty_file")
    if len(rows) > MAX_IMPORT_ROWS:
        raise Invalid("file", "Too many rows for the page.", reason="too_many_rows")
    return rows


IMPORT_REFUSALS = {
    "no_file": _l("Choose a CSV file."),
    "not_utf8": _l("The file is not UTF-8: in Excel, save it as “CSV UTF-8”."),
    "empty_file": _l("The file has a header but no stores."),
    "too_many_rows": _l(
        "More than %(num)d stores: import them with `flask leadshare import-dealers`."
    ),
    "bad_header": _l("The first row must name the columns, code among them: %(columns)s."),
}


@blp.route("/admin/dealers/import", methods=["GET", "POST"])
@roles_required(Role.GROUP_ADMIN)
def admin_import_dealers():
    """Create or update the group's stores from a CSV, as the CLI does; a report per line."""
    report, problem, status = None, None, 200
    if request.method == "POST":
        user = actor()
        try:
            report = import_rows(user.group.code, _uploaded_rows(), translate=schema_message)
        except Invalid as error:
            text = IMPORT_REFUSALS.get(error.reason)
            values = {"num": MAX_IMPORT_ROWS, "columns": ", ".join(CSV_FIELDS)}
            problem = str(text) % values if text else error.message
            status = 422
        else:
            if report.failures:
                flash(_("Some rows were not imported: see the report below."), "warning")
            else:
                flash(_("Every row was imported."), "success")
    return render_template(
        "admin/import.html",
        report=report,
        problem=problem,
        columns=CSV_FIELDS,
        outcomes=IMPORT_OUTCOMES,
    ), status


IMPORT_OUTCOMES = {"created": _l("Created"), "updated": _l("Updated"), "rejected": _l("Rejected")}
