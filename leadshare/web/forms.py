"""Web forms: Flask-WTF renders them and checks the CSRF token of every POST.

Only the login form validates with WTForms. Every other form is read as plain values and
validated by the API's marshmallow schema (`forms.load`), so a page and the API refuse the
same input with the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from ..leads.enums import DeclineReason, LeadStatus
from ..leads.schemas import CHANNELS, CONSENT_CHANNELS, PROGRESS_TARGETS, TIMEFRAMES
from ..leads.states import LOSABLE, PROGRESS_LADDER
from .i18n import (
    CHANNEL,
    CONSENT_CHANNEL,
    DECLINE_REASON,
    LOST_REASON,
    PROGRESS_ACTION,
    ROLE,
    TIMEFRAME,
)
from .lookups import store_names
from .messages import flatten_errors

LIST_SEPARATORS = re.compile(r"[,，、;；|\n]+")


def whole_number(text: str) -> int | str | None:
    """A form's digits as the int the API schemas take strictly; other text for them to refuse."""
    return int(text) if text.isascii() and text.isdigit() else (text or None)


def split_list(text: str | None) -> list[str]:
    """`奥迪, 大众、宝马` -> ["奥迪", "大众", "宝马"]: commas (either width), 、, ; or new lines."""
    return [part.strip() for part in LIST_SEPARATORS.split(text or "") if part.strip()]


def compact(data: Mapping[str, Any]) -> dict[str, Any]:
    """Drop blank answers (recursively), so an empty box means "not given" to the schema."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            value = compact(value)
            if not value:
                continue
        elif isinstance(value, str):
            value = value.strip()
        if value in ("", None):
            continue
        out[key] = value
    return out


def load(form: FlaskForm, schema: ma.Schema, payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """Validate `payload` with the API schema; on refusal put each message on its form field.

    A form's `FIELDS` maps a schema path (`customer.phone`) to a form field name (`phone`); a
    path without a form field lands on `form.form_errors`. Returns the loaded data or None.
    """
    fields: Mapping[str, str] = getattr(form, "FIELDS", {})
    try:
        return schema.load(payload)
    except ma.ValidationError as error:
        messages = error.messages if isinstance(error.messages, Mapping) else {"_": error.messages}
        for path, texts in flatten_errors(messages).items():
            name = fields.get(path, path.rsplit(".", 1)[-1])
            field: Field | None = form._fields.get(name)
            if field is not None:
                field.errors = [*field.errors, *texts]
            else:
                form.form_errors.extend(texts)
        return None


def load_or_flash(
    form: FlaskForm, schema: ma.Schema, payload: Mapping[str, Any]
) -> dict[str, Any] | None:
    """`load`, and when the schema refuses, ask the person to check the highlighted fields."""
    data = load(form, schema, payload)
    if data is None:
        flash(_("Check the highlighted fields."), "error")
    return data


def choices(codes, labels, blank: object | None = None) -> list[SelectChoice]:
    """Select options for stored codes with their translated labels, after an optional blank."""
    options = [SelectChoice(code, labels[code]) for code in codes]
    return [SelectChoice("", blank), *options] if blank is not None else options


def brand_choices(brands: list[str]) -> list[SelectChoice]:
    """The share form's brand picker: "Choose a brand", then the group's catalogue brands."""
    return [SelectChoice("", _("Choose a brand")), *(SelectChoice(b, b) for b in brands)]


def store_choices(dealers) -> list[SelectChoice]:
    """A store picker: "Choose a store", then each store by code and name."""
    names = {str(key): name for key, name in store_names(dealers).items()}
    return choices(names, names, blank=_("Choose a store"))


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in on this phone for 30 days"))


class DeclineForm(FlaskForm):
    reason = SelectField(
        _l("Why decline?"),
        choices=choices(DeclineReason, DECLINE_REASON, blank=_l("Choose a reason")),
        validate_choice=False,
    )
    note = StringField(_l("Note (optional)"))


class LeadForm(FlaskForm):
    name = StringField(_l("Customer name"))
    phone = StringField(_l("Mobile phone"))
    wechat_id = StringField(_l("WeChat ID"))
    address = StringField(_l("Where the customer lives"))
    brand = SelectField(_l("Brand"), choices=[], validate_choice=False)
    model = StringField(_l("Model (optional)"))
    budget = StringField(_l("Budget (optional)"))
    timeframe = SelectField(
        _l("When to buy"),
        choices=choices(TIMEFRAMES, TIMEFRAME, blank=_l("Not known")),
        validate_choice=False,
    )
    channel = SelectField(
        _l("Where the lead came from"),
        choices=choices(CHANNELS, CHANNEL, blank=_l("Choose a channel")),
        validate_choice=False,
    )
    campaign = StringField(_l("Campaign or QR code (optional)"))
    notes = TextAreaField(_l("Notes for the receiving store (optional)"))
    consent = BooleanField(_l("The customer agreed that we share their details with another store"))
    consent_channel = SelectField(
        _l("How the customer agreed"),
        choices=choices(CONSENT_CHANNELS, CONSENT_CHANNEL, blank=_l("Not recorded")),
        validate_choice=False,
    )
    consent_text_version = HiddenField()

    FIELDS = {
        "customer.name": "name",
        "customer.phone": "phone",
        "customer.wechat_id": "wechat_id",
        "location.address": "address",
        "location.latitude": "address",
        "source.channel": "channel",
        "source.campaign": "campaign",
        "consent_to_share": "consent",
        "consent.channel": "consent_channel",
        "consent.text_version": "consent_channel",
    }

    def payload(self) -> dict[str, Any]:
        """The API's LeadCreateSchema input."""
        data = compact(
            {
                "customer": {
                    "name": self.name.data,
                    "phone": self.phone.data,
                    "wechat_id": self.wechat_id.data,
                },
                "location": {"address": self.address.data},
                "brand": self.brand.data,
                "model": self.model.data,
                "budget": self.budget.data,
                "timeframe": self.timeframe.data,
                "source": {"channel": self.channel.data, "campaign": self.campaign.data},
                "notes": self.notes.data,
            }
        )
        data.setdefault("customer", {})
        data.setdefault("location", {})
        data.setdefault("source", {})
        data["consent_to_share"] = bool(self.consent.data)
        consent = compact(
            {"text_version": self.consent_text_version.data, "channel": self.consent_channel.data}
        )
        if consent:
            data["consent"] = consent
        return data


def next_moves(status: str) -> list[str]:
    """The progress moves the holder may record from `status`: later stages, then lost."""
    current = LeadStatus(status)
    if current not in LOSABLE:
        return []
    later = PROGRESS_LADDER[PROGRESS_LADDER.index(current) + 1 :]
    return [str(stage) for stage in later if str(stage) in PROGRESS_TARGETS] + ["lost"]


class ProgressForm(FlaskForm):
    status = SelectField(_l("Next step"), validate_choice=False)
    order_ref = StringField(_l("Order number"))
    vin = StringField(_l("VIN (17 characters)"))
    lost_reason = SelectField(
        _l("Why lost"),
        choices=choices(LOST_REASON, LOST_REASON, blank=_l("Choose a reason")),
        validate_choice=False,
    )
    lost_note = StringField(_l("Note on the loss (needed for another reason)"))
    note = StringField(_l("Note (optional)"))
    confirmed = HiddenField()

    @classmethod
    def for_lead(cls, status: str, **kwargs: Any) -> ProgressForm:
        form = cls(**kwargs)
        moves = next_moves(status)
        form.status.choices = choices(moves, PROGRESS_ACTION)
        if form.status.data is None and moves:
            form.status.data = moves[0]
        return form

    def payload(self) -> dict[str, Any]:
        return compact(
            {
                "status": self.status.data,
                "order_ref": self.order_ref.data,
                "vin": self.vin.data,
                "lost_reason": self.lost_reason.data,
                "lost_note": self.lost_note.data if self.status.data == "lost" else None,
                "note": self.note.data,
            }
        )


class CorrectForm(FlaskForm):
    brand = StringField(_l("Brand"))
    model = StringField(_l("Model"))
    address = StringField(_l("Where the customer lives"))

    def payload(self, lead: Mapping[str, Any]) -> dict[str, Any]:
        """LeadCorrectSchema input: only what differs from the lead as shown."""
        data: dict[str, Any] = {}
        brand, model = (self.brand.data or "").strip(), (self.model.data or "").strip()
        address = (self.address.data or "").strip()
        if brand and brand != lead["brand"]:
            data["brand"] = brand
        if model != (lead["model"] or ""):
            data["model"] = model
        if address and address != (lead["location"].get("address") or ""):
            data["location"] = {"address": address}
        return data


class UndoForm(FlaskForm):
    reason = StringField(_l("Why undo this step?"))


class WithdrawForm(FlaskForm):
    reason = StringField(_l("Why withdraw? (optional)"))


class LocationForm(FlaskForm):
    address = StringField(_l("Where the customer lives"))


class StoreSettingsForm(FlaskForm):
    accepting_leads = BooleanField(_l("Accepting leads"))
    daily_capacity = StringField(_l("Most new leads per day (blank: no limit)"))
    service_radius_km = StringField(_l("Service radius (km)"))

    def payload(self) -> dict[str, Any]:
        capacity = (self.daily_capacity.data or "").strip()
        return {
            "accepting_leads": bool(self.accepting_leads.data),
            "daily_capacity": whole_number(capacity),
            "service_radius_km": (self.service_radius_km.data or "").strip() or None,
        }


class DealerForm(FlaskForm):
    code = StringField(_l("Store code"))
    name = StringField(_l("Store name"))
    brands = StringField(_l("Brands (separate with commas)"))
    address = StringField(_l("Address"))
    latitude = StringField(_l("Latitude (optional)"))
    longitude = StringField(_l("Longitude (optional)"))
    service_radius_km = StringField(_l("Service radius (km)"))
    region_codes = StringField(_l("Also serves these administrative codes (optional)"))
    daily_capacity = StringField(_l("Most new leads per day (blank: no limit)"))
    accepting_leads = BooleanField(_l("Accepting leads"), default=True)
    active = BooleanField(_l("Active"), default=True)
    webhook_url = StringField(_l("Webhook URL (optional)"))

    def payload(self) -> dict[str, Any]:
        data = compact(
            {
                "code": self.code.data,
                "name": self.name.data,
                "address": self.address.data,
                "latitude": self.latitude.data,
                "longitude": self.longitude.data,
                "service_radius_km": self.service_radius_km.data,
            }
        )
        brands = split_list(self.brands.data)
        if brands:
            data["brands"] = brands
        data["region_codes"] = split_list(self.region_codes.data)
        data["daily_capacity"] = whole_number((self.daily_capacity.data or "").strip())
        data["webhook_url"] = (self.webhook_url.data or "").strip() or None
        data["accepting_leads"] = bool(self.accepting_leads.data)
        data["active"] = bool(self.active.data)
        return data


class UserForm(FlaskForm):
    email = StringField(_l("Email"))
    name = StringField(_l("Name (optional)"))
    password = PasswordField(_l("First password (8 characters or more)"))
    role = SelectField(
        _l("Role"),
        choices=choices(("staff", "manager", "group_admin"), ROLE),
        validate_choice=False,
    )
    dealer_id = SelectField(_l("Store"), validate_choice=False)

    def payload(self, group_id: int | None) -> dict[str, Any]:
        data = compact(
            {
                "email": self.email.data,
                "name": self.name.data,
                "password": self.password.data,
                "role": self.role.data,
            }
        )
        if self.role.data == "group_admin":
            data["group_id"] = group_id
        elif self.dealer_id.data:
            data["dealer_id"] = whole_number(self.dealer_id.data)
        return data


_INTERVAL_SPLIT = re.compile(r"[,，;；\s]+")


def intervals_text(intervals: list | None) -> str:
    """[["09:00", "12:00"], ["13:00", "21:00"]] as "09:00-12:00, 13:00-21:00"."""
    return ", ".join(f"{start}-{end}" for start, end in intervals or [])


def text_intervals(text: str | None) -> list[list[str]]:
    """ "09:00-12:00, 13:00-21:00" as the contract's pairs; the hours core judges them (a piece
    without one "-" stays a one-item list, which it refuses as not a pair)."""
    pieces = [p for p in _INTERVAL_SPLIT.split((text or "").strip()) if p]
    return [p.replace("–", "-").split("-") for p in pieces]


class StoreHoursForm(FlaskForm):
    """A store's own weekly hours, one text per day ("09:00-21:00", blank: closed)."""

    use_group = BooleanField(_l("Go back to the group's hours"))
    mon = StringField(_l("Monday"))
    tue = StringField(_l("Tuesday"))
    wed = StringField(_l("Wednesday"))
    thu = StringField(_l("Thursday"))
    fri = StringField(_l("Friday"))
    sat = StringField(_l("Saturday"))
    sun = StringField(_l("Sunday"))
    holidays = StringField(_l("Statutory holidays (blank: the weekly hours)"))
    closed_on_holidays = BooleanField(_l("Closed on statutory holidays"))

    DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

    @classmethod
    def for_hours(cls, hours: Mapping[str, Any]) -> StoreHoursForm:
        weekly = hours.get("weekly") or {}
        holidays = hours.get("holidays")
        return cls(
            data={
                **{day: intervals_text(weekly.get(day)) for day in cls.DAYS},
                "holidays": intervals_text(holidays),
                "closed_on_holidays": holidays == [],
            }
        )

    def payload(self) -> dict[str, Any]:
        if self.use_group.data:
            return {"weekly": None}
        holidays = text_intervals(self.holidays.data)
        return {
            "weekly": {day: text_intervals(getattr(self, day).data) for day in self.DAYS},
            "holidays": [] if self.closed_on_holidays.data else (holidays or None),
        }


class ClosureForm(FlaskForm):
    starts_on = StringField(_l("First closed day"))
    ends_on = StringField(_l("Last closed day"))
    reason = StringField(_l("Why (optional)"))

    def payload(self) -> dict[str, Any]:
        return {
            "starts_on": (self.starts_on.data or "").strip() or None,
            "ends_on": (self.ends_on.data or "").strip() or None,
            "reason": (self.reason.data or "").strip() or None,
        }


class CalendarForm(FlaskForm):
    days = TextAreaField(_l("The group's own days, one day or range a line"))
