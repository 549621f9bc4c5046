"""The geocoding chain of SPEC section 4 without its cache: gazetteer first, then online.

The offline gazetteer answers most addresses instantly and for free; the online provider is only
asked when the gazetteer has nothing or only a province, and only a strictly more precise online
answer that does not contradict the gazetteer's province replaces it. Online answers get their
admin names and code from the gazetteer's nearest district, so routing by region code works.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Protocol

from .gazetteer import Gazetteer, Place, Precision

log = logging.getLogger(__name__)

_RANK: dict[str, int] = {
    Precision.PROVINCE: 0,
    Precision.CITY: 1,
    Precision.DISTRICT: 2,
    Precision.EXACT: 3,
}


class _Online(Protocol):
    def lookup(self, text: str) -> Place | None: ...


def _rank(place: Place) -> int:
    return _RANK.get(place.precision, 0)


class GeocodeChain:
    def __init__(self, gazetteer: Gazetteer, online: _Online | None = None) -> None:
        self.gazetteer = gazetteer
        self.online = online

    def geocode(self, address: str) -> Place | None:
        local = self.gazetteer.lookup(address or "")
        if self.online is None or (local is not None and local.precision != Precision.PROVINCE):
            return local
        try:
            remote = self.online.lookup(address)
        except Exception:  # noqa: BLE001 - the online step must never fail the intake
            log.warning("online geocoder failed for %r", address, exc_info=True)
            remote = None
        if remote is None:
            return local
        remote = self._with_admin(remote)
        if local is not None:
            if _rank(remote) <= _rank(local):
                return local
            if remote.province and remote.province != local.province:
                log.info("online answer for %r contradicts the province; kept", address)
                return local
        return remote

    def geocode_many(self, addresses: list[str]) -> list[Place | None]:
        """``geocode`` of each address in order: the gazetteer in one batch, then the online
        step only for the addresses it leaves at province precision or unresolved."""
        local = self.gazetteer.lookup_many(addresses)
        if self.online is None:
            return local
        return [
            place
            if place is not None and place.precision != Precision.PROVINCE
            else self.geocode(address)
            for address, place in zip(addresses, local, strict=True)
        ]

    def from_coordinates(self, latitude: float, longitude: float) -> Place:
        """Client coordinates (precision exact) with the nearest district's names and code."""
        place = Place(
            latitude=float(latitude),
            longitude=float(longitude),
            precision=Precision.EXACT.value,
            province=None,
            city=None,
            district=None,
            adcode=None,
            source="client",
        )
        return self._with_admin(place)

    def _with_admin(self, place: Place) -> Place:
        """Fill missing admin names/code from the nearest district, to the place's precision."""
        if place.adcode is not None:
            return place
        hint = self.gazetteer.nearest_district(place.latitude, place.longitude)
        if hint is None or hint.adcode is None:
            return place
        rank = _rank(place)
        if rank >= _RANK[Precision.DISTRICT] or (rank and hint.district is None):
            admin = hint
        else:  # a city- or province-wide point: do not claim the district it happens to be near
            admin = self.gazetteer.by_adcode(hint.adcode[: 4 if rank else 2]) or hint
        return replace(
            place,
            province=admin.province,
            city=admin.city,
            district=admin.district,
            adcode=admin.adcode,
        )
