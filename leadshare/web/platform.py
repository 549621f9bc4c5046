"""Platform admin pages: the groups (create, edit their settings) and the OEMs (create), through
the same services and scope rules as the API (tenancy/service.py)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField

from ..errors import DomainError, NotFound
from ..tenancy import service
from ..tenancy.models import Group
from ..tenancy.schemas import GroupWriteSchema, OemCreateSchema
from ..vocabulary import Role
from . import blp
from .forms import compact, load_or_flash, whole_number
from .leads import page_number, refuse_at
from .lookups import actor
from .views import roles_required

PER_PAGE = 50
NUMBERS = ("offer_ttl_minutes", "max_offers_per_lead", "dedup_window_days")


class GroupForm(FlaskForm):
    name = StringField(_l("Group name"))
    code = StringField(_l("Group code"))
    timezone = StringField(_l("Time zone (e.g. Asia/Shanghai)"))
    offer_ttl_minutes = StringField(_l("Minutes a store has to answer an offer"))
    max_offers_per_lead = StringField(_l("Most stores offered a lead before the board"))
    dedup_window_days = StringField(_l("Days a customer counts as already shared"))

    def payload(self) -> dict[str, Any]:
        data = compact(
            {name: (self[name].data or "").strip() for name in ("name", "code", "timezone")}
        )
        for name in NUMBERS:
            text = (self[name].data or "").strip()
            if text:
                data[name] = whole_number(text)
        return data


class OemForm(FlaskForm):
    name = StringField(_l("OEM name"))
    brands = StringField(_l("Brands (separate with commas)"))

    def payload(self) -> dict[str, Any]:
        text = (self.brands.data or "").replace("，", ",")
        brands = [b.strip() for b in text.split(",") if b.strip()]
        return compact({"name": (self.name.data or "").strip(), "brands": brands or None})


def _group_data(group: Group) -> dict[str, Any]:
    return {
        "name": group.name,
        "code": group.code,
        "timezone": group.timezone,
        **{name: str(getattr(group, name)) for name in NUMBERS},
    }


@blp.get("/platform/groups")
@roles_required(Role.PLATFORM_ADMIN)
def platform_groups():
    page = service.list_groups(actor(), page_number(), PER_PAGE)
    return render_template("platform/groups.html", page=page)


@blp.route("/platform/groups/new", methods=["GET", "POST"])
@blp.route("/platform/groups/<int:group_id>", methods=["GET", "POST"])
@roles_required(Role.PLATFORM_ADMIN)
def platform_group(group_id: int | None = None):
    """Create a group, or change its settings (code and name included)."""
    user = actor()
    group = service.get_group(user, group_id) if group_id is not None else None
    form = GroupForm(data=_group_data(group) if group else None)
    status = 200
    if request.method == "POST":
        schema = GroupWriteSchema(partial=group is not None)
        data = load_or_flash(form, schema, form.payload())
        if data is None:
            status = 422
        else:
            try:
                if group is None:
                    group = service.create_group(user, data)
                else:
                    changed = {k: v for k, v in data.items() if getattr(group, k, None) != v}
                    service.update_group(user, group.id, changed)
            except DomainError as error:
                if isinstance(error, NotFound):
                    raise
                field = form._fields.get(getattr(error, "field", "") or _field_of(error))
                refuse_at(field, error, _platform_message(error))
                status = error.status
            else:
                flash(_("Group %(code)s saved.", code=group.code), "success")
                return redirect(url_for("web.platform_groups"))
    return render_template("platform/group_form.html", form=form, group=group), status


REFUSALS = {
    "code_taken": _l("Another group already uses this code."),
    "name_taken": _l("An OEM with this name already exists."),
    "brand_taken": _l("A brand of the list already belongs to another OEM."),
}


def _platform_message(error: DomainError) -> str | None:
    text = REFUSALS.get(error.reason)
    return None if text is None else str(text)


def _field_of(error: DomainError) -> str:
    """The field a group or OEM refusal without one is about."""
    return {"code_taken": "code", "name_taken": "name", "brand_taken": "brands"}.get(
        error.reason, ""
    )


@blp.route("/platform/oems", methods=["GET", "POST"])
@roles_required(Role.PLATFORM_ADMIN)
def platform_oems():
    """The OEMs and their brands; a new OEM with its brands (a brand belongs to one OEM)."""
    user = actor()
    form = OemForm()
    status = 200
    if request.method == "POST":
        data = load_or_flash(form, OemCreateSchema(), form.payload())
        if data is None:
            status = 422
        else:
            try:
                oem = service.create_oem(user, data)
            except DomainError as error:
                refuse_at(form._fields.get(_field_of(error)), error, _platform_message(error))
                status = error.status
            else:
                flash(_("OEM %(name)s created.", name=oem.name), "success")
                return redirect(url_for("web.platform_oems"))
    page = service.list_oems(user, page_number(), PER_PAGE)
    return render_template("platform/oems.html", page=page, form=form), status
