"""Plain values the whole product shares and the pure core may import: roles and brand keys."""

from __future__ import annotations

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
    """The one brand normaliser: brands match case-insensitively, ignoring surrounding and
    repeated blanks (`" BMW  i "` and `"bmw i"` are one brand)."""
    return " ".join(name.split()).casefold()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""HTTP methods that change nothing: a web session may use them on the API, and their requests
only read (uow.py)."""
