"""Geocoding of SPEC section 4: offline gazetteer, optional online provider, and their chain."""

from .chain import GeocodeChain
from .gazetteer import Gazetteer, Place, Precision, normalise_address
from .online import OnlineGeocoder, make_online_geocoder

__all__ = [
    "GeocodeChain",
    "Gazetteer",
    "OnlineGeocoder",
    "Place",
    "Precision",
    "make_online_geocoder",
    "normalise_address",
]
