"""The plan that keeps a WeCom group robot under 20 messages a minute, and the digest body."""

import json
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from leadshare.notify.formats import WECOM_MAX_BYTES, Message, wecom_digest_body
from leadshare.notify.robots import ROBOT_PER_MINUTE, RobotPlan, lock_number, plan, robot_key

NOW = datetime(2027, 3, 1, 10, 0, 0)


def ago(*seconds: float) -> list[datetime]:
    return [NOW - timedelta(seconds=s) for s in seconds]


def test_messages_go_alone_while_the_minute_has_room():
    assert plan(5, [], NOW) == RobotPlan(5)
    assert plan(20, [], NOW) == RobotPlan(20)
    assert plan(3, ago(*range(1, 18)), NOW) == RobotPlan(3)  # 17 + 3 = 20
    assert plan(0, [], NOW) == RobotPlan(0)


def test_more_than_the_room_merges_the_rest_into_one_digest():
    assert plan(50, [], NOW) == RobotPlan(19, digest=True)  # 19 alone + 1 digest of 31
    assert plan(4, ago(*range(1, 18)), NOW) == RobotPlan(2, digest=True)  # room 3
    assert plan(2, ago(*range(1, 20)), NOW) == RobotPlan(0, digest=True)  # room 1: one digest


def test_no_room_waits_until_a_send_leaves_the_minute():
    sends = ago(*[59 - i for i in range(20)])  # 20 sends, the oldest 59 s ago
    waiting = plan(3, sends, NOW)
    assert waiting.alone == 0 and not waiting.digest
    assert waiting.wait_until == NOW + timedelta(seconds=1)
    more = ago(*[59 - i for i in range(25)])  # 25 in the minute (another host's too)
    # room for one once six have left: the sixth oldest was sent 54 s ago
    assert plan(1, more, NOW).wait_until == NOW + timedelta(seconds=6)


def test_sends_older_than_a_minute_do_not_count():
    assert plan(20, ago(*[60 + i for i in range(30)]), NOW) == RobotPlan(20)


@given(
    due=st.integers(min_value=0, max_value=200),
    recent=st.lists(st.floats(min_value=0.001, max_value=120), max_size=40),
)
def test_a_plan_never_sends_more_than_the_room_and_always_takes_everything(due, recent):
    sends = ago(*recent)
    in_minute = sum(1 for s in recent if s < 60)
    decided = plan(due, sends, NOW)
    assert in_minute + decided.sends <= max(ROBOT_PER_MINUTE, in_minute)
    if decided.wait_until is None:  # everything due goes now: alone or in the digest
        assert decided.alone == due or decided.digest
    else:
        assert in_minute >= ROBOT_PER_MINUTE and due > 0
        assert NOW < decided.wait_until <= NOW + timedelta(minutes=1)  # never past a minute


def test_a_robot_is_named_by_a_hash_of_its_url():
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"
    assert robot_key(url) == robot_key(f"  {url} ") != robot_key(url + "d")
    assert len(robot_key(url)) == 64 and "abc" not in robot_key(url)
    assert -(2**63) <= lock_number(robot_key(url)) < 2**63


def _message(n: int) -> Message:
    return Message(
        message_id=f"m{n}",
        event="offered",
        occurred_at=NOW,
        lead_id=f"L{n:04d}",
        lead_status="offered",
        lead_url=f"https://leads.example.cn/leads/L{n:04d}",
        data={"brand": "大众", "customer": {"name": "王*"}},
    )


def test_a_digest_lists_each_message_and_counts_what_does_not_fit():
    few = json.loads(wecom_digest_body([_message(n) for n in range(3)], 20))
    content = few["markdown"]["content"]
    assert few["msgtype"] == "markdown" and content.startswith("**3 条线索通知")
    assert all(f"L{n:04d}" in content for n in range(3))
    many = wecom_digest_body([_message(n) for n in range(200)], 20)
    text = json.loads(many)["markdown"]["content"]
    assert len(text.encode()) <= WECOM_MAX_BYTES
    assert text.startswith("**200 条线索通知") and "另有" in text
    shown = sum(1 for n in range(200) if f"L{n:04d})" in text)
    assert f"另有 {200 - shown} 条" in text
