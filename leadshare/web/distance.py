"""How far a customer is from the reader's store, in words a store can act on.

A district-precision place is the district's centroid, not the customer: "0.0 km" from it says
nothing. Such a place reads "same district" when it is the store's district, else "about N km"
in whole kilometres (at least 1); so does every place a store sees masked (SPEC 8).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_login import current_user

from ..leads.presenter import COARSE_PRECISIONS


def _store_adcode() -> str | None:
    store = getattr(current_user, "dealer", None)
    return getattr(store, "adcode", None)


def _coarse(location: dict[str, Any], masked: bool) -> bool:
    return masked or location.get("precision") in COARSE_PRECISIONS


def km_text(km: float, location: dict[str, Any], masked: bool) -> str:
    """A distance on the lead's trail: about N km (at least 1) unless the point is exact and
    the reader may see it."""
    if _coarse(location, masked):
        return _("About %(km)d km", km=max(1, round(km)))
    return _("%(km).1f km", km=km)


def distance_text(km: float | None, location: dict[str, Any], masked: bool) -> str:
    """Same district, about N km, or (an exact point the reader may see) N.N km from the store."""
    if km is None:
        return ""
    if not _coarse(location, masked):
        return _("%(km).1f km from your store", km=km)
    adcode, store = location.get("adcode"), _store_adcode()
    if adcode and store and len(adcode) >= 6 and adcode[:6] == store[:6]:
        return _("In your store's district")
    return _("About %(km)d km from your store", km=max(1, round(km)))
