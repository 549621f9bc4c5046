"""Structured logs: every log line is one JSON object (python-json-logger), with the request id.

`configure_logging` puts one JSON handler on the root logger (LOG_FORMAT=json, the default) or
plain text (LOG_FORMAT=text). Lines carry only ids, routes, statuses, counts and durations:
never a customer's name, phone, WeChat ID or address (the request line names the route
template, not the path or query).
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from .context import current_request_id

_HANDLER_MARK = "_leadshare_handler"


class RequestIdFilter(logging.Filter):
    """Give a record the id of the request (or message) in progress, unless it names one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


def json_formatter() -> JsonFormatter:
    """time (UTC, ISO 8601), level, logger, message, then every `extra` field of the record."""
    return JsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        timestamp="time",
        rename_fields={"levelname": "level", "name": "logger"},
        json_ensure_ascii=False,
    )


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Install the one handler of this process on the root logger (again: it is replaced)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        json_formatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    handler.addFilter(RequestIdFilter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(level)
