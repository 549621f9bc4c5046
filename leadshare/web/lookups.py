"""What the pages show in pickers and beside ids: store labels, and the signed-in reader's
lookups, asked of the tenancy services (which check the scope; never an access decision)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_login import current_user

from ..auth.models import User
from ..tenancy import service


def actor() -> User:
    """The signed-in reader of the page (the user object behind Flask-Login's proxy)."""
    return current_user._get_current_object()


def group_brands(group_id: int) -> list[str]:
    """The brands some store of the group sells: suggestions for the post-a-lead form."""
    return service.group_brands(actor(), group_id)


def oem_brands(oem_id: int) -> list[str]:
    return service.oem_brands(actor(), oem_id)


def group_dealers(group_id: int) -> list[Any]:
    """The group's stores by code, for store pickers."""
    return service.group_dealers(actor(), group_id)


def store_label(dealer: Any) -> str:
    """How the pages name a store: its code, then its name (`GZ01 广州天河…`)."""
    return f"{dealer.code} {dealer.name}"


def store_names(dealers: Iterable[Any]) -> dict[int, str]:
    """`{id: "GZ01 广州天河…"}` for stores (or rows with id, code and name)."""
    return {dealer.id: store_label(dealer) for dealer in dealers}


def dealer_names(ids: Iterable[int | None]) -> dict[int, str]:
    """`{id: "GZ01 广州天河…"}` for the stores a routing decision mentions."""
    return store_names(service.dealer_labels(actor(), ids))
