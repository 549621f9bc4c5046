"""Domain errors: raised by services and the core, mapped to HTTP once per surface."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal a person can understand; `reason` is the machine-readable snake_case word."""

    status = 409
    reason = "conflict"

    def __init__(self, message: str, *, reason: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if reason:
            self.reason = reason
        self.extra = extra

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the JSON body (none by default)."""
        return {}


class NotFound(DomainError):
    """Missing, or outside the caller's scope: both answer the same so nothing leaks."""

    status = 404
    reason = "not_found"


class Forbidden(DomainError):
    """Seen, but not the caller's to do (a role, or a store that is not the lead's)."""

    status = 403
    reason = "forbidden"


class Unauthorized(DomainError):
    """Not signed in, or a credential that no longer holds."""

    status = 401
    reason = "unauthorized"


class TooManyRequests(DomainError):
    """Refused for now; `retry_after` (whole seconds) goes into the body and `Retry-After`."""

    status = 429
    reason = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, reason: str | None = None) -> None:
        super().__init__(message, reason=reason, retry_after=retry_after)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        """When to ask again."""
        return {"Retry-After": str(self.retry_after)}


class Conflict(DomainError):
    """The request is fine but the state of things refuses it (already claimed, duplicate)."""

    status = 409


class Invalid(DomainError):
    """A field-level refusal found by a service (e.g. a dealer that is not in the group)."""

    status = 422
    reason = "invalid"

    def __init__(self, field: str, message: str, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.field = field
