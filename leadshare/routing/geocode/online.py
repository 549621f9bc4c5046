"""Optional online geocoder (geopy): Nominatim or Baidu, rate limited, never raising.

It runs inside lead intake, so every failure (timeout, 5xx, bad JSON, bad key) is logged and
answers None: the gazetteer's answer, or ``needs_location``, then stands. Points are returned in
WGS-84: Nominatim already is; Baidu's BD-09 is converted (BD-09 -> GCJ-02 -> WGS-84).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import BaiduV3, Nominatim

from .coords import bd09_to_wgs84
from .gazetteer import Place, Precision

log = logging.getLogger(__name__)

PROVIDERS = ("nominatim", "baiduv3")

# Nominatim's ``addresstype`` (or ``type``) of the matched object -> how precise its point is.
_NOMINATIM_PRECISION = {
    "state": Precision.PROVINCE,
    "province": Precision.PROVINCE,
    "region": Precision.PROVINCE,
    "city": Precision.CITY,
    "municipality": Precision.CITY,
    "county": Precision.DISTRICT,
    "district": Precision.DISTRICT,
    "city_district": Precision.DISTRICT,
    "borough": Precision.DISTRICT,
}
# Baidu's ``level`` of the match.
_BAIDU_PRECISION = {"省": Precision.PROVINCE, "城市": Precision.CITY, "区县": Precision.DISTRICT}
_USELESS = frozenset({"country", "continent", "国家"})  # locates nothing a router can use


def _nominatim_point(
    raw: dict[str, Any], lat: float, lon: float
) -> tuple[float, float, str | None]:
    kind = str(raw.get("addresstype") or raw.get("type") or "").lower()
    if kind in _USELESS:
        return lat, lon, None
    return lat, lon, _NOMINATIM_PRECISION.get(kind, Precision.EXACT).value


def _baidu_point(raw: dict[str, Any], lat: float, lon: float) -> tuple[float, float, str | None]:
    level = str(raw.get("level") or "")
    if level in _USELESS:
        return lat, lon, None
    lat, lon = bd09_to_wgs84(lat, lon)
    return lat, lon, _BAIDU_PRECISION.get(level, Precision.EXACT).value


class OnlineGeocoder:
    """One provider behind geopy's RateLimiter; ``lookup`` never raises."""

    def __init__(
        self,
        geocoder: Any,
        provider: str,
        *,
        min_delay_seconds: float = 1.0,
        max_retries: int = 0,
        error_wait_seconds: float | None = None,
        query_kwargs: dict[str, Any] | None = None,
        interpret: Callable[[dict[str, Any], float, float], tuple[float, float, str | None]]
        | None = None,
    ) -> None:
        self.provider = provider
        self.geocoder = geocoder
        min_delay = max(0.0, float(min_delay_seconds))
        self._geocode = RateLimiter(
            geocoder.geocode,
            min_delay_seconds=min_delay,
            max_retries=max(0, int(max_retries)),
            error_wait_seconds=max(min_delay, error_wait_seconds or 0.0),
            swallow_exceptions=True,
            return_value_on_exception=None,
        )
        self._query_kwargs = dict(query_kwargs or {})
        self._interpret = interpret or _nominatim_point

    def lookup(self, text: str) -> Place | None:
        query = " ".join((text or "").split())
        if not query:
            return None
        try:
            location = self._geocode(query, exactly_one=True, **self._query_kwargs)
            if location is None:
                return None
            raw = location.raw if isinstance(location.raw, dict) else {}
            lat, lon, precision = self._interpret(
                raw, float(location.latitude), float(location.longitude)
            )
        except Exception:  # noqa: BLE001 - an online failure must never fail the intake
            log.warning("online geocoder %s failed for %r", self.provider, query, exc_info=True)
            return None
        if precision is None or not (math.isfinite(lat) and math.isfinite(lon)):
            return None
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            return None
        return Place(
            latitude=round(lat, 6),
            longitude=round(lon, 6),
            precision=precision,
            province=None,
            city=None,
            district=None,
            adcode=None,
            source=self.provider,
        )


def make_online_geocoder(
    provider: str | None,
    *,
    domain: str | None = None,
    scheme: str | None = None,
    api_key: str | None = None,
    timeout: float = 2.0,
    min_delay_seconds: float = 1.0,
    user_agent: str = "leadshare",
    max_retries: int = 0,
) -> OnlineGeocoder | None:
    """Build the configured provider, or None for ``"none"``/empty.

    A misconfiguration (unknown provider, Baidu without a key) is logged as an error and disables
    the online step instead of failing every intake that would have used it.
    """
    name = (provider or "").strip().lower()
    if name in ("", "none"):
        return None
    common = {"timeout": timeout, "user_agent": user_agent or "leadshare"}
    if name == "nominatim":
        geocoder = Nominatim(
            domain=domain or "nominatim.openstreetmap.org", scheme=scheme or "https", **common
        )
        return OnlineGeocoder(
            geocoder,
            "nominatim",
            min_delay_seconds=min_delay_seconds,
            max_retries=max_retries,
            query_kwargs={"country_codes": "cn"},
            interpret=_nominatim_point,
        )
    if name in ("baiduv3", "baidu"):
        if not api_key:
            log.error("geocoder %r needs an API key; the online geocoder is disabled", provider)
            return None
        if domain:
            log.warning("geocoder %r has a fixed host; GEOCODER_DOMAIN %r ignored", name, domain)
        geocoder = BaiduV3(api_key=api_key, scheme=scheme or "https", **common)
        return OnlineGeocoder(
            geocoder,
            "baiduv3",
            min_delay_seconds=min_delay_seconds,
            max_retries=max_retries,
            interpret=_baidu_point,
        )
    log.error("unknown geocoder %r (expected one of %s or none)", provider, ", ".join(PROVIDERS))
    return None
