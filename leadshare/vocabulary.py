"""Plain values the whole product shares and the pure core may import: roles and brand keys."""

from __future__ import annotations

import unicodedata
from enum import StrEnum


class Role(StrEnum):
    STAFF = "staff"
    MANAGER = "manager"
    GROUP_ADMIN = "group_admin"
    OEM_AUDITOR = "oem_auditor"
    PLATFORM_ADMIN = "platform_admin"


DEALER_ROLES = (Role.STAFF, Role.MANAGER)
"""Dealer staff: they act through their own store."""


def brand_key(name: str) -> str:
    """The one brand normaliser: brands match ignoring case, width and blanks (`" ＢＭＷ i "`,
    `"bmw i"` and `"BMWi"` are one brand); aliases are the catalogue's (leadshare/brands)."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""HTTP methods that change nothing: a web session may use them on the API, and their requests
only read (uow.py)."""
