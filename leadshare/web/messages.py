"""What a person reads when the service refuses: domain errors and schema errors, translated.

Services raise English messages with a machine `reason`; pages show the translated sentence
for a known reason and fall back to the service's own message for a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..errors import DomainError, Invalid
from ..leads.states import InvalidTransition
from ..leads.vin import (
    CHECK_DIGIT_INDEX,
    FORBIDDEN_LETTERS,
    VIN_LENGTH,
    check_digit,
    normalize_vin,
    vin_error,
)
from .i18n import current_language, label

REASONS = {
    "consent_required": _l(
        "This group requires the consent notice's version and how the customer agreed."
    ),
    "lead_or_user_required": _l("Name a lead or a user."),
    "not_found": _l("Not found, or not yours to see."),
    "forbidden": _l("Your role may not do this."),
    "role_not_allowed": _l("Your role may not do this."),
    "field_not_allowed": _l("A manager may change only the store's operating settings."),
    "not_shareable": _l(
        "Your store sells this brand and serves this customer's area: serve the customer yourself."
    ),
    "already_claimed": _l("Another store claimed this lead first."),
    "offer_expired": _l(
        "Your offer for this lead has expired; the lead moved on to the next store."
    ),
    "not_offered": _l("This lead was not offered to your store."),
    "invalid_transition": _l("That step is not possible for this lead any more."),
    "not_holder": _l("Only the store holding this lead may record its progress."),
    "not_referrer": _l("Only the store that posted this lead may do this."),
    "location_already_set": _l("This lead already has a location."),
    "address_not_found": _l(
        "This address could not be located. Add the city and district, e.g. 广州市天河区."
    ),
    "code_taken": _l("Another store of the group already uses this code."),
    "email_taken": _l("A user with this email already exists."),
    "unknown_dealer": _l("No such store."),
    "unknown_group": _l("No such group."),
    "unknown_oem": _l("No such OEM."),
    "cannot_deactivate_self": _l("You cannot deactivate yourself."),
    "duplicate_lead": _l("This customer was already shared in your group recently."),
    "unknown_brand": _l("No store of your group sells this brand: choose one from the list."),
    "alias_taken": _l("This alias already names another brand."),
    "ambiguous_address": _l("Several cities have a district of this name: choose the city."),
    "cannot_change_self": _l("You cannot change your own role or store."),
    "wecom_userid_taken": _l("Another user is already linked to this WeCom member."),
    "corp_id_required": _l("Give the member's corp id: the group has no WeCom app yet."),
    "not_retryable": _l("Only a dead or cancelled message can be sent again."),
    "invalid_time": _l("Write times as HH:MM, e.g. 09:00-21:00; 24:00 may end a day."),
    "end_before_start": _l("Each range ends after it starts."),
    "overlapping_intervals": _l("Two ranges of one day overlap."),
    "invalid_hours": _l("Write each day's hours as ranges, e.g. 09:00-12:00, 13:00-21:00."),
    "unknown_day": _l("Unknown day of the week."),
    "date_outside_year": _l("A day of another year: save each year's days on its own page."),
    "duplicate_day": _l("A day is given twice."),
    "return_pending": _l("This lead has a return waiting for an answer."),
    "return_decided": _l("This lead's return was already decided."),
    "not_returnable": _l("Only a lead that is accepted, contacted or visited may be returned."),
    "return_window_closed": _l("The group's return window for this lead has closed."),
    "no_return": _l("This lead was not returned."),
    "awaiting_admin": _l("This return waits for a group admin's decision."),
    "dispute_window_closed": _l("The time to contest this return has passed."),
    "not_disputed": _l("This return waits for the referrer's answer, not an admin's."),
    "lead_held": _l("A store holds this lead now: only it can change the lead."),
    "not_correctable": _l(
        "This lead can no longer be corrected (it is offered to a store or closed). Withdraw it "
        "and share the customer again if it is wrong."
    ),
    "nothing_to_correct": _l("Nothing to correct: change the brand, the model or the address."),
    "nothing_to_undo": _l("There is no step to undo: only the last progress step can be undone."),
    "undo_too_late": _l("A step can be undone within 24 hours; this one is older."),
}

SCHEMA_MESSAGES = {
    "Missing data for required field.": _l("This field is required."),
    "Field may not be null.": _l("This field is required."),
    "Shorter than minimum length 1.": _l("This field is required."),
    "Not a valid number.": _l("Enter a number."),
    "Not a valid integer.": _l("Enter a whole number."),
    "Not a valid email address.": _l("Enter a valid email address."),
    "Not a valid URL.": _l("Enter a valid web address (http:// or https://)."),
    "Give a phone number or a WeChat ID.": _l("Give a phone number or a WeChat ID."),
    "Give latitude and longitude together.": _l("Give latitude and longitude together."),
    "Give an address, or latitude and longitude.": _l("Give an address."),
    "The customer's separate consent to share their details is required (PIPL art. 23).": _l(
        "The customer's separate consent to share their details is required (PIPL art. 23)."
    ),
    "Use 1-50 letters, digits, '.', '-' or '_'.": _l("Use 1-50 letters, digits, '.', '-' or '_'."),
    "Use an administrative code of 2-12 digits.": _l("Use administrative codes of 2-12 digits."),
    "Use 8 to 200 characters.": _l("Use 8 to 200 characters."),
    "Use 1 to 64 letters, digits, _.@-.": _l("Use 1 to 64 letters, digits, _.@-."),
    "Choose a store.": _l("Choose a store."),
    "A loss for another reason needs a note.": _l("A loss for another reason needs a note."),
    "Give a brand, a model or a location to correct.": _l(
        "Give a brand, a model or a location to correct."
    ),
    "Not a valid date.": _l("Enter a date as YYYY-MM-DD."),
    "Not a valid datetime.": _l("Enter a date and time, e.g. 2026-12-04 19:30."),
    "Not a valid boolean.": _l("Choose yes or no."),
    "Give the customer's phone or WeChat ID.": _l("Give a phone number or a WeChat ID."),
    "The program cannot end before it starts.": _l("The program cannot end before it starts."),
    "Unknown time zone; use an IANA name like Asia/Shanghai.": _l(
        "Unknown time zone; use a name like Asia/Shanghai."
    ),
    "A store has one code per OEM.": _l("A store has one code per OEM."),
}
_SCHEMA_PREFIXES = (
    ("Length must be", _l("Too long or too short.")),
    ("Shorter than", _l("Too short.")),
    ("Longer than", _l("Too long.")),
    ("Must be greater", _l("Out of the allowed range.")),
    ("Must be less", _l("Out of the allowed range.")),
    ("Must be one of", _l("Choose one of the listed options.")),
    ("Use a date between", _l("This date is outside the allowed range.")),
    ("Use a time between", _l("This time is outside the allowed range.")),
    ("At most ", _l("Too many days at once for this period.")),
    ("Not a valid", _l("This value is not valid.")),
)
_SCHEMA_PARTS = (
    (": amounts must be positive", _l("Amounts must be more than 0.")),
    ("is too large: at most", _l("This amount is too large.")),
    ("has more than 2 decimal places", _l("Amounts have at most 2 decimal places.")),
    ("is not an amount", _l("Enter an amount, e.g. 200.00.")),
    (" must be after ", _l("The end must be after the start.")),
)
_PHONE_HINTS = ("not a phone number", "not a valid phone number", "carries an extension")


def schema_message(message: str) -> str:
    """A marshmallow message in the reader's language (an unknown one: the English original for
    English readers, a general sentence for the others)."""
    known = SCHEMA_MESSAGES.get(message)
    if known is not None:
        return str(known)
    if any(hint in message for hint in _PHONE_HINTS):
        return _("This is not a valid phone number; check the digits.")
    for prefix, text in _SCHEMA_PREFIXES:
        if message.startswith(prefix):
            return str(text)
    for part, text in _SCHEMA_PARTS:
        if part in message:
            return str(text)
    # a message no one translated yet: English readers get it as it is, others a sentence in
    # their language (never developer English on a Chinese page)
    return message if current_language() == "en" else _("This value is not valid.")


def flatten_errors(messages: Mapping[str, Any], prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested {field: [msg] | {...}} as {"customer.phone": [translated msg]}."""
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_errors(value, f"{path}."))
        else:
            items = value if isinstance(value, list) else [value]
            flat[path] = [schema_message(str(item)) for item in items]
    return flat


def vin_problem(vin: str) -> str | None:
    """Why a VIN is refused, in the reader's language; the verdict is leads.vin's."""
    if vin_error(vin) is None:
        return None
    vin = normalize_vin(vin)
    if len(vin) != VIN_LENGTH:
        return _("A VIN has 17 characters; this one has %(count)d.", count=len(vin))
    for position, char in enumerate(vin, start=1):
        if char in FORBIDDEN_LETTERS:
            return _(
                "A VIN never contains the letter %(letter)s (position %(position)d).",
                letter=char,
                position=position,
            )
        if not (char.isascii() and char.isalnum()):
            return _(
                "A VIN has only letters and digits, not %(char)s (position %(position)d).",
                char=char,
                position=position,
            )
    return _(
        "The check digit (position 9) is %(found)s but the other characters need %(expected)s: "
        "check the VIN for a typo.",
        found=vin[CHECK_DIGIT_INDEX],
        expected=check_digit(vin),
    )


def domain_message(error: DomainError) -> str:
    """The sentence to flash for a refusal."""
    if isinstance(error, InvalidTransition):
        return _(
            "A lead that is %(current)s cannot move to %(target)s.",
            current=label("status", str(error.current)),
            target=label("status", str(error.target)),
        )
    if error.reason == "missing_field" and isinstance(error, Invalid):
        return _("This step needs: %(field)s.", field=label("field", error.field))
    if error.reason == "unknown_brand" and error.extra.get("suggestions"):
        return _(
            "No store of your group sells this brand. Did you mean %(brands)s?",
            brands=" / ".join(error.extra["suggestions"]),
        )
    known = REASONS.get(error.reason)
    return str(known) if known is not None else error.message


def flash_refusal(error: DomainError) -> None:
    """Tell the person why the service refused, in their language (its unit of work has
    already rolled back: nothing to undo here)."""
    flash(domain_message(error), "error")
