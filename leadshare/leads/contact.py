"""Customer contact details: phones normalised to valid E.164, masked forms for restricted views."""

from __future__ import annotations

import hashlib
import hmac
import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

DEFAULT_REGION = "CN"
MASK = "*"
HIDDEN_WECHAT = "***"
MAX_SHOWN_HEAD = 3
MAX_SHOWN_TAIL = 4
MIN_MASKED_DIGITS = 4

_PARSE_ERRORS: dict[int, str] = {
    NumberParseException.INVALID_COUNTRY_CODE: "its country code is missing or not recognised",
    NumberParseException.NOT_A_NUMBER: "it does not look like a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "it is too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "it is too short",
    NumberParseException.TOO_LONG: "it is too long",
}


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """The E.164 form of a valid phone number.

    ValueError when unparseable, invalid or with an extension.

    Numbers without a country code are read in `region` (CN by default); full-width digits,
    blanks, dashes, brackets and the 00 international prefix are accepted; letters are not
    (no vanity numbers, no "ext"), because E.164 cannot carry an extension.
    """
    text = raw.strip()
    if not text:
        raise ValueError("a phone number is required")
    if any(char.isalpha() for char in text):
        raise ValueError(f"{raw!r} is not a phone number: it contains letters")
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as error:
        reason = _PARSE_ERRORS.get(error.error_type, "it cannot be read")
        raise ValueError(f"{raw!r} is not a phone number: {reason}") from error
    if number.extension:
        raise ValueError(f"{raw!r} carries an extension; give the customer's direct number")
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def mask_phone(e164: str | None) -> str | None:
    """The national number with at most its first 3 and last 4 digits shown: `138****5678`.

    At least 4 digits are always starred, so at most 7 are shown (an 11-digit CN mobile shows
    exactly 3 + 4); a shorter number gives up leading digits first. A value that does not
    parse as E.164 is masked the same way over all its digits.
    """
    if e164 is None:
        return None
    digits = _national_digits(e164)
    masked = max(MIN_MASKED_DIGITS, len(digits) - MAX_SHOWN_HEAD - MAX_SHOWN_TAIL)
    shown = max(0, len(digits) - masked)
    tail = min(MAX_SHOWN_TAIL, shown)
    head = shown - tail
    return digits[:head] + MASK * (len(digits) - head - tail) + digits[len(digits) - tail :]


def mask_wechat(wechat_id: str | None) -> str | None:
    """A WeChat ID is hidden entirely: `***` when one is on file, None when there is none."""
    if wechat_id is None or not wechat_id.strip():
        return None
    return HIDDEN_WECHAT


def mask_name(name: str) -> str:
    """Only the first character (the surname) is shown, every other one starred: `张**`."""
    text = name.strip()
    if not text:
        return ""
    return text[0] + MASK * max(1, len(text) - 1)


def _national_digits(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return "".join(char for char in e164 if char.isdecimal())
    return phonenumbers.national_significant_number(number)


REMOVED = "[…]"
_DIGIT = "[0-9０-９]"
_PHONE_IN_TEXT = re.compile(
    rf"(?:(?:\+|＋|00)\s?{_DIGIT}{{1,3}}[\s\-－]?)?(?:\(?{_DIGIT}\)?[\s\-－.]?){{6,}}{_DIGIT}"
)
_WECHAT_IN_TEXT = re.compile(
    r"(微信号?|威信|薇信|v信|V信|vx|VX|wx|WX|weixin|wechat(?:\s*id)?)(\s*[:：=]?\s*)"
    r"([A-Za-z][-_A-Za-z0-9]{5,19}|[0-9]{6,15})",
    re.IGNORECASE,
)


def redact_contacts(text: str | None, known: tuple[str | None, ...] = ()) -> str | None:
    """A note with phone numbers (7 or more digits, with blanks, dashes or a country code) and
    WeChat IDs (after 微信/vx/wechat..., and the customer's own) replaced by `[…]`: what a store
    that does not hold the lead may read of the referrer's note."""
    if text is None:
        return None
    for value in filter(None, known):
        if len(value) >= 4:
            text = text.replace(value, REMOVED)
    text = _WECHAT_IN_TEXT.sub(lambda m: m.group(1) + m.group(2) + REMOVED, text)
    return _PHONE_IN_TEXT.sub(REMOVED, text)


def contact_key(secret: str | bytes, kind: str, value: str | None) -> str | None:
    """A keyed hash (HMAC-SHA256) of a normalised phone or a WeChat ID: equal contacts give equal
    keys, and without the secret the key cannot be turned back into the contact."""
    if value is None or not value.strip():
        return None
    key = secret.encode() if isinstance(secret, str) else secret
    message = f"{kind}:{value.strip()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
