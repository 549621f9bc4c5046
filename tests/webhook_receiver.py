"""A fake webhook receiver on 127.0.0.1 (http.server in a thread) that records every request."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WECOM_OK = b'{"errcode":0,"errmsg":"ok"}'


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when it arrived

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = WECOM_OK
    delay: float = 0.0


class Receiver:
    """`answer(...)` queues the next answers; after them every request gets `default`."""

    def __init__(self, default: Answer | None = None) -> None:
        self.default = default or Answer()
        self.gate = threading.Event()  # cleared: requests wait (at most a minute) before answering
        self.gate.set()
        self.requests: list[Received] = []
        self._answers: deque[Answer] = deque()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.requests.append(Received(self.path, dict(self.headers), body))
                    answer = receiver._answers.popleft() if receiver._answers else receiver.default
                receiver.gate.wait(timeout=60)
                time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:  # the deliverer gave up waiting (a timeout test)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        # A short poll: shutdown() waits up to one poll interval, once per test that uses it.
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, *answers: Answer) -> None:
        with self._lock:
            self._answers.extend(answers)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wecom_url(self, key: str = "robot-key") -> str:
        """A WeCom robot URL; tests resolve qyapi.weixin.qq.com to this receiver."""
        return f"http://qyapi.weixin.qq.com:{self.port}/cgi-bin/webhook/send?key={key}"

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()


def to_localhost(host: str, port: int) -> list[str]:
    """A resolver that sends every host name (qyapi.weixin.qq.com included) to the receiver."""
    return ["127.0.0.1"]
