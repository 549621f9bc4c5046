"""WeCom app messages (issue 16 item 8, issues 17 and 20 alerts) against the fake WeCom server:
an offer reaches the offered store's members, an SLA reminder the lead's consultant, budget and
contact-view alerts the group's admins (once); invalid users, an expired token and WeCom's rate
limit; the store's group robot keeps getting its messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from leadshare.clock import parse_iso, utcnow
from leadshare.extensions import db
from leadshare.notify.deliver import deliver_pending
from leadshare.notify.enums import NotificationChannel, NotificationStatus
from leadshare.notify.models import AdminNotice, Notification
from leadshare.settings import current_settings
from leadshare.tenancy.models import Dealer, Group
from leadshare.vocabulary import Role

from ..webhook_receiver import Receiver, to_localhost
from .lead_world import build_world, lead_payload
from .test_hours_offers import sweep
from .test_rewards import claim, create_program, shared_lead
from .test_sla import contact_timer, held_lead
from .wecom_world import AGENT, CORP, configure, link, running_fake

BASE = "https://leads.example.cn"


@pytest.fixture
def fake_wecom(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    yield from running_fake(app, monkeypatch)


@pytest.fixture
def world(app, make, auth, client, fake_wecom):
    """A group with a WeCom app; both Tianhe users linked (zhangsan, lisi), the admin too."""
    world = build_world(make, auth)
    configure(client, world.group, world.headers["admin"])
    link(client, world.users["tianhe"], world.headers["admin"], "zhangsan")
    link(client, world.users["tianhe2"], world.headers["admin"], "lisi")
    link(client, world.users["baiyun"], world.headers["admin"], "wangwu")
    link(client, world.users["admin"], world.headers["admin"], "boss")
    fake_wecom.members(CORP, "zhangsan", "lisi", "wangwu", "boss")
    return world


def deliver(app, **kwargs):
    with app.app_context():
        return deliver_pending(current_settings().notify, resolver=to_localhost, **kwargs)


def app_rows(app) -> list[Notification]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Notification)
                .where(Notification.channel == NotificationChannel.WECOM_APP)
                .order_by(Notification.id)
            )
        )


def titled(fake, title: str) -> list[dict]:
    return [m for m in fake.messages if (m.get("textcard") or {}).get("title") == title]


def post_lead(client, world, n: int = 1) -> str:
    payload = lead_payload(customer={"name": "张三", "phone": f"1381234{n:04d}"})
    answer = client.post("/api/v1/leads", json=payload, headers=world.headers["referrer"])
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


# --- offers reach the store's members ----------------------------------------------------------


def test_an_offer_reaches_the_offered_stores_members_as_a_textcard(
    app, client, make, world, fake_wecom
):
    gone = make.user(Role.STAFF, dealer=world.tianhe, is_active_user=False)
    link(client, gone, world.headers["admin"], "sunqi")
    lead_id = post_lead(client, world)
    report = deliver(app)
    assert report.sent == 1
    [message] = fake_wecom.messages
    assert message["touser"] == "lisi|zhangsan"  # Tianhe's active members of the app's corp
    assert message["agentid"] == AGENT and message["msgtype"] == "textcard"
    card = message["textcard"]
    assert card["title"] == "新线索待接单"
    assert card["url"] == f"{BASE}/leads/{lead_id}"  # the lead page signs a member in
    assert "广州天河奥迪" in card["description"] and "深圳南山奥迪" in card["description"]
    assert "1381234" not in str(message) and "张三" not in str(message)  # masked, no phone
    [row] = app_rows(app)
    assert (row.status, row.dealer_id, row.attempts, row.invalid_users) == (
        NotificationStatus.SENT,
        world.tianhe.id,
        1,
        None,
    )
    [token_call] = fake_wecom.calls_to("gettoken")
    [send_call] = fake_wecom.calls_to("message/send")
    assert send_call.query == {"access_token": "token-1"}
    assert token_call.query["corpid"] == CORP


def test_the_stores_group_robot_still_gets_the_offer(app, client, world, fake_wecom):
    with Receiver() as robot:
        with app.app_context():
            db.session.execute(
                update(Dealer)
                .where(Dealer.id == world.tianhe.id)
                .values(webhook_url=robot.wecom_url())
            )
            db.session.commit()
        post_lead(client, world)
        report = deliver(app)
        assert report.sent == 2
        [robot_message] = robot.requests
        assert robot_message.json["msgtype"] == "markdown"
        assert "新线索待接单" in robot_message.json["markdown"]["content"]
    assert len(fake_wecom.messages) == 1


def test_no_wecom_app_no_app_message(app, client, make, auth):
    other = build_world(make, auth)
    post_lead(client, other)
    assert app_rows(app) == []


def test_a_store_nobody_of_which_is_linked_is_cancelled_not_retried(app, client, world, fake_wecom):
    for who in ("tianhe", "tianhe2"):
        unlinked = client.delete(
            f"/api/v1/users/{world.users[who].id}/wecom", headers=world.headers["admin"]
        )
        assert unlinked.status_code == 204, unlinked.json
    post_lead(client, world)
    report = deliver(app)
    assert report.cancelled == 1 and fake_wecom.messages == []
    [row] = app_rows(app)
    assert row.status == NotificationStatus.CANCELLED and "Nobody to send to" in row.last_error


# --- WeCom's answers ---------------------------------------------------------------------------


def test_a_member_wecom_does_not_know_is_recorded_and_the_rest_are_reached(
    app, client, world, fake_wecom
):
    fake_wecom.known[CORP].discard("lisi")  # left the corp
    post_lead(client, world)
    assert deliver(app).sent == 1
    [row] = app_rows(app)
    assert (row.status, row.invalid_users, row.attempts) == (NotificationStatus.SENT, "lisi", 1)


def test_a_message_nobody_can_receive_is_dead_at_once(app, client, world, fake_wecom):
    fake_wecom.known[CORP].difference_update({"lisi", "zhangsan"})
    post_lead(client, world)
    report = deliver(app)
    assert (report.dead, report.retrying) == (1, 0)
    [row] = app_rows(app)
    assert row.status == NotificationStatus.DEAD and row.invalid_users == "lisi|zhangsan"
    assert "81013" in row.last_error
    assert deliver(app, now=utcnow() + timedelta(hours=2)).dead == 0  # not tried again
    assert len(fake_wecom.calls_to("message/send")) == 1


def test_an_expired_token_is_renewed_and_the_message_sent(app, client, world, fake_wecom):
    post_lead(client, world, n=1)
    assert deliver(app).sent == 1
    fake_wecom.expire_tokens()
    post_lead(client, world, n=2)
    assert deliver(app).sent == 1
    sends = fake_wecom.calls_to("message/send")
    assert [c.query["access_token"] for c in sends] == ["token-1", "token-1", "token-2"]
    assert len(fake_wecom.calls_to("gettoken")) == 2
    assert len(fake_wecom.messages) == 2


def test_a_cached_token_is_used_until_it_expires(app, client, world, fake_wecom):
    for n in range(3):
        post_lead(client, world, n=n)
    assert deliver(app).sent == 3
    assert len(fake_wecom.calls_to("gettoken")) == 1


def test_wecoms_rate_limit_makes_the_message_wait_a_minute_without_an_attempt(
    app, client, world, fake_wecom
):
    fake_wecom.fail_next("message/send", 45009)
    post_lead(client, world)
    before = utcnow()
    report = deliver(app)
    assert (report.sent, report.retrying) == (0, 1)
    [row] = app_rows(app)
    assert row.status == NotificationStatus.PENDING and row.attempts == 0
    assert row.next_attempt_at >= before + timedelta(seconds=59)
    assert deliver(app).sent == 0  # not due yet
    assert deliver(app, now=row.next_attempt_at).sent == 1
    [row] = app_rows(app)
    assert (row.status, row.attempts) == (NotificationStatus.SENT, 1)


def test_another_errcode_is_retried_with_backoff(app, client, world, fake_wecom):
    fake_wecom.fail_next("message/send", 60020)  # an IP not on the app's allow list
    post_lead(client, world)
    assert deliver(app).retrying == 1
    [row] = app_rows(app)
    assert (row.status, row.attempts) == (NotificationStatus.PENDING, 1)
    assert "60020" in row.last_error
    assert deliver(app, now=utcnow() + timedelta(minutes=5)).sent == 1


# --- an SLA reminder reaches the consultant ----------------------------------------------------


def test_an_sla_reminder_reaches_the_leads_consultant(app, client, make, auth, fake_wecom):
    world = build_world(make, auth, contact_sla_minutes=60, sla_remind_at=0.5)
    configure(client, world.group, world.headers["admin"])
    link(client, world.users["tianhe"], world.headers["admin"], "zhangsan")
    link(client, world.users["tianhe2"], world.headers["admin"], "lisi")
    fake_wecom.members(CORP, "zhangsan", "lisi")
    lead_id = held_lead(client, world, who="tianhe2")  # the manager claims: the consultant
    remind = parse_iso(contact_timer(client, world, lead_id)["remind_at"])
    assert "1 reminded" in sweep(app, remind)
    deliver(app)
    [reminder] = titled(fake_wecom, "服务时限即将到期")
    assert reminder["touser"] == "lisi"
    assert reminder["textcard"]["url"] == f"{BASE}/leads/{lead_id}"
    assert "联系客户时限" in reminder["textcard"]["description"]
    assert "1 reminded" not in sweep(app, remind + timedelta(minutes=1))
    deliver(app)
    assert len(titled(fake_wecom, "服务时限即将到期")) == 1


def test_an_appointment_that_has_come_reaches_the_consultant(app, client, make, auth, fake_wecom):
    world = build_world(make, auth)
    configure(client, world.group, world.headers["admin"])
    link(client, world.users["tianhe"], world.headers["admin"], "zhangsan")
    link(client, world.users["tianhe2"], world.headers["admin"], "lisi")
    fake_wecom.members(CORP, "zhangsan", "lisi")
    lead_id = held_lead(client, world, who="tianhe2")
    next_at = utcnow().replace(microsecond=0) + timedelta(hours=2)
    note = client.post(
        f"/api/v1/leads/{lead_id}/notes",
        json={"text": "客户周六来店试驾", "next_at": next_at.isoformat() + "Z"},
        headers=world.headers["tianhe2"],
    )
    assert note.status_code == 201, note.json
    sweep(app, next_at - timedelta(minutes=1))
    deliver(app)
    assert titled(fake_wecom, "客户预约已到时间") == []
    sweep(app, next_at + timedelta(minutes=1))
    deliver(app)
    [reminder] = titled(fake_wecom, "客户预约已到时间")
    assert reminder["touser"] == "lisi"
    assert reminder["textcard"]["url"] == f"{BASE}/leads/{lead_id}"
    assert "预约时间" in reminder["textcard"]["description"]
    assert "试驾" not in reminder["textcard"]["description"]  # never the note's text


# --- admins are told --------------------------------------------------------------------------


def test_a_budget_falling_below_its_alert_reaches_the_admins_once(app, client, world, fake_wecom):
    create_program(client, world, budget="240.00", alert_below="160.00", hold_days=0)
    for n in (1, 2, 3):  # 240 -> 160 -> 80 (below) -> 0 (still below)
        claim(client, world, shared_lead(client, world, n=n))
    deliver(app)
    [told] = titled(fake_wecom, "奖励预算低于提醒金额")
    assert told["touser"] == "boss" and told["textcard"]["url"] == f"{BASE}/admin/notices"
    assert "¥80.00" in told["textcard"]["description"]
    with app.app_context():
        kinds = db.session.scalars(select(AdminNotice.kind)).all()
    assert kinds == ["budget_low"]


def test_a_skipped_credit_reaches_the_admins(app, client, world, fake_wecom):
    create_program(client, world, budget="100.00", hold_days=0)
    claim(client, world, shared_lead(client, world, n=1))
    claim(client, world, shared_lead(client, world, n=2))
    deliver(app)
    [told] = titled(fake_wecom, "奖励因预算不足未发放")
    assert told["touser"] == "boss"
    assert "¥80.00" in told["textcard"]["description"]


def test_many_contact_views_reach_the_admins_once_per_user_and_day(app, client, world, fake_wecom):
    with app.app_context():
        db.session.execute(
            update(Group).where(Group.id == world.group.id).values(contact_views_alert_per_day=2)
        )
        db.session.commit()
    for n in range(3):  # the referrer sees the contact of each lead it shares, not its own hold
        post_lead(client, world, n=n)
    now = utcnow()
    assert "1 contact alerts" in sweep(app, now)
    post_lead(client, world, n=9)  # a fourth view the same day: told already
    assert "0 contact alerts" in sweep(app, now + timedelta(minutes=1))
    deliver(app)
    [told] = titled(fake_wecom, "员工查看客户联系方式过多")
    assert told["touser"] == "boss"
    assert "3 位非本店客户" in told["textcard"]["description"]
    with app.app_context():
        [notice] = db.session.scalars(select(AdminNotice)).all()
    assert notice.data["user_id"] == world.users["referrer"].id and notice.data["views"] == 3


# --- the group's admin robot ---------------------------------------------------------------------


def test_a_group_admin_sets_an_admin_robot_and_is_told_there_too(app, client, world, fake_wecom):
    with Receiver() as robot:
        url = robot.wecom_url("admins")
        answer = client.patch(
            f"/api/v1/groups/{world.group.id}",
            json={"admin_robot_url": url},
            headers=world.headers["admin"],
        )
        assert answer.status_code == 200, answer.json
        assert answer.json["admin_robot_url"] == url
        create_program(client, world, budget="100.00", hold_days=0)
        claim(client, world, shared_lead(client, world, n=1))
        claim(client, world, shared_lead(client, world, n=2))  # skipped: 20 left, 80 due
        deliver(app)
        [told] = [r for r in robot.requests if "admins" in r.path]
        content = told.json["markdown"]["content"]
        assert content.startswith("**奖励因预算不足未发放**")
        assert f"[查看通知]({BASE}/admin/notices)" in content
    assert len(titled(fake_wecom, "奖励因预算不足未发放")) == 1  # and the app message


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/admins",  # not a WeCom group robot
        "ftp://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        "https://qyapi.weixin.qq.com/cgi-bin/message/send?key=k",
    ],
)
def test_an_admin_robot_url_that_is_no_robot_is_422(client, world, url):
    answer = client.patch(
        f"/api/v1/groups/{world.group.id}",
        json={"admin_robot_url": url},
        headers=world.headers["admin"],
    )
    assert answer.status_code == 422, answer.json
    assert "admin_robot_url" in str(answer.json)


def test_an_admin_robot_on_a_private_address_is_refused(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_PRIVATE_WEBHOOKS", False)
    answer = client.patch(
        f"/api/v1/groups/{world.group.id}",
        json={"admin_robot_url": "http://127.0.0.1/cgi-bin/webhook/send?key=k"},
        headers=world.headers["admin"],
    )
    assert answer.status_code == 422, answer.json


def test_store_staff_neither_set_nor_see_the_admin_robot(client, world):
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=secret"
    set_it = client.patch(
        f"/api/v1/groups/{world.group.id}",
        json={"admin_robot_url": url},
        headers=world.headers["admin"],
    )
    assert set_it.status_code == 200
    refused = client.patch(
        f"/api/v1/groups/{world.group.id}",
        json={"admin_robot_url": None},
        headers=world.headers["tianhe2"],
    )
    assert refused.status_code == 403
    seen = client.get(f"/api/v1/groups/{world.group.id}", headers=world.headers["tianhe"])
    assert seen.status_code == 200 and seen.json["admin_robot_url"] is None  # it carries a key


def test_an_admin_robot_removed_before_delivery_cancels_its_message(app, client, world):
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=admins"
    client.patch(
        f"/api/v1/groups/{world.group.id}",
        json={"admin_robot_url": url},
        headers=world.headers["admin"],
    )
    create_program(client, world, budget="100.00", hold_days=0)
    claim(client, world, shared_lead(client, world, n=1))
    claim(client, world, shared_lead(client, world, n=2))
    client.patch(
        f"/api/v1/groups/{world.group.id}",
        json={"admin_robot_url": None},
        headers=world.headers["admin"],
    )
    deliver(app)
    with app.app_context():
        [row] = db.session.scalars(
            select(Notification).where(Notification.channel == NotificationChannel.ADMIN_ROBOT)
        ).all()
    assert row.status == NotificationStatus.CANCELLED and "admin robot" in row.last_error


def test_admins_list_the_app_messages_by_channel_with_whom_wecom_did_not_reach(
    app, client, world, fake_wecom
):
    fake_wecom.known[CORP].discard("lisi")
    post_lead(client, world)
    deliver(app)
    listed = client.get(
        "/api/v1/notifications",
        query_string={"channel": "wecom_app"},
        headers=world.headers["admin"],
    )
    assert listed.status_code == 200, listed.json
    [item] = listed.json["items"]
    assert (item["channel"], item["status"], item["invalid_users"]) == ("wecom_app", "sent", "lisi")
    assert item["dealer"]["id"] == world.tianhe.id
    bad = client.get(
        "/api/v1/notifications", query_string={"channel": "pigeon"}, headers=world.headers["admin"]
    )
    assert bad.status_code == 422
