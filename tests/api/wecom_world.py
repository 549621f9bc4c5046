"""A group with a WeCom app on the fake WeCom server, for the WeCom tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.fernet import Fernet

from leadshare.wecom.client import TOKENS

from ..fake_wecom import FakeWecom

IN_WECOM = {
    "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh"
}
CORP, AGENT, SECRET = "wwcorp0001", 1000002, "app-secret-0001"


def running_fake(app, monkeypatch) -> Iterator[FakeWecom]:
    """The fake WeCom, with the app's WeCom settings pointing at it and a fresh token cache.

    Use it as a fixture: `yield from running_fake(app, monkeypatch)`."""
    with FakeWecom() as fake:
        fake.corp(CORP, SECRET)
        monkeypatch.setitem(app.config, "WECOM_API_BASE", fake.base_url)
        monkeypatch.setitem(app.config, "WECOM_ENCRYPTION_KEY", Fernet.generate_key().decode())
        TOKENS.clear()
        yield fake
    TOKENS.clear()


@dataclass
class Sign:
    """What a WeCom sign-in left: the redirect to WeCom and the callback's answer."""

    authorize: Any
    query: dict[str, str]
    callback: Any


def configure(client, group, admin_headers, **overrides) -> dict:
    body = {"corp_id": CORP, "agent_id": AGENT, "secret": SECRET, **overrides}
    body = {key: value for key, value in body.items() if value is not None}
    response = client.put(f"/api/v1/groups/{group.id}/wecom", json=body, headers=admin_headers)
    assert response.status_code == 200, response.json
    return response.json


def link(client, user, admin_headers, userid: str, corp_id: str | None = None) -> None:
    body = {"userid": userid, **({"corp_id": corp_id} if corp_id else {})}
    response = client.put(f"/api/v1/users/{user.id}/wecom", json=body, headers=admin_headers)
    assert response.status_code == 200, response.json


def sign_in(browser, fake: FakeWecom, path: str, code: str, **member: str) -> Sign:
    """Open `path` inside WeCom, follow WeCom's redirect back with `code` for `member`."""
    authorize = browser.get(path, headers=IN_WECOM)
    assert authorize.status_code == 302, authorize.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize.location).query).items()}
    if member:
        fake.code(code, query["appid"], **member)
    callback = browser.get(
        urlsplit(query["redirect_uri"]).path,
        query_string={"code": code, "state": query["state"]},
        headers=IN_WECOM,
    )
    return Sign(authorize, query, callback)
