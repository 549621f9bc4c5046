"""The geocoding chain of SPEC section 4 with its database cache, configured from the settings."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...errors import NotFound
from ...extensions import db
from ...settings import current_settings
from .chain import GeocodeChain
from .gazetteer import Gazetteer, Place, normalise_address
from .models import GeocodeCacheEntry
from .online import make_online_geocoder

log = logging.getLogger(__name__)


def _chain() -> GeocodeChain:
    """One chain per app: the online geocoder keeps its rate limiter between requests."""
    chain = current_app.extensions.get("leadshare.geocode_chain")
    if chain is None:
        geocoder = current_settings().geocoder
        online = make_online_geocoder(
            geocoder.provider,
            domain=geocoder.domain,
            scheme=geocoder.scheme,
            api_key=geocoder.api_key,
            timeout=geocoder.timeout,
            min_delay_seconds=geocoder.min_delay,
            user_agent=geocoder.user_agent,
        )
        chain = GeocodeChain(Gazetteer.default(), online)
        current_app.extensions["leadshare.geocode_chain"] = chain
    return chain


def _cached(key: str) -> Place | None:
    cached = db.session.scalar(db.select(GeocodeCacheEntry).filter_by(key=key))
    return None if cached is None else Place(**cached.result)


LEARNED = "leadshare.geocoded"
"""Session info: answers the online chain gave in this request, stored by the next commit."""


AHEAD = "leadshare.geocoded_ahead"
"""Session info: answers `geocode_many` found for a batch, read by `geocode_address` until the
next commit (a dealer import locates all its rows first, then writes them)."""


def geocode_many(addresses: Iterable[str]) -> dict[str, Place | None]:
    """Resolve many addresses at once: one cache query, the gazetteer in one batch, the online
    step only where the gazetteer has nothing better than a province.

    A read, like `geocode_address`, which then answers these addresses from the session until
    the next commit; returns ``{normalised address: place or None}``.
    """
    keys: dict[str, str] = {}
    for address in addresses:
        key = normalise_address(address or "")
        if key:
            keys.setdefault(key, address)
    found: dict[str, Place | None] = {}
    wanted = list(keys)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = db.session.scalars(
            db.select(GeocodeCacheEntry).where(GeocodeCacheEntry.key.in_(chunk))
        )
        found.update({row.key: Place(**row.result) for row in rows})
    missing = [key for key in wanted if key not in found]
    places = _chain().geocode_many([keys[key] for key in missing])
    learned = db.session().info.setdefault(LEARNED, {})
    for key, place in zip(missing, places, strict=True):
        found[key] = place
        if place is not None:
            learned[key] = place
    db.session().info.setdefault(AHEAD, {}).update(found)
    return found


def geocode_address(address: str) -> Place | None:
    """Resolve an address through the cache, then the chain; only answers are cached.

    A read: call it before the unit of work (it may go to the network). A new answer is kept
    in the session and stored by the unit of work that commits next (`_store_learned`).
    """
    key = normalise_address(address or "")
    if not key:
        return None
    ahead = db.session().info.get(AHEAD, {})
    if key in ahead:
        return ahead[key]
    cached = _cached(key)
    if cached is not None:
        return cached
    place = _chain().geocode(address)
    if place is not None:
        db.session().info.setdefault(LEARNED, {})[key] = place
    return place


@event.listens_for(Session, "before_commit")
def _store_learned(session: Session) -> None:
    """Cache what the chain learned, in the committing unit of work's transaction."""
    session.info.pop(AHEAD, None)
    for key, place in session.info.pop(LEARNED, {}).items():
        try:
            with session.begin_nested():
                session.add(GeocodeCacheEntry(key=key, result=place.to_dict()))
        except IntegrityError:  # a concurrent request cached it first
            log.debug("geocode cache race on %r", key)


def locate(address: str) -> Place:
    """The geocode endpoint, a read: the cache, else the chain; it stores nothing (intake does)."""
    key = normalise_address(address or "")
    place = (_cached(key) or _chain().geocode(address)) if key else None
    if place is None:
        raise NotFound(f"Could not locate {address!r}.", reason="not_found")
    return place
