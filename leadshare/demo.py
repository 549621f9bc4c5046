"""Demo data: one dealer group with stores in real Chinese cities and a user of every role."""

from __future__ import annotations

from sqlalchemy import select

from .auth.models import User
from .extensions import db
from .settings import Settings
from .tenancy.models import Dealer, Group, Oem
from .tenancy.service import (
    add_dealer,
    console_operator,
    create_group,
    create_oem,
    create_user,
    dealer_place,
)
from .uow import unit_of_work
from .vocabulary import Role

DEMO_PASSWORD = "leadshare-demo"
DEMO_GROUP_CODE = "DEMO"

OEMS = {
    "一汽-大众 FAW-Volkswagen": ["大众", "奥迪"],
    "广汽丰田 GAC Toyota": ["丰田"],
    "华晨宝马 BMW Brilliance": ["宝马"],
}

# (code prefix, city, address prefix, [(district, brands, radius_km)]): real districts.
STORES: list[tuple[str, str, str, list[tuple[str, list[str], float]]]] = [
    (
        "BJ",
        "北京",
        "北京市",
        [
            ("朝阳区", ["奥迪", "大众"], 40),
            ("海淀区", ["宝马"], 40),
            ("丰台区", ["丰田"], 40),
            ("大兴区", ["大众"], 35),
        ],
    ),
    (
        "SH",
        "上海",
        "上海市",
        [
            ("浦东新区", ["宝马", "奥迪"], 40),
            ("闵行区", ["大众"], 35),
            ("嘉定区", ["丰田", "大众"], 35),
            ("徐汇区", ["奥迪"], 30),
        ],
    ),
    (
        "GZ",
        "广州",
        "广东省广州市",
        [("天河区", ["丰田", "奥迪"], 40), ("番禺区", ["大众"], 35), ("白云区", ["宝马"], 40)],
    ),
    (
        "SZ",
        "深圳",
        "广东省深圳市",
        [
            ("南山区", ["奥迪", "宝马"], 35),
            ("龙岗区", ["大众", "丰田"], 35),
            ("宝安区", ["丰田"], 30),
        ],
    ),
    (
        "HZ",
        "杭州",
        "浙江省杭州市",
        [("西湖区", ["宝马", "奥迪"], 45), ("萧山区", ["大众"], 40), ("余杭区", ["丰田"], 40)],
    ),
    ("NJ", "南京", "江苏省南京市", [("江宁区", ["大众", "奥迪"], 45), ("鼓楼区", ["宝马"], 40)]),
    ("SU", "苏州", "江苏省苏州市", [("吴中区", ["奥迪"], 40), ("昆山市", ["大众", "丰田"], 35)]),
    (
        "CD",
        "成都",
        "四川省成都市",
        [("武侯区", ["奥迪", "大众"], 50), ("成华区", ["丰田"], 50), ("双流区", ["宝马"], 50)],
    ),
    ("CQ", "重庆", "重庆市", [("渝北区", ["大众", "丰田"], 50), ("九龙坡区", ["奥迪"], 50)]),
    (
        "WH",
        "武汉",
        "湖北省武汉市",
        [("江汉区", ["大众"], 45), ("洪山区", ["丰田", "宝马"], 45), ("汉阳区", ["奥迪"], 40)],
    ),
    ("XA", "西安", "陕西省西安市", [("雁塔区", ["大众", "奥迪"], 50), ("未央区", ["丰田"], 50)]),
    ("CS", "长沙", "湖南省长沙市", [("岳麓区", ["丰田", "大众"], 50), ("雨花区", ["宝马"], 50)]),
    ("ZZ", "郑州", "河南省郑州市", [("金水区", ["大众", "奥迪"], 50), ("二七区", ["丰田"], 50)]),
    ("TJ", "天津", "天津市", [("河西区", ["丰田", "大众"], 40), ("滨海新区", ["宝马"], 45)]),
    ("QD", "青岛", "山东省青岛市", [("市南区", ["奥迪"], 45), ("黄岛区", ["大众", "丰田"], 45)]),
    ("XM", "厦门", "福建省厦门市", [("思明区", ["宝马", "丰田"], 40), ("集美区", ["大众"], 40)]),
    ("JN", "济南", "山东省济南市", [("历下区", ["大众", "宝马"], 50), ("槐荫区", ["奥迪"], 50)]),
]


def _stores() -> list[tuple[dict, dict]]:
    """Every demo store's fields and place, located before the unit of work opens."""
    stores = []
    for prefix, city, address, districts in STORES:
        for n, (district, brands, radius) in enumerate(districts, start=1):
            data = {
                "code": f"{prefix}{n:02d}",
                "name": f"{city}{district}{'·'.join(brands)}店",
                "brands": brands,
                "address": f"{address}{district}",
                "service_radius_km": radius,
            }
            stores.append((data, dealer_place(data)))
    return stores


def load_demo(settings: Settings) -> Group | None:
    """Create the demo group, OEMs, stores and users once; None when it already exists."""
    if db.session.scalar(select(Group).where(Group.code == DEMO_GROUP_CODE)):
        return None
    stores = _stores()
    operator = console_operator()

    def user(email: str, role: Role, **place) -> None:
        data = {"email": email, "password": DEMO_PASSWORD, "role": role, **place}
        create_user(operator, data, settings)

    with unit_of_work():
        group = create_group(
            operator, {"name": "示范汽车集团 Demo Auto Group", "code": DEMO_GROUP_CODE}
        )
        oems = {}
        for name, brands in OEMS.items():
            oem = db.session.scalar(select(Oem).where(Oem.name == name))
            oems[name] = oem or create_oem(operator, {"name": name, "brands": brands})
        dealers = {data["code"]: add_dealer(group.id, data, place) for data, place in stores}
        db.session.flush()
        if not db.session.scalar(select(User).where(User.role == Role.PLATFORM_ADMIN)):
            user("admin@demo.leadshare.cn", Role.PLATFORM_ADMIN)
        user("group.admin@demo.leadshare.cn", Role.GROUP_ADMIN, group_id=group.id)
        user(
            "auditor.vw@demo.leadshare.cn",
            Role.OEM_AUDITOR,
            oem_id=oems["一汽-大众 FAW-Volkswagen"].id,
        )
        for code in ("SZ01", "GZ01", "SH01", "BJ01"):
            lower, dealer_id = code.lower(), dealers[code].id
            user(f"staff.{lower}@demo.leadshare.cn", Role.STAFF, dealer_id=dealer_id)
            user(f"manager.{lower}@demo.leadshare.cn", Role.MANAGER, dealer_id=dealer_id)
    _demo_story(group)
    return group


def _demo_story(group: Group) -> None:
    """A reward program and a few leads in every state, made through the real services."""
    from datetime import date

    from .leads import intake, offers, progress
    from .rewards import programs as rewards

    def user(email: str) -> User:
        return db.session.scalar(select(User).where(User.email == email))

    admin = user("group.admin@demo.leadshare.cn")
    rewards.create_program(
        admin,
        {
            "name": "2026 集团转介绍奖励",
            "starts_on": date(2026, 1, 1),
            "budget": 5_000_000,
            "per_dealer_monthly_cap": 1_000_000,
            "rules": [
                {"event": "accepted", "amount": 5_000},
                {"event": "visited", "amount": 10_000},
                {"event": "delivered", "amount": 50_000},
                {"event": "delivered", "amount": 80_000, "brand": "奥迪"},
            ],
        },
    )
    _demo_oem_codes(admin, group)
    sz, gz, sh = (user(f"staff.{c}@demo.leadshare.cn") for c in ("sz01", "gz01", "sh01"))

    def share(actor: User, name: str, phone: str, address: str, brand: str, channel: str):
        return intake.post_lead(
            actor,
            {
                "customer": {"name": name, "phone": phone},
                "location": {"address": address},
                "brand": brand,
                "source": {"channel": channel},
                "model": None,
                "notes": None,
            },
        )

    delivered = share(
        sz, "陈先生", "+8613800138001", "广东省广州市天河区体育西路", "奥迪", "livestream"
    )
    offers.claim_lead(gz, delivered.public_id)
    progress.record_progress(gz, delivered.public_id, {"status": "visited"})
    progress.record_progress(
        gz,
        delivered.public_id,
        {"status": "delivered", "vin": "LSVAU2A31N2123456", "order_ref": "GZ-2026-0001"},
    )
    share(sz, "林女士", "+8613900139002", "上海市浦东新区张江", "宝马", "short_video")
    accepted = share(
        gz, "黄先生", "+8613700137003", "广东省深圳市南山区科技园", "奥迪", "vertical_media"
    )
    offers.claim_lead(sz, accepted.public_id)
    share(sh, "周女士", "+8613600136004", "江苏省苏州市吴中区", "奥迪", "event")
    share(sz, "吴先生", "+8618600186005", "新疆乌鲁木齐市天山区", "丰田", "wecom")


OEM_CODE_PREFIXES = {
    "一汽-大众 FAW-Volkswagen": "FV",
    "广汽丰田 GAC Toyota": "GT",
    "华晨宝马 BMW Brilliance": "BB",
}
"""The demo OEMs' dealer codes are prefix-store code (FV-GZ01): what their retail reports name."""


def _demo_oem_codes(admin: User, group: Group) -> None:
    """Every demo store's code with each OEM whose brands it sells, set as a group admin would."""
    from .retail.codes import set_oem_codes

    oems = db.session.scalars(select(Oem).where(Oem.name.in_(OEM_CODE_PREFIXES))).all()
    dealers = db.session.scalars(
        select(Dealer).where(Dealer.group_id == group.id).order_by(Dealer.code)
    ).all()
    for dealer in dealers:
        codes = [
            {"oem_id": oem.id, "code": f"{OEM_CODE_PREFIXES[oem.name]}-{dealer.code}"}
            for oem in oems
            if set(oem.brands) & set(dealer.brands)
        ]
        if codes:
            set_oem_codes(admin, dealer.id, codes)
