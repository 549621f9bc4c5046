"""The consent notice a customer is shown before their details are shared (PIPL art. 14, 17, 23).

The text is Chinese by design: staff show it (or its QR code) to the customer, whatever the
staff's own language. Its version is what the intake records as `consent.text_version`: change
the text, change NOTICE_VERSION. The group's retention period is part of the text, so it is
part of the version too (`notice_version`).
"""

from __future__ import annotations

import io

import segno

NOTICE_VERSION = "zh-2026-12-v1"


def notice_version(retention_days: int) -> str:
    """The version of the text a group with this retention period shows: `zh-2026-12-v1-r365`."""
    return f"{NOTICE_VERSION}-r{retention_days}"


def notice_paragraphs(group_name: str, retention_days: int) -> list[str]:
    """The notice for one group, paragraph by paragraph."""
    return [
        f"您好！为了让最合适的门店为您服务，{group_name}会在集团内的门店之间共享您的购车线索。",
        "共享的信息：您的姓名、手机号或微信号、大致住址（用于匹配离您最近的门店）、"
        "意向品牌和车型、预算和购车时间。",
        "用途：仅用于安排一家门店与您联系并提供购车服务，不会用于其他目的，不会出售给集团以外的任何人。",
        "查看权限：只有接收您线索的门店和最初登记您信息的门店可以看到您的联系方式；"
        "每一次查看都会被记录。",
        f"保存期限：线索结束后，您的个人信息最多保存 {retention_days} 天，之后自动删除；"
        "统计数据不含您的个人信息。",
        "您的权利：您可以随时联系任一门店或集团，查询、导出或要求删除我们保存的您的信息，"
        "也可以撤回同意。",
        "如您同意，请告知工作人员。",
    ]


def qr_svg(url: str) -> bytes:
    """The notice page's address as an SVG QR code (medium error correction)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=6, border=2, xmldecl=False)
    return out.getvalue()
