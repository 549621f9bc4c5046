"""WeCom app messages to members of a downstream corp (上下游, issue 16 item 8) against the fake
WeCom: one message per corp, the downstream corp's token through corpgroup/corp/gettoken (with
the app's own token and the app's agent id there, from corpgroup/corp/list_app_share_info),
cached until it expires and renewed on 42001; WeCom's errcodes as for the app's own corp."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadshare.clock import parse_iso, utcnow
from leadshare.notify.enums import NotificationStatus

from .lead_world import build_world
from .test_hours_offers import sweep
from .test_sla import contact_timer, held_lead
from .test_wecom_messages import BASE, app_rows, deliver, fake_wecom, post_lead, titled
from .wecom_world import AGENT, CORP, configure, link

__all__ = ["fake_wecom"]  # the fixture, used by name

DOWN, DOWN_AGENT = "wwdownstore01", 5000017


@pytest.fixture
def world(app, make, auth, client, fake_wecom):
    """Tianhe's staff member is in the group's corp, its manager in Tianhe's own corp, which
    the app is shared with (上下游)."""
    world = build_world(make, auth)
    configure(client, world.group, world.headers["admin"])
    link(client, world.users["tianhe"], world.headers["admin"], "zhangsan")
    link(client, world.users["tianhe2"], world.headers["admin"], "th-li", corp_id=DOWN)
    fake_wecom.members(CORP, "zhangsan")
    fake_wecom.members(DOWN, "th-li")
    fake_wecom.share(DOWN, DOWN_AGENT)
    return world


def by_corp(fake) -> dict[str, dict]:
    return dict(zip(fake.sent_to, fake.messages, strict=True))


def test_an_offer_reaches_each_corp_in_a_message_of_its_own(app, client, world, fake_wecom):
    lead_id = post_lead(client, world)
    assert deliver(app).sent == 2
    sent = by_corp(fake_wecom)
    assert sent[CORP]["touser"] == "zhangsan" and sent[CORP]["agentid"] == AGENT
    assert sent[DOWN]["touser"] == "th-li" and sent[DOWN]["agentid"] == DOWN_AGENT
    assert sent[DOWN]["textcard"]["url"] == f"{BASE}/leads/{lead_id}"
    assert sent[DOWN]["textcard"] == sent[CORP]["textcard"]
    [share] = fake_wecom.calls_to("corpgroup/corp/list_app_share_info")
    [down_token] = fake_wecom.calls_to("corpgroup/corp/gettoken")
    own_token = fake_wecom.calls_to("gettoken")[0]
    assert own_token.query["corpid"] == CORP
    assert share.body == {"agentid": AGENT, "business_type": 1, "corpid": DOWN}
    assert down_token.body == {"corpid": DOWN, "business_type": 1, "agentid": DOWN_AGENT}
    assert share.query == down_token.query == {"access_token": "token-1"}  # the app's own
    sends = {
        c.body["agentid"]: c.query["access_token"] for c in fake_wecom.calls_to("message/send")
    }
    assert sends == {AGENT: "token-1", DOWN_AGENT: "token-2"}
    rows = app_rows(app)
    assert [(r.status, r.payload.get("corp_id")) for r in rows] == [
        (NotificationStatus.SENT, None),
        (NotificationStatus.SENT, DOWN),
    ]


def test_a_store_all_of_whose_members_are_downstream_gets_one_message(
    app, client, world, fake_wecom
):
    client.delete(f"/api/v1/users/{world.users['tianhe'].id}/wecom", headers=world.headers["admin"])
    post_lead(client, world)
    assert deliver(app).sent == 1
    assert fake_wecom.sent_to == [DOWN]
    [row] = app_rows(app)  # no cancelled message for the app's own corp
    assert row.status == NotificationStatus.SENT


def test_the_downstream_token_and_agent_are_cached(app, client, world, fake_wecom):
    for n in range(3):
        post_lead(client, world, n=n)
    assert deliver(app).sent == 6
    assert len(fake_wecom.calls_to("gettoken")) == 1
    assert len(fake_wecom.calls_to("corpgroup/corp/gettoken")) == 1
    assert len(fake_wecom.calls_to("corpgroup/corp/list_app_share_info")) == 1
    assert fake_wecom.sent_to.count(DOWN) == 3


def test_an_expired_downstream_token_is_renewed_and_the_message_sent(
    app, client, world, fake_wecom
):
    post_lead(client, world, n=1)
    assert deliver(app).sent == 2
    fake_wecom.expire_tokens(DOWN)  # the app's own token still lasts
    post_lead(client, world, n=2)
    assert deliver(app).sent == 2
    down = [c for c in fake_wecom.calls_to("message/send") if c.body["agentid"] == DOWN_AGENT]
    assert [c.query["access_token"] for c in down] == ["token-2", "token-2", "token-3"]
    assert len(fake_wecom.calls_to("corpgroup/corp/gettoken")) == 2
    assert len(fake_wecom.calls_to("gettoken")) == 1
    assert fake_wecom.sent_to.count(DOWN) == 2


def test_an_expired_app_token_while_getting_the_downstream_one_is_renewed(
    app, client, world, fake_wecom
):
    post_lead(client, world, n=1)
    deliver(app)
    fake_wecom.expire_tokens()  # both corps' tokens
    post_lead(client, world, n=2)
    assert deliver(app).sent == 2
    assert len(fake_wecom.calls_to("gettoken")) == 2
    [_, second] = fake_wecom.calls_to("corpgroup/corp/gettoken")
    assert second.query["access_token"] == "token-3"  # the renewed app token, not the stale one
    assert fake_wecom.sent_to.count(DOWN) == 2


def test_a_corp_the_app_is_not_shared_with_is_dead_at_once(app, client, world, fake_wecom):
    fake_wecom.shared.clear()
    post_lead(client, world)
    report = deliver(app)
    assert (report.sent, report.dead) == (1, 1)
    down = next(r for r in app_rows(app) if r.payload.get("corp_id") == DOWN)
    assert down.status == NotificationStatus.DEAD and down.attempts == 1
    assert DOWN in down.last_error and "not shared" in down.last_error
    assert fake_wecom.sent_to == [CORP]


def test_downstream_members_wecom_does_not_know_are_recorded(app, client, world, fake_wecom):
    fake_wecom.known[DOWN].discard("th-li")  # left the downstream corp: nobody left there
    post_lead(client, world)
    deliver(app)
    down = next(r for r in app_rows(app) if r.payload.get("corp_id") == DOWN)
    assert (down.status, down.invalid_users) == (NotificationStatus.DEAD, "th-li")
    assert "81013" in down.last_error


def test_a_rate_limited_downstream_message_waits_a_minute(app, client, world, fake_wecom):
    post_lead(client, world)
    fake_wecom.fail_next("corpgroup/corp/gettoken", 45009)
    report = deliver(app)
    assert report.sent == 1 and fake_wecom.sent_to == [CORP]
    down = next(r for r in app_rows(app) if r.payload.get("corp_id") == DOWN)
    assert (down.status, down.attempts) == (NotificationStatus.PENDING, 0)
    assert "45009" in down.last_error
    assert deliver(app).sent == 0  # not before the minute
    assert deliver(app, now=utcnow() + timedelta(minutes=2)).sent == 1
    assert fake_wecom.sent_to[-1] == DOWN


def test_an_sla_reminder_reaches_a_consultant_in_a_downstream_corp(
    app, client, make, auth, fake_wecom
):
    world = build_world(make, auth, contact_sla_minutes=60, sla_remind_at=0.5)
    configure(client, world.group, world.headers["admin"])
    link(client, world.users["tianhe2"], world.headers["admin"], "th-li", corp_id=DOWN)
    fake_wecom.members(DOWN, "th-li")
    fake_wecom.share(DOWN, DOWN_AGENT)
    lead_id = held_lead(client, world, who="tianhe2")
    deliver(app)  # the offer, to the store's members
    remind = parse_iso(contact_timer(client, world, lead_id)["remind_at"])
    assert "1 reminded" in sweep(app, remind)
    fake_wecom.messages.clear()
    fake_wecom.sent_to.clear()
    deliver(app)
    [reminder] = titled(fake_wecom, "服务时限即将到期")
    assert reminder["touser"] == "th-li" and reminder["agentid"] == DOWN_AGENT
    assert fake_wecom.sent_to == [DOWN]
