"""Platform admin pages for groups and OEMs: the API's services and scope rules on pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadshare.extensions import db
from leadshare.tenancy.models import Group, Oem
from leadshare.vocabulary import Role

from .pages import Browser

GROUP_FORM = {
    "name": "华南汽车集团",
    "code": "SOUTH",
    "timezone": "Asia/Shanghai",
    "offer_ttl_minutes": "90",
    "max_offers_per_lead": "3",
    "dedup_window_days": "30",
}


@pytest.fixture
def platform(app, make):
    return Browser(app, make.user(Role.PLATFORM_ADMIN))


def group_row(app, code: str) -> Group | None:
    with app.app_context():
        group = db.session.scalar(select(Group).where(Group.code == code))
        if group is not None:
            db.session.expunge(group)
        return group


def test_platform_admin_creates_and_edits_a_group(app, platform):
    assert platform.get("/platform/groups/new").status_code == 200
    created = platform.post("/platform/groups/new", **GROUP_FORM)
    assert created.status_code == 302, created.text
    group = group_row(app, "SOUTH")
    assert (group.offer_ttl_minutes, group.max_offers_per_lead) == (90, 3)
    assert "SOUTH" in platform.get("/platform/groups").text
    edited = platform.post(
        f"/platform/groups/{group.id}", **{**GROUP_FORM, "offer_ttl_minutes": "45"}
    )
    assert edited.status_code == 302, edited.text
    assert group_row(app, "SOUTH").offer_ttl_minutes == 45


def test_group_form_refusals_are_shown_by_their_field(app, platform, make):
    make.group(code="TAKEN")
    taken = platform.post("/platform/groups/new", **{**GROUP_FORM, "code": "TAKEN"})
    assert taken.status_code == 409 and taken.text.count("已有其他集团使用这个编码") == 1
    bad = platform.post(
        "/platform/groups/new",
        **{**GROUP_FORM, "timezone": "Mars/Base", "max_offers_per_lead": "0"},
    )
    assert bad.status_code == 422 and "超出允许范围" in bad.text
    assert group_row(app, "SOUTH") is None


def test_platform_admin_creates_an_oem_and_a_taken_brand_is_refused(app, platform):
    response = platform.post("/platform/oems", name="一汽奥迪", brands="奥迪，红旗")
    assert response.status_code == 302, response.text
    page = platform.get("/platform/oems").text
    assert "一汽奥迪" in page and "红旗" in page
    again = platform.post("/platform/oems", name="另一家", brands="奥迪")
    assert again.status_code == 409 and again.text.count("已属于其他主机厂") == 1
    with app.app_context():
        assert db.session.scalar(select(Oem.id).where(Oem.name == "另一家")) is None


@pytest.mark.parametrize("role", [Role.GROUP_ADMIN, Role.OEM_AUDITOR, Role.STAFF])
def test_only_platform_admins_open_the_platform_pages(app, make, role):
    group = make.group()
    place = {
        Role.GROUP_ADMIN: {"group": group},
        Role.OEM_AUDITOR: {"oem": make.oem()},
        Role.STAFF: {"dealer": make.dealer(group)},
    }[role]
    other = Browser(app, make.user(role, **place))
    for path in ("/platform/groups", "/platform/groups/new", "/platform/oems"):
        assert other.get(path).status_code == 403, path
    assert other.post("/platform/oems", name="X", brands="Y").status_code == 403


def test_platform_navigation_shows_groups_and_oems(platform):
    page = platform.get("/").text
    assert 'href="/platform/groups"' in page and 'href="/platform/oems"' in page
