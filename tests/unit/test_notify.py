"""Notification formats, signatures, URL safety and backoff: pure functions, no app."""

from __future__ import annotations

import ast
import hashlib
import hmac
import json
from datetime import datetime
from pathlib import Path

import pytest

from leadshare.notify.deliver import BACKOFF_CAP_SECONDS, backoff_seconds
from leadshare.notify.formats import (
    Message,
    inert,
    is_wecom_robot,
    json_body,
    markdown_text,
    render,
    sign,
    verify,
    wecom_body,
)
from leadshare.notify.urls import UnsafeUrl, check_url, literal_ip, resolve_for_sending

ROOT = Path(__file__).resolve().parents[2]
REFERRER = {"id": 1, "code": "SZ1", "name": "深圳南山奥迪"}
TIANHE = {"id": 2, "code": "GZ1", "name": "广州天河奥迪"}
LEAD = {
    "referrer": REFERRER,
    "holder": None,
    "brand": "奥迪",
    "model": "A6L",
    "customer_name": "张*",
    "province": "广东省",
    "city": "广州市",
    "district": "天河区",
}
OFFERED = Message(
    message_id="msg_0123456789abcdef01234567",
    event="offered",
    occurred_at=datetime(2026, 11, 23, 6, 0, 0, 123456),
    lead_id="ld_00aa11bb22cc33dd",
    lead_status="offered",
    lead_url="https://leads.example.cn/leads/ld_00aa11bb22cc33dd",
    data={
        "dealer": TIANHE,
        **LEAD,
        "distance_km": 0.72,
        "offered_at": "2026-11-23T06:00:00Z",
        "expires_at": "2026-11-23T08:00:00Z",
    },
)


def test_signed_json_body_is_exactly_this():
    assert json_body(OFFERED).decode() == (
        '{"id":"msg_0123456789abcdef01234567","type":"offered","occurred_at":"2026-11-23T06:00:00Z",'
        '"lead":{"id":"ld_00aa11bb22cc33dd","status":"offered",'
        '"url":"https://leads.example.cn/leads/ld_00aa11bb22cc33dd"},'
        '"data":{"dealer":{"id":2,"code":"GZ1","name":"广州天河奥迪"},'
        '"referrer":{"id":1,"code":"SZ1","name":"深圳南山奥迪"},"holder":null,"brand":"奥迪",'
        '"model":"A6L","customer_name":"张*","province":"广东省","city":"广州市","district":"天河区",'
        '"distance_km":0.72,"offered_at":"2026-11-23T06:00:00Z","expires_at":"2026-11-23T08:00:00Z"}}'
    )


def test_wecom_markdown_body_is_exactly_this_with_local_time_and_link():
    content = (
        "**新线索待接单**\n"
        "> 门店：广州天河奥迪\n"
        "> 客户：张＊（广州市天河区）\n"
        "> 意向：奥迪 A6L\n"
        "> 距离：0.72 公里\n"
        "> 推荐门店：深圳南山奥迪\n"
        '请于 <font color="warning">2026-11-23 16:00</font> 前接单，过期将转给下一家门店。\n'
        "[查看线索](https://leads.example.cn/leads/ld_00aa11bb22cc33dd)"
    )
    assert markdown_text(OFFERED) == content
    assert json.loads(wecom_body(OFFERED)) == {
        "msgtype": "markdown",
        "markdown": {"content": content},
    }


def test_signature_is_hmac_sha256_of_the_raw_body_and_verifies():
    body, headers = render(OFFERED, "https://crm.example.cn/hooks/leadshare", "whsec_k")
    expected = hmac.new(b"whsec_k", body, hashlib.sha256).hexdigest()
    assert headers["X-Leadshare-Signature"] == f"sha256={expected}" == sign("whsec_k", body)
    assert headers["X-Leadshare-Message-Id"] == OFFERED.message_id
    assert verify("whsec_k", body, headers["X-Leadshare-Signature"])
    assert not verify("whsec_other", body, headers["X-Leadshare-Signature"])
    assert not verify("whsec_k", body + b" ", headers["X-Leadshare-Signature"])


def test_wecom_robot_urls_get_markdown_without_signature():
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"
    body, headers = render(OFFERED, url, None)
    assert json.loads(body)["msgtype"] == "markdown"
    assert "X-Leadshare-Signature" not in headers


@pytest.mark.parametrize(
    ("url", "wecom"),
    [
        ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", True),
        ("https://QYAPI.weixin.qq.com/cgi-bin/webhook/send?key=abc", True),
        ("https://qyapi.weixin.qq.com/cgi-bin/message/send", False),
        ("https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send", False),
        ("https://crm.example.cn/cgi-bin/webhook/send", False),
    ],
)
def test_only_wecom_robot_urls_are_recognised(url, wecom):
    assert is_wecom_robot(url) is wecom


def test_every_event_renders_in_chinese_without_contact_details():
    data = {
        **LEAD,
        "holder": TIANHE,
        "amount": "80.00",
        "currency": "CNY",
        "program": "2026 转介绍奖励",
        "reward_event": "accepted",
        "expires_at": "2026-11-23T08:00:00Z",
    }
    titles = {
        "offered": "新线索待接单",
        "offer_expiring": "线索即将过期",
        "claimed": "您推荐的线索已被接单",
        "contacted": "线索进展：已联系客户",
        "visited": "线索进展：客户已到店",
        "ordered": "线索进展：客户已下单",
        "delivered": "线索进展：已交车",
        "lost": "线索进展：已战败",
        "reward_credited": "推荐奖励到账",
    }
    for event, title in titles.items():
        message = Message("msg_1", event, datetime(2026, 11, 23), "ld_1", event, "u/ld_1", data)
        text = markdown_text(message)
        assert text.startswith(f"**{title}**") and text.endswith("[查看线索](u/ld_1)")
    reward = markdown_text(
        Message("m", "reward_credited", datetime(2026, 1, 1), "l", "s", None, data)
    )
    assert "¥80.00" in reward and "奖励事件：接单" in reward


def test_service_level_and_appointment_messages_read_in_chinese_not_codes():
    due = {**LEAD, "sla": "contact", "due_at": "2026-11-23T02:00:00Z"}
    cases = {
        "sla_reminder": (due, ["**服务时限即将到期**", "联系客户时限：2026-11-23 10:00"]),
        "sla_missed": (
            {**due, "released": True},
            ["**未在服务时限内完成**", "联系客户时限：2026-11-23 10:00（已过）", "重新分配"],
        ),
        "follow_up_due": (
            {**LEAD, "consultant": "李四", "next_at": "2026-11-24T06:30:00Z"},
            ["**客户预约已到时间**", "顾问：李四", "预约时间：2026-11-24 14:30"],
        ),
    }
    for event, (data, parts) in cases.items():
        text = markdown_text(Message("m", event, datetime(2026, 11, 23), "l", "s", "u/l", data))
        assert all(part in text for part in parts), text
        assert event not in text and "线索通知：" not in text, text


def test_a_huge_markdown_message_is_cut_to_wecom_limit():
    long = Message(
        "m", "claimed", datetime(2026, 1, 1), "l", "s", None, {**LEAD, "model": "长" * 3000}
    )
    assert len(json.loads(wecom_body(long))["markdown"]["content"].encode()) <= 4096


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.1/hook",
        "http://0x7f.1/hook",
        "http://2130706433/hook",
        "http://localhost:8080/hook",
        "http://api.localhost/hook",
        "http://10.1.2.3/hook",
        "http://172.16.0.1/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fd00::1]/hook",
        "http://[fe80::1]/hook",
    ],
)
def test_private_and_loopback_urls_are_refused_unless_allowed(url):
    with pytest.raises(UnsafeUrl):
        check_url(url, allow_private=False)
    check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://example.com", "http://", "x"]
)
def test_only_http_and_https_urls_are_accepted_even_when_private_is_allowed(url):
    with pytest.raises(UnsafeUrl):
        check_url(url, allow_private=True)


def test_public_urls_pass_without_a_network_lookup():
    check_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", allow_private=False)
    check_url("https://8.8.8.8/hook", allow_private=False)
    assert str(literal_ip("0x7f.1")) == "127.0.0.1"
    assert literal_ip("crm.example.cn") is None


def test_a_name_resolving_to_a_private_address_is_refused_at_send_time():
    def rebound(host, port):
        return ["93.184.216.34", "10.0.0.7"]

    with pytest.raises(UnsafeUrl, match="private address"):
        resolve_for_sending("https://hooks.example.com/x", allow_private=False, resolver=rebound)
    assert resolve_for_sending(
        "https://hooks.example.com/x", allow_private=False, resolver=lambda h, p: ["93.184.216.34"]
    ) == ("https", "hooks.example.com", 443, "93.184.216.34")
    assert resolve_for_sending(
        "http://hooks.example.com:8080/x", allow_private=True, resolver=rebound
    ) == ("http", "hooks.example.com", 8080, "93.184.216.34")


def test_an_unresolvable_name_is_refused_not_raised():
    def fails(host, port):
        raise OSError("Name or service not known")

    with pytest.raises(UnsafeUrl, match="could not be resolved"):
        resolve_for_sending("https://nowhere.invalid/x", allow_private=False, resolver=fails)


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    assert backoff_seconds(1, rng=lambda: 0.5) == 5
    assert backoff_seconds(2, rng=lambda: 0.5) == 10
    assert backoff_seconds(4, rng=lambda: 0.5) == 40
    assert backoff_seconds(3, rng=lambda: 0.0) == 10 and backoff_seconds(3, rng=lambda: 0.999) < 30
    assert backoff_seconds(30, rng=lambda: 0.5) == BACKOFF_CAP_SECONDS


@pytest.mark.parametrize("module", ["leadshare/notify/formats.py", "leadshare/notify/urls.py"])
def test_formats_and_url_rules_import_no_framework(module):
    tree = ast.parse((ROOT / module).read_text())
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not imported & {"flask", "sqlalchemy", "marshmallow"}


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("[点我](http://evil)", "［点我］（http：//evil）"),
        ("**x** __y__ `z` ~~w~~", "＊＊x＊＊ ＿＿y＿＿ ｀z｀ ～～w～～"),
        ('<@userid> <font color="info">', '＜@userid＞ ＜font color="info"＞'),
        ("A6L\n> 客户：李四\n# 标题", "A6L ＞ 客户：李四 ＃ 标题"),
        (
            "![img](https://x/y.png) a|b &amp; c\\d",
            "！［img］（https：//x/y.png） a｜b ＆amp; c＼d",
        ),
        ("奥迪 A6L 2.0T", "奥迪 A6L 2.0T"),
    ],
)
def test_free_text_in_wecom_markdown_cannot_form_links_or_formatting(typed, shown):
    assert inert(typed) == shown
    data = {**LEAD, "model": typed, "dealer": {**TIANHE, "name": typed}}
    text = markdown_text(Message("m", "offered", datetime(2026, 1, 1), "l", "s", "u/l", data))
    assert f"> 门店：{shown}" in text and text.count("](") == 1
