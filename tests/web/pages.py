"""Helpers for page tests: sign in through the login form, read CSRF tokens, post forms."""

from __future__ import annotations

import re
from typing import Any

CSRF_TOKEN = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_TOKEN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Browser:
    """A signed-in test client that sends the page's CSRF token with every form."""

    def __init__(self, app, user=None, password: str = "password123", lang: str | None = None):
        self.client = app.test_client()
        self.token = csrf_token(self.get("/login").text)
        if lang:
            self.post("/language", lang=lang, next="/login")
        if user is not None:
            response = self.post("/login", email=user.email, password=password)
            assert response.status_code == 302, response.text
            self.token = csrf_token(self.get("/login", follow_redirects=True).text)

    def get(self, path: str, **kwargs: Any):
        return self.client.get(path, **kwargs)

    def post(self, path: str, *, follow_redirects: bool = False, **fields: Any):
        data = {"csrf_token": self.token, **fields}
        return self.client.post(path, data=data, follow_redirects=follow_redirects)


def lead_form(**overrides: Any) -> dict[str, Any]:
    """The post-a-lead form for a customer in Guangzhou Tianhe who wants an Audi."""
    fields = {
        "name": "张三",
        "phone": "138 1234 5678",
        "wechat_id": "",
        "address": "广东省广州市天河区",
        "brand": "奥迪",
        "model": "A6L",
        "budget": "40-50万",
        "timeframe": "1m",
        "channel": "livestream",
        "campaign": "双11直播",
        "notes": "客户周末有空",
        "consent": "y",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def lead_id_from(location: str) -> str:
    match = re.search(r"/leads/(ld_[0-9a-f]+)", location)
    assert match, location
    return match.group(1)


VALID_VIN = "1M8GDM9AXKP042788"
"""A textbook VIN whose check digit (X) is right."""
