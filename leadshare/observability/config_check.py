"""`flask leadshare check`: every problem of the running configuration, fatal or a warning.

Fatal: a weak or missing secret where hosts share a database, a database that does not answer,
a schema behind the migrations, private webhook addresses allowed on a shared database.
Warnings: the same two settings on SQLite (one host, a local receiver), an http link base or
session cookie that is not Secure behind https, and every advisory readiness check that is not
ok (the worker, the outbox, the sweep, and any check added with `health.advisory`). A short
SECRET_KEY on a shared database never gets this far: the app refuses to start (exit code 4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from ..settings import MIN_SECRET_KEY_CHARS, Settings
from . import health

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "password", "dev", "development", "test"}
MIN_DISTINCT_SECRET_CHARS = 10
MIN_METRICS_TOKEN_CHARS = 16


class Severity(StrEnum):
    FATAL = "fatal"
    WARNING = "warning"
    OK = "ok"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    name: str
    message: str


def _secret(settings: Settings) -> Finding:
    key = settings.secret_key or ""
    weak = (
        len(key) < MIN_SECRET_KEY_CHARS
        or len(set(key)) < MIN_DISTINCT_SECRET_CHARS
        or any(word in key.lower() for word in PLACEHOLDER_SECRETS if len(key) < 2 * len(word))
    )
    if not key:
        return Finding(Severity.FATAL, "secret_key", "SECRET_KEY is not set.")
    if not weak:
        return Finding(Severity.OK, "secret_key", "SECRET_KEY is long and varied enough.")
    message = (
        f"SECRET_KEY is weak ({len(key)} characters, {len(set(key))} different ones): use"
        ' python3 -c "import secrets; print(secrets.token_urlsafe(48))", the same on every host.'
    )
    return Finding(
        Severity.WARNING if settings.is_sqlite else Severity.FATAL, "secret_key", message
    )


def _webhooks(settings: Settings) -> Finding:
    if not settings.notify.allow_private:
        return Finding(Severity.OK, "webhooks", "Webhooks to private addresses are refused.")
    message = (
        "ALLOW_PRIVATE_WEBHOOKS=1 lets group admins point webhooks at internal hosts; set it to 0"
        " unless every group admin is fully trusted."
    )
    return Finding(Severity.WARNING if settings.is_sqlite else Severity.FATAL, "webhooks", message)


def _links(settings: Settings, config: Mapping[str, Any]) -> list[Finding]:
    base = settings.notify.public_base_url
    found = []
    if not settings.is_sqlite and ("://127.0.0.1" in base or "://localhost" in base):
        found.append(
            Finding(
                Severity.WARNING,
                "public_base_url",
                f"PUBLIC_BASE_URL is {base}: the links in notifications reach no one else.",
            )
        )
    if base.startswith("https://") and not config.get("SESSION_COOKIE_SECURE"):
        found.append(
            Finding(
                Severity.WARNING,
                "session_cookie_secure",
                "The service is reached over https but SESSION_COOKIE_SECURE is not 1.",
            )
        )
    token = settings.observability.metrics_token
    if token and len(token) < MIN_METRICS_TOKEN_CHARS:
        found.append(
            Finding(
                Severity.WARNING,
                "metrics_token",
                f"METRICS_TOKEN has only {len(token)} characters.",
            )
        )
    return found


def find_problems(
    config: Mapping[str, Any], session: Session, migrations_dir: str, limits: health.Limits
) -> list[Finding]:
    """Every finding, fatal ones first; OK findings say what was checked."""
    settings = Settings.from_config(config)
    found = [_secret(settings), _webhooks(settings), *_links(settings, config)]
    fatal, advisories = health.readiness(session, migrations_dir, limits)
    for check in fatal:
        found.append(Finding(Severity.OK if check.ok else Severity.FATAL, check.name, check.detail))
    for check in advisories:
        severity = Severity.OK if check.ok else Severity.WARNING
        found.append(Finding(severity, check.name, check.detail))
    order = {Severity.FATAL: 0, Severity.WARNING: 1, Severity.OK: 2}
    return sorted(found, key=lambda finding: order[finding.severity])
