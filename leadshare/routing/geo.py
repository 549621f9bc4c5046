"""Great-circle geometry for routing: distances on a spherical Earth and safe search boxes."""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), the radius every distance in leadshare is measured with."""

_BOX_SLACK_DEG = 1e-9


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in decimal degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """A (min_lat, max_lat, min_lon, max_lon) box containing every point within radius_km.

    The box is a superset, meant as a cheap index pre-filter before the exact haversine check.
    Longitudes are widened by the exact tangent-meridian formula; when the circle reaches a
    pole or crosses the antimeridian the whole longitude range (-180, 180) is returned.
    """
    angular = max(radius_km, 0.0) / EARTH_RADIUS_KM
    dlat = math.degrees(angular) + _BOX_SLACK_DEG
    min_lat, max_lat = lat - dlat, lat + dlat
    if min_lat <= -90.0 or max_lat >= 90.0:
        return max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0
    ratio = math.sin(angular) / math.cos(math.radians(lat))
    if ratio >= 1.0:
        return min_lat, max_lat, -180.0, 180.0
    dlon = math.degrees(math.asin(ratio)) + _BOX_SLACK_DEG
    min_lon, max_lon = lon - dlon, lon + dlon
    if min_lon < -180.0 or max_lon > 180.0:
        return min_lat, max_lat, -180.0, 180.0
    return min_lat, max_lat, min_lon, max_lon
