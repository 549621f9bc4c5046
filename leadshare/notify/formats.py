"""Message bodies (WeCom group-robot markdown, or signed JSON) and their signature: pure functions.

A message never carries customer contact details (PIPL): the customer's name is masked before it
is stored, and phone, WeChat ID, address and free-text notes are never part of it.

Free text (store, program and customer names, models, places) is made inert before it is placed
into WeCom markdown: WeCom documents no escape character, so the characters that form links,
emphasis, code, quotes, headings, mentions (`<@userid>`) and `<font>` tags are replaced by their
full-width forms, line breaks by spaces, and `://` is broken so no bare URL is linked.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from leadshare.clock import format_local, iso_z, parse_iso
from leadshare.notify.enums import NotificationEvent
from leadshare.rewards.enums import RewardEvent

WECOM_HOST = "qyapi.weixin.qq.com"
WECOM_PATH = "/cgi-bin/webhook/send"
WECOM_MAX_BYTES = 4096
SIGNATURE_HEADER = "X-Leadshare-Signature"
USER_AGENT = "leadshare-webhook/1"

STAGE_TITLES = {
    NotificationEvent.CONTACTED: "已联系客户",
    NotificationEvent.VISITED: "客户已到店",
    NotificationEvent.ORDERED: "客户已下单",
    NotificationEvent.DELIVERED: "已交车",
    NotificationEvent.LOST: "已战败",
}
REWARD_EVENT_NAMES = {
    RewardEvent.ACCEPTED: "接单",
    RewardEvent.VISITED: "到店",
    RewardEvent.ORDERED: "下单",
    RewardEvent.DELIVERED: "交车",
}
CURRENCY_SIGNS = {"CNY": "¥"}
MARKDOWN_SPECIAL = "[]()*_`~<>#!|&\\\r\n\t\u2028\u2029"
MARKDOWN_INERT = str.maketrans(MARKDOWN_SPECIAL, "［］（）＊＿｀～＜＞＃！｜＆＼     ")


@dataclass(frozen=True)
class Message:
    """One outbox row as the formats see it; `data` holds JSON-ready facts about the change."""

    message_id: str
    event: str
    occurred_at: datetime
    lead_id: str | None
    lead_status: str | None
    lead_url: str | None
    data: Mapping[str, Any] = field(default_factory=dict)
    timezone: str = "Asia/Shanghai"


def is_wecom_robot(url: str) -> bool:
    """WeCom group-robot webhooks get markdown; every other URL gets signed JSON."""
    parts = urlsplit(url.strip())
    return (parts.hostname or "").lower() == WECOM_HOST and parts.path == WECOM_PATH


def json_document(message: Message) -> dict[str, Any]:
    return {
        "id": message.message_id,
        "type": message.event,
        "occurred_at": iso_z(message.occurred_at),
        "lead": None
        if message.lead_id is None
        else {"id": message.lead_id, "status": message.lead_status, "url": message.lead_url},
        "data": dict(message.data),
    }


def json_body(message: Message) -> bytes:
    """The exact bytes sent (and signed): compact UTF-8 JSON, keys in a fixed order."""
    return json.dumps(json_document(message), ensure_ascii=False, separators=(",", ":")).encode()


def sign(secret: str, body: bytes) -> str:
    """The X-Leadshare-Signature value: `sha256=` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute over the raw body and compare in constant time."""
    return hmac.compare_digest(sign(secret, body), signature.strip())


def _local(value: str | None, timezone: str) -> str:
    """A message's ISO-8601 time as the group's wall-clock time; blank when there is none."""
    return format_local(parse_iso(value), timezone) if value else ""


def inert(value: Any) -> str:
    """Text that WeCom markdown shows as it is: it cannot form a link, formatting or a mention."""
    text = "" if value is None else str(value)
    return text.translate(MARKDOWN_INERT).replace("://", "：//")


def _name(ref: Mapping[str, Any] | None) -> str:
    return inert(ref["name"]) if ref else ""


def _customer_lines(data: Mapping[str, Any]) -> list[str]:
    place = "".join(filter(None, (data.get("city"), data.get("district")))) or data.get("province")
    place = inert(place)
    customer = inert(data.get("customer_name"))
    interest = inert(" ".join(filter(None, (data.get("brand"), data.get("model")))))
    return [
        f"> 客户：{customer}" + (f"（{place}）" if place else ""),
        f"> 意向：{interest}",
    ]


def _money(data: Mapping[str, Any]) -> str:
    sign_ = CURRENCY_SIGNS.get(data.get("currency") or "")
    amount = inert(data["amount"])
    return f"{sign_}{amount}" if sign_ else f"{amount} {inert(data.get('currency'))}"


def markdown_text(message: Message) -> str:
    """The Chinese text of a WeCom markdown message, ending with a link to the lead page (the
    notices page for what group admins are told)."""
    data, tz = message.data, message.timezone
    told = _admin_lines(message)
    if told is not None:
        lines = [f"**{told[0]}**", *(f"> {line}" for line in told[1])]
    elif message.event == NotificationEvent.OFFERED:
        lines = [
            "**新线索待接单**",
            f"> 门店：{_name(data.get('dealer'))}",
            *_customer_lines(data),
            f"> 距离：{data.get('distance_km')} 公里",
            f"> 推荐门店：{_name(data.get('referrer'))}",
            f'请于 <font color="warning">{_local(data.get("expires_at"), tz)}</font> 前接单，'
            "过期将转给下一家门店。",
        ]
    elif message.event == NotificationEvent.OFFER_EXPIRING:
        lines = [
            "**线索即将过期**",
            f"> 门店：{_name(data.get('dealer'))}",
            *_customer_lines(data),
            f'将于 <font color="warning">{_local(data.get("expires_at"), tz)}</font> 过期，'
            "请尽快接单或婉拒。",
        ]
    elif message.event == NotificationEvent.CLAIMED:
        lines = [
            "**您推荐的线索已被接单**",
            f"> 接单门店：{_name(data.get('holder'))}",
            *_customer_lines(data),
        ]
    elif message.event in STAGE_TITLES:
        lines = [
            f"**线索进展：{STAGE_TITLES[message.event]}**",
            f"> 跟进门店：{_name(data.get('holder'))}",
            *_customer_lines(data),
        ]
    elif message.event in (NotificationEvent.SLA_REMINDER, NotificationEvent.SLA_MISSED):
        sla = SLA_NAMES.get(data.get("sla") or "", inert(data.get("sla")))
        due = _local(data.get("due_at"), tz)
        if message.event == NotificationEvent.SLA_REMINDER:
            lines = ["**服务时限即将到期**", *_customer_lines(data), f"> {sla}时限：{due}"]
        else:
            lines = [
                "**未在服务时限内完成**",
                *_customer_lines(data),
                f"> {sla}时限：{due}（已过）",
                *(["线索已收回，重新分配给其他门店。"] if data.get("released") else []),
            ]
    elif message.event == NotificationEvent.FOLLOW_UP_DUE:
        lines = [
            "**客户预约已到时间**",
            f"> 顾问：{inert(data.get('consultant') or '未指定')}",
            *_customer_lines(data),
            f"> 预约时间：{_local(data.get('next_at'), tz)}",
        ]
    elif message.event == NotificationEvent.REWARD_CREDITED:
        event_name = REWARD_EVENT_NAMES.get(
            data.get("reward_event") or "", data.get("reward_event")
        )
        lines = [
            "**推荐奖励到账**",
            f'> 金额：<font color="info">{_money(data)}</font>',
            f"> 奖励计划：{inert(data.get('program'))}",
            f"> 奖励事件：{inert(event_name)}",
            *_customer_lines(data),
        ]
    else:
        lines = [f"**线索通知：{inert(message.event)}**", *_customer_lines(data)]
    if message.lead_url:
        lines.append(f"[查看{'通知' if told else '线索'}]({message.lead_url})")
    return "\n".join(lines)


def wecom_body(message: Message) -> bytes:
    """A WeCom group-robot `markdown` message (its content is cut to WeCom's 4096 bytes)."""
    content = markdown_text(message)
    while len(content.encode()) > WECOM_MAX_BYTES:
        content = content[: len(content) - 64]
    document = {"msgtype": "markdown", "markdown": {"content": content}}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def wecom_digest_body(messages: list[Message], robot_limit: int) -> bytes:
    """One WeCom markdown message for several: a heading that says why they were merged, then a
    line per message (its title and link); lines that do not fit WeCom's 4096 bytes are
    counted at the end instead."""
    heading = f"**{len(messages)} 条线索通知（合并发送：群机器人每分钟最多 {robot_limit} 条）**"
    lines = []
    for message in messages:
        title = markdown_text(message).split("\n", 1)[0].strip("*")
        link = f" [查看]({message.lead_url})" if message.lead_url else ""
        lines.append(f"> {title}{link}")
    content = "\n".join([heading, *lines])
    kept = len(lines)
    while len(content.encode()) > WECOM_MAX_BYTES and kept > 0:
        kept -= 1
        rest = f"> 另有 {len(lines) - kept} 条，请在 leadshare 中查看"
        content = "\n".join([heading, *lines[:kept], rest])
    document = {"msgtype": "markdown", "markdown": {"content": content}}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


APP_TITLES = {
    NotificationEvent.SLA_REMINDER: "服务时限即将到期",
    NotificationEvent.BUDGET_LOW: "奖励预算低于提醒金额",
    NotificationEvent.CREDIT_SKIPPED: "奖励因预算不足未发放",
    NotificationEvent.CONTACT_VIEWS: "员工查看客户联系方式过多",
}
SLA_NAMES = {"contact": "联系客户", "visit": "邀约到店"}
APP_TITLE_MAX_BYTES = 128
APP_DESCRIPTION_MAX_BYTES = 512
MARKUP = re.compile(r"</?font[^>]*>|\*\*")


def _cut(text: str, limit: int) -> str:
    while len(text.encode()) > limit:
        text = text[:-1]
    return text


def _admin_lines(message: Message) -> tuple[str, list[str]] | None:
    """The title and lines of what group admins are told; None for any other message."""
    data = message.data
    if message.event == NotificationEvent.BUDGET_LOW:
        return APP_TITLES[message.event], [
            f"奖励计划：{inert(data.get('program'))}",
            f"剩余预算：{_money({**data, 'amount': data.get('remaining')})}",
            f"提醒金额：{_money({**data, 'amount': data.get('alert_below')})}",
        ]
    if message.event == NotificationEvent.CREDIT_SKIPPED:
        return APP_TITLES[message.event], [
            f"奖励计划：{inert(data.get('program'))}",
            f"未发放金额：{_money(data)}",
            f"剩余预算：{_money({**data, 'amount': data.get('remaining')})}",
        ]
    if message.event == NotificationEvent.CONTACT_VIEWS:
        return APP_TITLES[message.event], [
            f"员工：{inert(data.get('user'))}",
            f"{inert(data.get('day'))} 查看了 {inert(data.get('views'))} 位非本店客户的联系方式"
            f"（提醒阈值 {inert(data.get('threshold'))}）",
        ]
    return None


def _app_lines(message: Message) -> tuple[str, list[str]]:
    """The title and the lines of a WeCom app message (plain text, the same facts as a robot's)."""
    data, tz = message.data, message.timezone
    if message.event == NotificationEvent.SLA_REMINDER:
        sla = SLA_NAMES.get(data.get("sla") or "", inert(data.get("sla")))
        return APP_TITLES[message.event], [
            *(line.removeprefix("> ") for line in _customer_lines(data)),
            f"{sla}时限：{_local(data.get('due_at'), tz)}",
        ]
    told = _admin_lines(message)
    if told is not None:
        return told
    title, *lines = markdown_text(message).split("\n")
    lines = [line for line in lines if not line.startswith("[")]  # the link is the card's
    return MARKUP.sub("", title), [MARKUP.sub("", line).removeprefix("> ") for line in lines]


def app_message(message: Message, agent_id: int, touser: list[str]) -> dict[str, Any]:
    """The body of WeCom's message/send for app members: a text card that opens `url` (the lead
    page, which signs a member in on the way), or plain text when there is no page to open."""
    title, lines = _app_lines(message)
    document: dict[str, Any] = {"touser": "|".join(touser), "agentid": agent_id}
    if message.lead_url:
        description = _cut("\n".join(lines), APP_DESCRIPTION_MAX_BYTES)
        document["msgtype"] = "textcard"
        document["textcard"] = {
            "title": _cut(title, APP_TITLE_MAX_BYTES),
            "description": description,
            "url": message.lead_url,
            "btntxt": "查看",
        }
    else:
        document["msgtype"] = "text"
        document["text"] = {"content": _cut("\n".join([title, *lines]), 2048)}
    return document


def base_headers() -> dict[str, str]:
    """The headers of every webhook POST (a WeCom robot's get no others)."""
    return {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}


def render(message: Message, url: str, secret: str | None) -> tuple[bytes, dict[str, str]]:
    """(body, headers) for this URL: markdown for a WeCom robot, else JSON signed with `secret`."""
    headers = base_headers()
    if is_wecom_robot(url):
        return wecom_body(message), headers
    body = json_body(message)
    headers["X-Leadshare-Message-Id"] = message.message_id
    headers["X-Leadshare-Event"] = message.event
    if secret is None:
        raise ValueError("A signed JSON message needs the store's webhook secret.")
    headers[SIGNATURE_HEADER] = sign(secret, body)
    return body, headers
