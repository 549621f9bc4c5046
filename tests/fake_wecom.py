"""A fake WeCom on 127.0.0.1: gettoken, auth/getuserinfo and message/send, and an authorize
page that sends a browser straight back with a code for `visitor` (as WeCom does inside its app).

It knows corps (`corp(...)`), their members (`members(...)`: whom message/send reaches; others
are answered in `invaliduser`, and 81013 when nobody is reached), OAuth codes (`code(...)`, each
usable once, as in WeCom), issues numbered access tokens, can expire them (`expire_tokens()`: the
next call answers 42001) and can be told to answer any errcode (`fail_next(path, errcode)`).
Downstream corps (上下游, `share(corp, agentid)`) have the app shared with them under an agent id
of their own: corpgroup/corp/list_app_share_info names it, corpgroup/corp/gettoken (with the
upstream app's token) issues the downstream corp's token, and message/send with that token
takes only that agent id.
Every request is recorded.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

AUTHORIZE_PATH = "/connect/oauth2/authorize"


@dataclass(frozen=True)
class Call:
    path: str
    query: dict[str, str]
    body: Any


class FakeWecom:
    def __init__(self, expires_in: int = 7200) -> None:
        self.expires_in = expires_in
        self.secrets: dict[str, str] = {}
        self.known: dict[str, set[str]] = {}  # corp id -> userids message/send reaches
        self.messages: list[dict] = []  # the app messages accepted (errcode 0)
        self.codes: dict[str, dict[str, str]] = {}
        self.tokens: dict[str, str] = {}  # live token -> corp id
        self.shared: dict[str, int] = {}  # downstream corp id -> the app's agent id there
        self.sent_to: list[str] = []  # the corp of each accepted app message
        self.calls: list[Call] = []
        self.failures: dict[str, deque[int]] = {}
        self.visitor: dict[str, str] = {}  # who the fake authorize page says is signing in
        self.authorized = 0  # browsers the authorize page sent back
        self._issued = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body: Any) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, body: Any) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                path = parts.path.removeprefix("/cgi-bin/")
                with fake._lock:
                    fake.calls.append(Call(path, query, body))
                    self._answer(fake.respond(path, query, body))

            def do_GET(self):  # noqa: N802 - http.server's name
                if self.path.startswith(AUTHORIZE_PATH):
                    self._authorize()
                else:
                    self._handle(None)

            def _authorize(self) -> None:
                """WeCom's authorize page: back to `redirect_uri` with a code for `visitor`."""
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                with fake._lock:
                    fake.authorized += 1
                    code = f"auto-code-{fake.authorized}"
                    fake.codes[code] = {"app_corp": query.get("appid", ""), **fake.visitor}
                back = urlencode({"code": code, "state": query["state"]})
                back = f"{query['redirect_uri']}?{back}"
                self.send_response(302)
                self.send_header("Location", back)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._handle(json.loads(raw or b"null"))

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.base_url = f"{origin}/cgi-bin"
        self.authorize_url = f"{origin}{AUTHORIZE_PATH}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # --- what the fake knows -------------------------------------------------------------

    def corp(self, corp_id: str, secret: str) -> None:
        self.secrets[corp_id] = secret

    def share(self, corp_id: str, agent_id: int) -> None:
        """The upstream app is shared with downstream corp `corp_id` as agent `agent_id`."""
        self.shared[corp_id] = agent_id

    def members(self, corp_id: str, *userids: str) -> None:
        self.known.setdefault(corp_id, set()).update(userids)

    def code(self, code: str, corp_id: str, userid: str | None = None, **extra: str) -> None:
        """A code WeCom handed out for a visitor of `corp_id`'s app: a member (`userid`),
        a downstream member (`corpid=` in `extra`) or a visitor who is no member (`openid=`)."""
        self.codes[code] = {"app_corp": corp_id, **({"userid": userid} if userid else {}), **extra}

    def expire_tokens(self, corp_id: str | None = None) -> None:
        """Every token issued so far (of `corp_id` only, when given) is expired: the next call
        with one answers 42001."""
        with self._lock:
            for token, corp in list(self.tokens.items()):
                if corp_id in (None, corp):
                    del self.tokens[token]

    def fail_next(self, path: str, errcode: int) -> None:
        self.failures.setdefault(path, deque()).append(errcode)

    def calls_to(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    # --- WeCom's answers ------------------------------------------------------------------

    def respond(self, path: str, query: dict[str, str], body: Any) -> dict:
        pending = self.failures.get(path)
        if pending:
            return {"errcode": pending.popleft(), "errmsg": "forced by the test"}
        if path == "gettoken":
            corp_id = query.get("corpid", "")
            if corp_id not in self.secrets:
                return {"errcode": 40013, "errmsg": "invalid corpid"}
            if self.secrets[corp_id] != query.get("corpsecret"):
                return {"errcode": 40001, "errmsg": "invalid credential"}
            self._issued += 1
            token = f"token-{self._issued}"
            self.tokens[token] = corp_id
            return {"errcode": 0, "access_token": token, "expires_in": self.expires_in}
        token = query.get("access_token", "")
        if token not in self.tokens:
            issued = token.startswith("token-")
            return {"errcode": 42001 if issued else 40014, "errmsg": "access_token expired"}
        if path == "auth/getuserinfo":
            found = self.codes.pop(query.get("code", ""), None)
            if found is None or found["app_corp"] != self.tokens[token]:
                return {"errcode": 40029, "errmsg": "invalid code"}
            answer = {k: v for k, v in found.items() if k != "app_corp"}
            return {"errcode": 0, "errmsg": "ok", **answer}
        if path == "message/send":
            return self._message(self.tokens[token], body or {})
        if path.startswith("corpgroup/corp/"):
            return self._corpgroup(path, self.tokens[token], body or {})
        return {"errcode": 404, "errmsg": f"no such API {path}"}

    def _corpgroup(self, path: str, corp_id: str, body: dict) -> dict:
        if corp_id not in self.secrets:  # a downstream token cannot reach further down
            return {"errcode": 48002, "errmsg": "api forbidden"}
        if body.get("business_type") != 1:
            return {"errcode": 40058, "errmsg": "business_type: 1 for 上下游"}
        wanted = body.get("corpid")
        if path == "corpgroup/corp/list_app_share_info":
            shared = {c: a for c, a in self.shared.items() if wanted in (None, c)}
            corps = [{"corpid": c, "corp_name": c, "agentid": a} for c, a in shared.items()]
            return {"errcode": 0, "errmsg": "ok", "ending": 1, "corp_list": corps}
        if path == "corpgroup/corp/gettoken":
            if wanted not in self.shared:
                return {"errcode": 40013, "errmsg": "invalid corpid"}
            if body.get("agentid") != self.shared[wanted]:
                return {"errcode": 40056, "errmsg": "invalid agentid"}
            self._issued += 1
            token = f"token-{self._issued}"
            self.tokens[token] = wanted
            return {"errcode": 0, "access_token": token, "expires_in": self.expires_in}
        return {"errcode": 404, "errmsg": f"no such API {path}"}

    def _message(self, corp_id: str, body: dict) -> dict:
        if body.get("msgtype") not in ("text", "textcard") or not body.get("agentid"):
            return {"errcode": 40008, "errmsg": "invalid message type"}
        if corp_id in self.shared and body.get("agentid") != self.shared[corp_id]:
            return {"errcode": 40056, "errmsg": "invalid agentid"}
        touser = [u for u in str(body.get("touser") or "").split("|") if u]
        invalid = [u for u in touser if u not in self.known.get(corp_id, set())]
        if len(invalid) == len(touser):
            return {"errcode": 81013, "errmsg": "user & party & tag all invalid"}
        self.messages.append(body)
        self.sent_to.append(corp_id)
        return {"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid)}

    def __enter__(self) -> FakeWecom:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
