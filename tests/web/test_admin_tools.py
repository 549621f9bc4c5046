"""The group admin's tools on pages: edit a user (role, store, active, WeCom userid), import
stores from a CSV with a per-row report, and see and retry dead webhook messages."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from leadshare.auth.models import User
from leadshare.clock import utcnow
from leadshare.extensions import db
from leadshare.notify.models import Notification
from leadshare.tenancy.models import Dealer
from leadshare.vocabulary import Role
from leadshare.wecom.models import WecomMember
from tests.api.lead_world import build_world

from .pages import Browser

CORP = "wwcorp0001"


@pytest.fixture
def world(make, auth):
    return build_world(make, auth)


@pytest.fixture
def admin(app, world):
    return Browser(app, world.users["admin"])


def user_row(app, user_id: int) -> tuple[str, int | None, bool]:
    with app.app_context():
        user = db.session.get(User, user_id)
        return user.role, user.dealer_id, user.is_active_user


def member_of(app, user_id: int) -> tuple[str, str] | None:
    with app.app_context():
        member = db.session.scalar(select(WecomMember).where(WecomMember.user_id == user_id))
        return None if member is None else (member.corp_id, member.userid)


def edit(admin: Browser, user, **changes):
    fields = {
        "name": user.name or "",
        "role": user.role,
        "dealer_id": str(user.dealer_id or ""),
        "active": "y",
        "wecom_userid": "",
        "wecom_corp_id": "",
        **changes,
    }
    return admin.post(
        f"/admin/users/{user.id}", **{k: v for k, v in fields.items() if v is not None}
    )


# --- editing users ---------------------------------------------------------------------------


def test_admin_moves_staff_to_manager_at_another_store_and_their_sessions_end(app, world, admin):
    staff = world.users["baiyun"]
    phone = Browser(app, staff)
    page = admin.get(f"/admin/users/{staff.id}")
    assert page.status_code == 200 and staff.email in page.text
    response = edit(admin, staff, role="manager", dealer_id=str(world.panyu.id))
    assert response.status_code == 302, response.text
    assert user_row(app, staff.id) == ("manager", world.panyu.id, True)
    assert phone.get("/inbox").status_code == 302  # signed out: what they may do changed


def test_admin_links_a_wecom_userid_and_unlinks_it(app, world, admin):
    staff = world.users["tianhe"]
    response = edit(admin, staff, wecom_userid="zhangsan", wecom_corp_id=CORP)
    assert response.status_code == 302, response.text
    assert member_of(app, staff.id) == (CORP, "zhangsan")
    assert 'value="zhangsan"' in admin.get(f"/admin/users/{staff.id}").text
    assert edit(admin, staff).status_code == 302
    assert member_of(app, staff.id) is None


def test_a_taken_wecom_userid_refuses_the_whole_edit(app, world, admin):
    first, second = world.users["tianhe"], world.users["panyu"]
    assert edit(admin, first, wecom_userid="zhangsan", wecom_corp_id=CORP).status_code == 302
    response = edit(
        admin, second, role="manager", wecom_userid="zhangsan", wecom_corp_id=CORP, active=None
    )
    assert response.status_code == 409
    assert response.text.count("另一位用户已关联此企业微信成员") == 1  # once, by its field
    assert user_row(app, second.id) == ("staff", world.panyu.id, True)  # nothing half-written
    assert member_of(app, second.id) is None


def test_edit_refusals_are_shown_next_to_their_field(app, world, admin, make):
    staff = world.users["tianhe"]
    other_store = make.dealer(make.group(), brands=["奥迪"])
    response = edit(admin, staff, dealer_id=str(other_store.id))
    assert response.status_code == 422 and "门店不存在。" in response.text
    response = edit(admin, staff, dealer_id="")
    assert response.status_code == 422 and "请选择门店。" in response.text
    response = edit(admin, staff, wecom_userid="有 空格")
    assert response.status_code == 422 and 'class="field has-error"' in response.text
    assert user_row(app, staff.id) == ("staff", world.tianhe.id, True)


def test_admin_cannot_change_their_own_role(app, world, admin):
    me = world.users["admin"]
    response = edit(admin, me, role="staff", dealer_id=str(world.tianhe.id))
    assert response.status_code == 403 and "不能更改自己的角色或门店" in response.text
    assert user_row(app, me.id)[0] == Role.GROUP_ADMIN


def test_admin_deactivates_from_the_edit_page(app, world, admin):
    staff = world.users["futian"]
    assert edit(admin, staff, active=None).status_code == 302
    assert user_row(app, staff.id)[2] is False


def test_only_the_groups_admin_edits_its_users(app, world, make):
    outsider = Browser(app, make.user(Role.GROUP_ADMIN, group=make.group()))
    assert outsider.get(f"/admin/users/{world.users['tianhe'].id}").status_code == 404
    staff = Browser(app, world.users["tianhe2"])
    assert staff.get(f"/admin/users/{world.users['tianhe'].id}").status_code == 403


def test_users_page_links_to_edit_and_reset(admin, world):
    page = admin.get("/admin/users").text
    user = world.users["tianhe"]
    assert f'href="/admin/users/{user.id}"' in page
    assert f'href="/admin/users/{user.id}/password"' in page


# --- importing stores ------------------------------------------------------------------------

HEADER = "code,name,brands,latitude,longitude,service_radius_km\n"


def upload(admin: Browser, text: str | bytes, filename: str = "stores.csv"):
    body = text.encode("utf-8") if isinstance(text, str) else text
    return admin.client.post(
        "/admin/dealers/import",
        data={"csrf_token": admin.token, "file": (io.BytesIO(body), filename)},
        content_type="multipart/form-data",
    )


def test_import_creates_updates_and_reports_each_row(app, world, admin):
    csv_text = (
        HEADER
        + "GZ9,广州新店,奥迪|大众,23.1,113.3,30\n"
        + "GZ1,广州天河奥迪（改名）,奥迪,23.12,113.36,40\n"
        + "BAD,,奥迪,91,113.3,30\n"
    )
    response = upload(admin, "\ufeff" + csv_text)
    assert response.status_code == 200, response.text
    text = response.text
    assert "1 家新建，1 家更新，1 家未导入" in text
    assert text.count('class="outcome-created"') == 1
    assert text.count('class="outcome-rejected"') == 1
    assert "name: 此项必填。, latitude: 超出允许范围。" in text  # the reader's language
    with app.app_context():
        names = dict(
            db.session.execute(
                select(Dealer.code, Dealer.name).where(Dealer.group_id == world.group.id)
            ).all()
        )
    assert names["GZ9"] == "广州新店" and names["GZ1"] == "广州天河奥迪（改名）"
    assert "BAD" not in names


@pytest.mark.parametrize(
    "body, message",
    [
        ("名称,品牌\n一,二\n".encode("gbk"), "不是 UTF-8"),
        ("name,brands\n广州,奥迪\n", "第一行须列出各列名"),
        (HEADER, "只有表头"),
    ],
)
def test_an_unreadable_file_is_refused_with_its_reason(app, world, admin, body, message):
    response = upload(admin, body)
    assert response.status_code == 422 and message in response.text
    assert response.text.count('<div class="error">') == 1


def test_import_without_a_file_asks_for_one(admin):
    response = admin.post("/admin/dealers/import")
    assert response.status_code == 422 and "请选择 CSV 文件" in response.text


# --- webhook messages ------------------------------------------------------------------------


def add_message(app, group_id: int, dealer_id: int, status: str, message_id: str) -> None:
    with app.app_context():
        db.session.add(
            Notification(
                message_id=message_id,
                group_id=group_id,
                dealer_id=dealer_id,
                event="offered",
                payload={},
                occurred_at=utcnow(),
                status=status,
                attempts=10 if status == "dead" else 1,
                next_attempt_at=utcnow(),
                last_status_code=500,
                last_error="server error",
            )
        )
        db.session.commit()


def status_of(app, message_id: str) -> str:
    with app.app_context():
        return db.session.scalar(
            select(Notification.status).where(Notification.message_id == message_id)
        )


def test_admin_sees_dead_messages_and_sends_one_again(app, world, admin):
    add_message(app, world.group.id, world.tianhe.id, "dead", "msg_dead_1")
    add_message(app, world.group.id, world.tianhe.id, "pending", "msg_pending_1")
    page = admin.get("/admin/webhooks").text
    assert "/admin/webhooks/msg_dead_1/retry" in page and "msg_pending_1" not in page
    assert "HTTP 500 server error" in page and "广州天河奥迪" in page
    pending = admin.get("/admin/webhooks", query_string={"status": "pending"}).text
    assert "/admin/webhooks/msg_pending_1/retry" not in pending and "offered" in pending
    response = admin.post("/admin/webhooks/msg_dead_1/retry", next="/admin/webhooks")
    assert response.status_code == 302 and response.location == "/admin/webhooks"
    assert status_of(app, "msg_dead_1") == "pending"
    again = admin.post("/admin/webhooks/msg_dead_1/retry", follow_redirects=True)
    assert "只有失败或已取消的消息可以重发" in again.text


def test_another_groups_message_is_not_found(app, world, admin, make):
    group = make.group()
    store = make.dealer(group, brands=["奥迪"])
    add_message(app, group.id, store.id, "dead", "msg_other_group")
    assert "msg_other_group" not in admin.get("/admin/webhooks").text
    assert admin.post("/admin/webhooks/msg_other_group/retry").status_code == 404
    assert status_of(app, "msg_other_group") == "dead"


def test_webhooks_page_is_in_the_admins_navigation_only(app, world, admin):
    assert 'href="/admin/webhooks"' in admin.get("/admin/users").text
    staff = Browser(app, world.users["tianhe"])
    assert 'href="/admin/webhooks"' not in staff.get("/inbox").text
    assert staff.get("/admin/webhooks").status_code == 403
