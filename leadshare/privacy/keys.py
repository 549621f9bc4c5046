"""The keyed hashes that stand for a customer's phone and WeChat ID once they are erased."""

from __future__ import annotations

import hashlib

from flask import current_app

from ..leads.contact import contact_key


def contact_secret() -> bytes:
    """The key of the contact hashes, derived from SECRET_KEY (the same on every host)."""
    secret = current_app.config["SECRET_KEY"]
    return hashlib.sha256(f"leadshare.privacy.contact-key:{secret}".encode()).digest()


def phone_key(phone: str | None) -> str | None:
    """The keyed hash of a normalised (E.164) phone."""
    return contact_key(contact_secret(), "phone", phone)


def wechat_key(wechat_id: str | None) -> str | None:
    return contact_key(contact_secret(), "wechat", wechat_id)
