"""The domain's refusals, as exceptions: pure, no HTTP here.

A rule that says no raises a named error (a service's `PeriodLocked`, `StaleVersion`, ...) that extends
one of the kinds below. The kind says what sort of refusal it is; `code` is the stable word programs
read; `details` is what a program needs to act on it. The HTTP adapter (`baocao_shared.http.errors`)
maps each kind to its status in one place, and pages catch the named errors they explain in Vietnamese.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A rule said no."""

    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Unauthorized(DomainError):
    """No credentials, or credentials that do not verify."""

    code = "unauthorized"


class Forbidden(DomainError):
    """The caller's role or scope does not allow this."""

    code = "forbidden"


class NotFound(DomainError):
    """No such thing, or none the caller may see."""

    code = "not_found"


class Conflict(DomainError):
    """It conflicts with the current state."""

    code = "conflict"


class Unprocessable(DomainError):
    """The request is not valid; `details` lists each problem."""

    code = "validation_failed"


class TooManyRequests(DomainError):
    """Too many attempts; try again after `retry_after_s`."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after_s: int, details: Any = None) -> None:
        super().__init__(message, details)
        self.retry_after_s = max(1, int(retry_after_s))


class Unavailable(DomainError):
    """Something this depends on (Kafka, intake's keys) does not answer now; try again shortly."""

    code = "unavailable"
