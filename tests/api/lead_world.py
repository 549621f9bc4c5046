"""A small dealer network in Shenzhen and Guangzhou for lead tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leadshare.vocabulary import Role

SZ_NANSHAN = (22.5333, 113.9305)
SZ_FUTIAN = (22.5410, 114.0550)
GZ_TIANHE = (23.1246, 113.3613)
GZ_BAIYUN = (23.1575, 113.2733)
GZ_PANYU = (22.9377, 113.3843)
CUSTOMER_IN_TIANHE = {"latitude": 23.1300, "longitude": 113.3600}


@dataclass
class World:
    group: Any
    referrer: Any
    tianhe: Any
    baiyun: Any
    panyu: Any
    futian_toyota: Any
    users: dict[str, Any]
    headers: dict[str, dict[str, str]]


def build_world(make, auth, **group_settings) -> World:
    group = make.group(**group_settings)
    referrer = make.dealer(group, code="SZ1", name="深圳南山奥迪", brands=["奥迪"], at=SZ_NANSHAN)
    tianhe = make.dealer(
        group, code="GZ1", name="广州天河奥迪", brands=["奥迪"], at=GZ_TIANHE, service_radius_km=40
    )
    baiyun = make.dealer(
        group,
        code="GZ2",
        name="广州白云奥迪",
        brands=["奥迪", "大众"],
        at=GZ_BAIYUN,
        service_radius_km=40,
    )
    panyu = make.dealer(
        group, code="GZ3", name="广州番禺奥迪", brands=["奥迪"], at=GZ_PANYU, service_radius_km=40
    )
    futian = make.dealer(
        group, code="SZ2", name="深圳福田丰田", brands=["丰田"], at=SZ_FUTIAN, service_radius_km=30
    )
    users = {
        "referrer": make.user(Role.STAFF, dealer=referrer),
        "tianhe": make.user(Role.STAFF, dealer=tianhe),
        "tianhe2": make.user(Role.MANAGER, dealer=tianhe),
        "baiyun": make.user(Role.STAFF, dealer=baiyun),
        "panyu": make.user(Role.STAFF, dealer=panyu),
        "futian": make.user(Role.STAFF, dealer=futian),
        "admin": make.user(Role.GROUP_ADMIN, group=group),
    }
    headers = {name: auth(user) for name, user in users.items()}
    return World(group, referrer, tianhe, baiyun, panyu, futian, users, headers)


def lead_payload(**overrides: Any) -> dict[str, Any]:
    payload = {
        "customer": {"name": "张三", "phone": "138 1234 5678"},
        "location": dict(CUSTOMER_IN_TIANHE),
        "brand": "奥迪",
        "model": "A6L",
        "budget": "40-50万",
        "timeframe": "1m",
        "source": {"channel": "livestream", "campaign": "双11直播"},
        "consent_to_share": True,
        "notes": "客户周末有空",
    }
    payload.update(overrides)
    return payload
