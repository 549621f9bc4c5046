"""Settings from environment variables: the one documented list (see README, Configuration)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from .auth.throttle import LoginPolicy

MIN_SECRET_KEY_CHARS = 32
WECOM_API_BASE = "https://qyapi.weixin.qq.com/cgi-bin"
WECOM_AUTHORIZE_URL = "https://open.weixin.qq.com/connect/oauth2/authorize"


class ConfigError(RuntimeError):
    """A setting that stops the service from starting; the message says which and how to fix it."""


def is_sqlite(url: str) -> bool:
    """The embedded single-host database, where a generated key and the demo are fine."""
    return url.startswith("sqlite")


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _secret_key(instance_path: Path) -> str:
    """Keep one generated key per instance, so sessions and tokens survive restarts."""
    path = instance_path / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker won the race: use its key
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def load_config(instance_path: Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the app config from the environment, then apply explicit overrides (tests)."""
    overrides = dict(overrides or {})
    instance_path.mkdir(parents=True, exist_ok=True)
    database_url = _env("DATABASE_URL", f"sqlite:///{instance_path / 'leadshare.db'}")
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    config: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TOKEN_TTL_SECONDS": int(_env("TOKEN_TTL_SECONDS", "43200")),
        "GEOCODER": (_env("GEOCODER", "none") or "none").lower(),
        "GEOCODER_DOMAIN": _env("GEOCODER_DOMAIN"),
        "GEOCODER_SCHEME": _env("GEOCODER_SCHEME", "https"),
        "GEOCODER_API_KEY": _env("GEOCODER_API_KEY"),
        "GEOCODER_TIMEOUT": float(_env("GEOCODER_TIMEOUT", "2")),
        "GEOCODER_MIN_DELAY": float(_env("GEOCODER_MIN_DELAY", "1")),
        "GEOCODER_USER_AGENT": _env("GEOCODER_USER_AGENT", "leadshare/0.1"),
        "PASSWORD_HASH_METHOD": _env("PASSWORD_HASH_METHOD", "scrypt"),
        # Sign-in throttling (README, Signing in): failures are counted in the database.
        "LOGIN_PAIR_MAX_FAILURES": int(_env("LOGIN_PAIR_MAX_FAILURES", "5")),
        "LOGIN_PAIR_WINDOW_SECONDS": int(_env("LOGIN_PAIR_WINDOW_SECONDS", "900")),
        "LOGIN_DELAY_SECONDS": int(_env("LOGIN_DELAY_SECONDS", "60")),
        "LOGIN_DELAY_MAX_SECONDS": int(_env("LOGIN_DELAY_MAX_SECONDS", "3600")),
        "LOGIN_ACCOUNT_MAX_FAILURES": int(_env("LOGIN_ACCOUNT_MAX_FAILURES", "50")),
        "LOGIN_ADDRESS_MAX_FAILURES": int(_env("LOGIN_ADDRESS_MAX_FAILURES", "100")),
        "LOGIN_LIMIT_WINDOW_SECONDS": int(_env("LOGIN_LIMIT_WINDOW_SECONDS", "3600")),
        "TRUSTED_PROXIES": int(_env("TRUSTED_PROXIES", "0")),
        "SQLITE_BUSY_TIMEOUT_MS": int(_env("SQLITE_BUSY_TIMEOUT_MS", "15000")),
        "NOTIFY_TIMEOUT": float(_env("NOTIFY_TIMEOUT", "5")),
        "NOTIFY_MAX_ATTEMPTS": int(_env("NOTIFY_MAX_ATTEMPTS", "10")),
        "NOTIFY_REMIND_AT": float(_env("NOTIFY_REMIND_AT", "0.8")),
        # Operating it (README, Operations): logs, metrics, readiness limits.
        "LOG_LEVEL": (_env("LOG_LEVEL", "INFO") or "INFO").upper(),
        "LOG_FORMAT": (_env("LOG_FORMAT", "json") or "json").lower(),
        "METRICS_TOKEN": _env("METRICS_TOKEN"),
        "METRICS_ALLOW": _env("METRICS_ALLOW", "127.0.0.1,::1"),
        "WORKER_STALE_SECONDS": float(_env("WORKER_STALE_SECONDS", "180")),
        "OUTBOX_STALE_SECONDS": float(_env("OUTBOX_STALE_SECONDS", "300")),
        "SWEEP_LAG_SECONDS": float(_env("SWEEP_LAG_SECONDS", "120")),
        "PUBLIC_BASE_URL": (_env("PUBLIC_BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": (_env("SESSION_COOKIE_SECURE", "0") == "1"),
        # A failed statement's log line must not carry its values (a customer's phone).
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "MAX_CONTENT_LENGTH": int(_env("MAX_REQUEST_BYTES", str(1024 * 1024))),
        # flask-smorest / OpenAPI; Swagger UI assets are served locally (no CDN).
        "API_TITLE": "leadshare",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
        "JSON_SORT_KEYS": False,
    }
    # Sessions and WeCom sign-in (README, WeCom): base URLs are settings so tests use a fake.
    remember_days = int(_env("REMEMBER_DAYS", "30"))
    config.update(
        {
            "SESSION_TTL_HOURS": int(_env("SESSION_TTL_HOURS", "12")),
            "REMEMBER_DAYS": remember_days,
            "PERMANENT_SESSION_LIFETIME": timedelta(days=remember_days),
            "WECOM_API_BASE": (_env("WECOM_API_BASE", WECOM_API_BASE) or "").rstrip("/"),
            "WECOM_AUTHORIZE_URL": _env("WECOM_AUTHORIZE_URL", WECOM_AUTHORIZE_URL),
            "WECOM_TIMEOUT": float(_env("WECOM_TIMEOUT", "5")),
            "WECOM_ENCRYPTION_KEY": _env("WECOM_ENCRYPTION_KEY"),
            "WECOM_SECRETS": {
                name.removeprefix("WECOM_SECRET_"): value
                for name, value in os.environ.items()
                if name.startswith("WECOM_SECRET_") and value
            },
        }
    )
    # The live inbox: how often a page asks for new offers and counts (README, Pages).
    config["INBOX_POLL_SECONDS"] = float(_env("INBOX_POLL_SECONDS", "15"))
    # Refused by default on every database: a local receiver is an explicit choice.
    config["ALLOW_PRIVATE_WEBHOOKS"] = _env("ALLOW_PRIVATE_WEBHOOKS", "0") == "1"
    secret = overrides.get("SECRET_KEY") or _env("SECRET_KEY")
    database = overrides.get("SQLALCHEMY_DATABASE_URI", database_url)
    if not is_sqlite(database) and len(secret or "") < MIN_SECRET_KEY_CHARS:
        # Every host must sign with the same strong key; a generated per-host key would not do.
        raise ConfigError(
            f"SECRET_KEY must be set to at least {MIN_SECRET_KEY_CHARS} characters (the same on"
            " every host) when DATABASE_URL is not SQLite; it is "
            + (f"only {len(secret)} characters long." if secret else "not set.")
            + ' Generate one with: python3 -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    config["SECRET_KEY"] = secret or _secret_key(instance_path)
    config.update(overrides)
    return config


@dataclass(frozen=True)
class GeocoderSettings:
    """The optional online geocoder (GEOCODER_*)."""

    provider: str
    domain: str | None
    scheme: str
    api_key: str | None
    timeout: float
    min_delay: float
    user_agent: str


@dataclass(frozen=True)
class NotifySettings:
    """Webhook delivery (NOTIFY_*, ALLOW_PRIVATE_WEBHOOKS, PUBLIC_BASE_URL)."""

    timeout: float
    max_attempts: int
    remind_at: float
    allow_private: bool
    public_base_url: str


@dataclass(frozen=True)
class ObservabilitySettings:
    """Logs, /metrics access and the limits of the advisory readiness checks."""

    log_level: str
    log_format: str
    metrics_token: str | None
    metrics_allow: tuple[str, ...]
    worker_stale_seconds: float
    outbox_stale_seconds: float
    sweep_lag_seconds: float


@dataclass(frozen=True)
class LoginSettings:
    """Sign-in throttling (LOGIN_*), in seconds and counts."""

    pair_max_failures: int
    pair_window_seconds: int
    delay_seconds: int
    delay_max_seconds: int
    account_max_failures: int
    address_max_failures: int
    limit_window_seconds: int

    def policy(self) -> LoginPolicy:
        """The throttling rules of auth/throttle.py with these limits."""
        return LoginPolicy(
            pair_max_failures=self.pair_max_failures,
            pair_window=timedelta(seconds=self.pair_window_seconds),
            delay=timedelta(seconds=self.delay_seconds),
            delay_max=timedelta(seconds=self.delay_max_seconds),
            account_max_failures=self.account_max_failures,
            address_max_failures=self.address_max_failures,
            limit_window=timedelta(seconds=self.limit_window_seconds),
        )


@dataclass(frozen=True)
class SessionSettings:
    """How long a web session lasts: SESSION_TTL_HOURS, or REMEMBER_DAYS when remembered."""

    ttl_hours: int
    remember_days: int

    def lifetime(self, remember: bool) -> timedelta:
        return timedelta(days=self.remember_days) if remember else timedelta(hours=self.ttl_hours)


@dataclass(frozen=True)
class WecomSettings:
    """WeCom sign-in and app messages (WECOM_*); `secrets` maps a group code to its app secret."""

    api_base: str
    authorize_url: str
    timeout: float
    encryption_key: str | None
    secrets: Mapping[str, str]


@dataclass(frozen=True)
class Settings:
    """What services need, typed: read from the app config, never from `current_app` deep inside."""

    database_url: str
    secret_key: str
    token_ttl_seconds: int
    password_hash_method: str
    trusted_proxies: int
    geocoder: GeocoderSettings
    notify: NotifySettings
    login: LoginSettings
    observability: ObservabilitySettings
    sessions: SessionSettings
    wecom: WecomSettings

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.database_url)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(
            database_url=config["SQLALCHEMY_DATABASE_URI"],
            secret_key=config["SECRET_KEY"],
            token_ttl_seconds=int(config["TOKEN_TTL_SECONDS"]),
            password_hash_method=config["PASSWORD_HASH_METHOD"],
            trusted_proxies=int(config["TRUSTED_PROXIES"]),
            geocoder=GeocoderSettings(
                provider=config["GEOCODER"],
                domain=config["GEOCODER_DOMAIN"],
                scheme=config["GEOCODER_SCHEME"],
                api_key=config["GEOCODER_API_KEY"],
                timeout=float(config["GEOCODER_TIMEOUT"]),
                min_delay=float(config["GEOCODER_MIN_DELAY"]),
                user_agent=config["GEOCODER_USER_AGENT"],
            ),
            notify=NotifySettings(
                timeout=float(config["NOTIFY_TIMEOUT"]),
                max_attempts=max(1, int(config["NOTIFY_MAX_ATTEMPTS"])),
                remind_at=float(config["NOTIFY_REMIND_AT"]),
                allow_private=bool(config["ALLOW_PRIVATE_WEBHOOKS"]),
                public_base_url=str(config["PUBLIC_BASE_URL"]).rstrip("/"),
            ),
            login=LoginSettings(
                pair_max_failures=int(config["LOGIN_PAIR_MAX_FAILURES"]),
                pair_window_seconds=int(config["LOGIN_PAIR_WINDOW_SECONDS"]),
                delay_seconds=int(config["LOGIN_DELAY_SECONDS"]),
                delay_max_seconds=int(config["LOGIN_DELAY_MAX_SECONDS"]),
                account_max_failures=int(config["LOGIN_ACCOUNT_MAX_FAILURES"]),
                address_max_failures=int(config["LOGIN_ADDRESS_MAX_FAILURES"]),
                limit_window_seconds=int(config["LOGIN_LIMIT_WINDOW_SECONDS"]),
            ),
            observability=ObservabilitySettings(
                log_level=str(config["LOG_LEVEL"]),
                log_format=str(config["LOG_FORMAT"]),
                metrics_token=config["METRICS_TOKEN"] or None,
                metrics_allow=tuple(
                    part.strip()
                    for part in str(config["METRICS_ALLOW"] or "").split(",")
                    if part.strip()
                ),
                worker_stale_seconds=float(config["WORKER_STALE_SECONDS"]),
                outbox_stale_seconds=float(config["OUTBOX_STALE_SECONDS"]),
                sweep_lag_seconds=float(config["SWEEP_LAG_SECONDS"]),
            ),
            sessions=SessionSettings(
                ttl_hours=int(config["SESSION_TTL_HOURS"]),
                remember_days=int(config["REMEMBER_DAYS"]),
            ),
            wecom=WecomSettings(
                api_base=str(config["WECOM_API_BASE"]).rstrip("/"),
                authorize_url=config["WECOM_AUTHORIZE_URL"],
                timeout=float(config["WECOM_TIMEOUT"]),
                encryption_key=config["WECOM_ENCRYPTION_KEY"],
                secrets=dict(config["WECOM_SECRETS"]),
            ),
        )


def current_settings() -> Settings:
    """The running app's settings, for a surface to hand to the services it calls.

    Built from the app config on each call, so a test that changes the config sees it at once.
    """
    from flask import current_app

    return Settings.from_config(current_app.config)
