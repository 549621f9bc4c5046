"""The WeCom server API: the corp access token (cached until it expires), OAuth code -> member,
and app messages to members (message/send).

Base URLs come from settings (WECOM_API_BASE), so the tests talk to a fake WeCom on 127.0.0.1.
A token WeCom calls invalid or expired (errcode 40014, 42001) is dropped and fetched once more.
Nothing here touches the database: call it outside any unit of work.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

TOKEN_INVALID = frozenset({40014, 42001})
"""errcode for an invalid (40014) or expired (42001) access token: fetch a new one and retry."""
RATE_LIMITED = frozenset({45009, 45033})
"""errcode for calls over the API's frequency (45009) or concurrency (45033) limit: wait."""
ALL_RECIPIENTS_INVALID = 81013
"""errcode of message/send when none of the recipients is a member the app can reach."""
CODE_INVALID = frozenset({40029, 50001})
"""errcode for a bad, used or expired OAuth code (40029), or an untrusted domain (50001)."""
BUSINESS_TYPE_CHAIN = 1
"""`business_type` of the corpgroup APIs for 上下游 (0 is 企业互联)."""
TOKEN_MARGIN_SECONDS = 300
"""A cached token is renewed this long before WeCom says it expires."""


class WecomError(Exception):
    """WeCom answered with an errcode other than 0."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeCom errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WecomUnavailable(Exception):
    """WeCom could not be reached, timed out, or answered something that is not its JSON."""


class NotShared(Exception):
    """The app is not shared with this downstream corp (上下游): its members cannot be reached."""


@dataclass(frozen=True)
class App:
    """A self-built WeCom app: the corp, the agent and the app's secret."""

    corp_id: str
    agent_id: int
    secret: str


@dataclass(frozen=True)
class Member:
    """Who opened the page: a member of `corp_id` (a 上下游 store answers its own corp)."""

    corp_id: str
    userid: str


class TokenCache:
    """Access tokens per (base URL, corp, secret), shared by the threads of one process."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
        self.agents: dict[tuple[str, str, int, str], int] = {}
        """The agent id a shared app has in a downstream corp: (base, corp, agent, downstream)."""
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> str | None:
        with self._lock:
            found = self._tokens.get(key)
        return found[0] if found and found[1] > time.monotonic() else None

    def put(self, key: tuple[str, str, str], token: str, expires_in: int) -> None:
        lasts = max(0, expires_in - TOKEN_MARGIN_SECONDS)
        with self._lock:
            self._tokens[key] = (token, time.monotonic() + lasts)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()
            self.agents.clear()

    def drop(self, key: tuple[str, str, str], token: str) -> None:
        with self._lock:
            if self._tokens.get(key, ("",))[0] == token:
                del self._tokens[key]


TOKENS = TokenCache()


class WecomClient:
    """Calls of one app against the WeCom server API at `api_base`."""

    def __init__(self, api_base: str, timeout: float, cache: TokenCache = TOKENS) -> None:
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self.cache = cache

    def _request(self, path: str, params: dict[str, Any], body: dict | None = None) -> dict:
        url = f"{self.api_base}/{path}?{urllib.parse.urlencode(params)}"
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
        if data is not None:
            request.add_header("Content-Type", "application/json; charset=utf-8")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read().decode("utf-8"))
        except (OSError, ValueError) as exc:  # URLError, timeouts, HTTP errors, bad JSON
            raise WecomUnavailable(f"WeCom did not answer {path}: {exc}") from exc
        if not isinstance(answer, dict):
            raise WecomUnavailable(f"WeCom answered {path} with something that is not an object")
        errcode = answer.get("errcode", 0)
        if errcode not in (0, None):
            raise WecomError(int(errcode), str(answer.get("errmsg", "")))
        return answer

    def access_token(self, app: App) -> str:
        """The app's access token, from the cache while it lasts (`gettoken` otherwise)."""
        key = (self.api_base, app.corp_id, app.secret)
        token = self.cache.get(key)
        if token is None:
            answer = self._request("gettoken", {"corpid": app.corp_id, "corpsecret": app.secret})
            token = str(answer.get("access_token") or "")
            if not token:
                raise WecomUnavailable("WeCom's gettoken answer has no access_token")
            self.cache.put(key, token, int(answer.get("expires_in") or 7200))
        return token

    def _call(self, app: App, path: str, params: dict[str, Any], body: dict | None = None) -> dict:
        """One call with the app's token; a token WeCom refuses is renewed and the call repeated."""
        token = self.access_token(app)
        try:
            return self._request(path, {"access_token": token, **params}, body)
        except WecomError as exc:
            if exc.errcode not in TOKEN_INVALID:
                raise
            self.cache.drop((self.api_base, app.corp_id, app.secret), token)
            return self._request(path, {"access_token": self.access_token(app), **params}, body)

    def member_of_code(self, app: App, code: str) -> Member | None:
        """The member an OAuth code (snsapi_base) belongs to; None for a visitor who is not one.

        WeCom answers `userid` for a member and `openid` for anyone else; a member of a
        downstream corp (上下游) is answered with that corp's `corpid`.
        """
        answer = self._call(app, "auth/getuserinfo", {"code": code})
        userid = answer.get("userid") or answer.get("UserId")
        if not userid:
            return None
        return Member(corp_id=str(answer.get("corpid") or app.corp_id), userid=str(userid))

    def send_message(self, app: App, document: dict[str, Any]) -> dict:
        """message/send: an app message (`touser`, `msgtype`, ... with the app's `agentid`).
        WeCom answers errcode 0 when some recipients were reached; the others are named in
        `invaliduser` (`a|b`)."""
        return self._call(app, "message/send", {}, {**document, "agentid": app.agent_id})

    def downstream_agent(self, app: App, corp_id: str) -> int:
        """The app's agent id in downstream corp `corp_id`: corpgroup/corp/list_app_share_info
        (with the app's own token and agent id), remembered for the life of the process."""
        key = (self.api_base, app.corp_id, app.agent_id, corp_id)
        if key not in self.cache.agents:
            body = {
                "agentid": app.agent_id,
                "business_type": BUSINESS_TYPE_CHAIN,
                "corpid": corp_id,
            }
            answer = self._call(app, "corpgroup/corp/list_app_share_info", {}, body)
            found = [c for c in answer.get("corp_list") or [] if c.get("corpid") == corp_id]
            if not found or not found[0].get("agentid"):
                raise NotShared(f"The WeCom app is not shared with corp {corp_id}.")
            self.cache.agents[key] = int(found[0]["agentid"])
        return self.cache.agents[key]

    def _downstream_key(self, app: App, corp_id: str) -> tuple[str, str, str]:
        return (self.api_base, f"{app.corp_id}>{corp_id}", app.secret)

    def downstream_token(self, app: App, corp_id: str, agent_id: int) -> str:
        """The downstream corp's access token: corpgroup/corp/gettoken with the app's own
        token, the corp and the app's agent id there; cached until it expires."""
        key = self._downstream_key(app, corp_id)
        token = self.cache.get(key)
        if token is None:
            body = {"corpid": corp_id, "business_type": BUSINESS_TYPE_CHAIN, "agentid": agent_id}
            answer = self._call(app, "corpgroup/corp/gettoken", {}, body)
            token = str(answer.get("access_token") or "")
            if not token:
                raise WecomUnavailable("WeCom's corpgroup/corp/gettoken answer has no access_token")
            self.cache.put(key, token, int(answer.get("expires_in") or 7200))
        return token

    def send_downstream(self, app: App, corp_id: str, document: dict[str, Any]) -> dict:
        """message/send to members of downstream corp `corp_id` (上下游), with that corp's token
        and the app's agent id there; a token WeCom refuses is renewed and the send repeated."""
        agent_id = self.downstream_agent(app, corp_id)
        body = {**document, "agentid": agent_id}
        token = self.downstream_token(app, corp_id, agent_id)
        try:
            return self._request("message/send", {"access_token": token}, body)
        except WecomError as exc:
            if exc.errcode not in TOKEN_INVALID:
                raise
            self.cache.drop(self._downstream_key(app, corp_id), token)
            token = self.downstream_token(app, corp_id, agent_id)
            return self._request("message/send", {"access_token": token}, body)
