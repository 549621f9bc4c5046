"""Ambiguous addresses: a district several cities share, and nothing else in the text settles
which (`朝阳区建国路`: 北京 or 长春). The person is asked "which city?" instead of a guess."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .geocode.gazetteer import Gazetteer


def address_candidates(address: str | None) -> list[dict[str, Any]]:
    """The places an address may mean, as `{province, city, district, adcode}` items; [] when
    the gazetteer settles it (or knows nothing of it)."""
    if not address:
        return []
    return [asdict(c) for c in Gazetteer.default().match(address).candidates]


def qualified_address(candidate: dict[str, Any], address: str) -> str:
    """The address with the chosen city written in front (`长春市` + `朝阳区建国路`): the
    answer to "which city?" that the geocoder then settles."""
    province, city = candidate.get("province") or "", candidate.get("city") or ""
    district = candidate.get("district") or ""
    head = (province if province != city else "") + city
    text = address.strip()
    if district and district not in text:
        text = district + text
    return text if text.startswith(head) else head + text
