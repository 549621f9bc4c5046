"""The group admin's notices page: the count in the navigation, the list in Chinese, read marks
per admin, and nobody else's (other roles, other groups)."""

from __future__ import annotations

import re

import pytest

from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.notify.enums import NotificationEvent
from leadshare.notify.notices import tell_admins, unread_count
from leadshare.tenancy.models import Group
from leadshare.uow import unit_of_work
from leadshare.vocabulary import Role

from ..api.lead_world import build_world
from .pages import Browser

COUNT = re.compile(
    r'href="/admin/notices"[^>]*>\s*<span class="label">[^<]*</span>\s*'
    r'<span class="count" data-count="notices"( hidden)?>(\d+)</span>'
)


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


def tell(app, group, kind=NotificationEvent.BUDGET_LOW, **data):
    facts = {
        "program_id": 1,
        "program": "默认",
        "currency": "CNY",
        "remaining": "80.00",
        "alert_below": "160.00",
        **data,
    }
    with app.app_context(), unit_of_work():
        notice = tell_admins(db.session.get(Group, group.id), kind, facts, utcnow())
        return notice.id


def nav_count(page: str) -> int:
    match = COUNT.search(page)
    assert match, "no notices count in the navigation"
    return int(match.group(2))


def test_an_admin_sees_unread_notices_counted_and_listed_in_chinese(app, world):
    tell(app, world.group)
    tell(
        app,
        world.group,
        NotificationEvent.CONTACT_VIEWS,
        program_id=None,
        user_id=7,
        user="王五",
        day="2026-12-08",
        views=25,
        threshold=20,
    )
    admin = Browser(app, world.users["admin"])
    page = admin.get("/admin/notices").text
    assert nav_count(page) == 2
    assert "奖励计划 默认：剩余预算 80.00 CNY 低于提醒金额 160.00。" in page
    assert "王五 于 2026-12-08 查看了 25 条非本店持有线索的客户联系方式（提醒阈值为 20）。" in page
    assert page.count('class="card unread"') == 2
    assert "/admin/programs/1" in page and "/privacy/access?user_id=7" in page
    assert "data-live=" not in page  # the admin's pages do not poll the staff's live inbox
    assert nav_count(admin.get("/leads").text) == 2  # on every page


def test_marking_read_is_per_admin_one_or_all(app, make, world):
    first = tell(app, world.group)
    tell(app, world.group, NotificationEvent.CREDIT_SKIPPED, amount="80.00", lead_id="ld_1")
    other_admin = make.user(Role.GROUP_ADMIN, group=world.group)
    admin = Browser(app, world.users["admin"])
    read = admin.post("/admin/notices/read", notice_id=first, next="/admin/notices")
    assert read.status_code == 302 and read.location == "/admin/notices"
    page = admin.get("/admin/notices").text
    assert nav_count(page) == 1 and page.count('class="card unread"') == 1
    assert "/admin/notices?unread=1" in page
    assert admin.get("/admin/notices?unread=1").text.count('data-notice="') == 1
    admin.post("/admin/notices/read")
    page = admin.get("/admin/notices").text
    assert nav_count(page) == 0 and 'data-count="notices" hidden' in page
    with app.app_context():
        assert unread_count(db.session.get(type(other_admin), other_admin.id)) == 2


def test_another_groups_admin_neither_sees_nor_marks_them(app, make, auth, world):
    notice = tell(app, world.group)
    elsewhere = build_world(make, auth)
    stranger = Browser(app, elsewhere.users["admin"])
    page = stranger.get("/admin/notices").text
    assert nav_count(page) == 0 and 'data-notice="' not in page
    stranger.post("/admin/notices/read", notice_id=notice)
    assert nav_count(Browser(app, world.users["admin"]).get("/admin/notices").text) == 1


@pytest.mark.parametrize("who", ["tianhe", "tianhe2"])
def test_store_staff_have_no_notices_page(app, world, who):
    browser = Browser(app, world.users[who])
    assert browser.get("/admin/notices").status_code == 403
    assert browser.post("/admin/notices/read").status_code == 403
    assert 'data-count="notices"' not in browser.get("/inbox").text


@pytest.mark.parametrize("role", [Role.OEM_AUDITOR, Role.PLATFORM_ADMIN])
def test_readers_and_the_platform_admin_have_no_notices_page(app, make, world, role):
    extra = {"oem": make.oem(brands=["奥迪"])} if role == Role.OEM_AUDITOR else {}
    user = make.user(role, **extra)
    assert Browser(app, user).get("/admin/notices").status_code == 403
