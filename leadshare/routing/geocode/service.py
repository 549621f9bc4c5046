"""The geocoding chain of SPEC section 4 with its database cache, configured from the settings."""

from __future__ import annotations

import logging

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


def geocode_address(address: str) -> Place | None:
    """Resolve an address through the cache, then the chain; only answers are cached.

    A read: call it before the unit of work (it may go to the network). A new answer is kept
    in the session and stored by the unit of work that commits next (`_store_learned`).
    """
    key = normalise_address(address or "")
    if not key:
        return None
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
