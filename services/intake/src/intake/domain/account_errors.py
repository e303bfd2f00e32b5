"""intake's refusals about accounts, sign-in, API tokens and the audit trail, by name (the unit's report, its
form, the catalogue and periods are in `intake.domain.errors`).

Each extends a kind of `baocao_shared.errors` (the kind gives the HTTP status, in one place).
"""

from __future__ import annotations

import uuid

from baocao_shared.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized, Unprocessable

# ----------------------------------------------------------------------------- accounts and API tokens


class WrongCredentials(Unauthorized):
    """Unknown username, wrong password or a disabled account: one answer for all three."""

    def __init__(self) -> None:
        super().__init__("Wrong username or password.")


class TooManyFailedSignIns(TooManyRequests):
    """Sign-in refused for a while; `limit` says whose allowance ran out: the client address ("client"), or this
    username's from this address ("username": the same username from another address is not slowed)."""

    def __init__(self, *, limit: str, retry_after_s: int) -> None:
        whose = "from this address" if limit == "client" else "for this username from this address"
        super().__init__(
            f"Too many failed sign-ins {whose}; wait and try again.",
            retry_after_s=retry_after_s,
            details={"limit": limit},
        )
        self.limit = limit


class UsernameTaken(Conflict):
    """Another account holds the username."""

    def __init__(self, username: str) -> None:
        super().__init__(f"The username {username} is taken.")
        self.username = username


class AccountInvalid(Unprocessable):
    """The account's role, province and unit do not fit (or its fields are malformed); `problems` list each."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("The account is not valid.", problems)
        self.problems = problems


class PasswordInvalid(Unprocessable):
    """Too short or too long to be a password (`reason` says which)."""

    def __init__(self, reason: str) -> None:
        super().__init__("The password is not valid.", [{"field": "password", "message": reason}])
        self.reason = reason


class AccountNotFound(NotFound):
    """No account of this username."""

    def __init__(self, username: str) -> None:
        super().__init__(f"No account {username}.")
        self.username = username


class RefusedInProduction(Forbidden):
    """Demo data is never made in production."""

    def __init__(self, what: str) -> None:
        verb = "are" if what.endswith("s") else "is"  # "Demo accounts are", "Demo history is"
        super().__init__(f"{what} {verb} refused when BAOCAO_ENV=production.")
        self.what = what


class MayNotManageApiTokens(Forbidden):
    """A unit's tokens are managed by its reporter (not by a token), its province's operators and admins."""

    def __init__(self, *, province: str, unit: str) -> None:
        super().__init__(
            f"Only unit {province}.{unit}'s reporter, the province's operators or an admin manage its API tokens."
        )
        self.province, self.unit = province, unit


class NoActiveUnit(NotFound):
    """Tokens are issued to active units of the catalogue only."""

    def __init__(self, *, province: str, unit: str) -> None:
        super().__init__(f"Province {province} has no active unit {unit}.")
        self.province, self.unit = province, unit


class ApiTokenNotFound(NotFound):
    """The unit has no token of this id."""

    def __init__(self, *, province: str, unit: str, token_id: uuid.UUID) -> None:
        super().__init__(f"Unit {province}.{unit} has no API token {token_id}.")
        self.token_id = token_id


class ApiTokenRefused(Unauthorized):
    """Unknown, revoked, or of a retired unit."""

    def __init__(self) -> None:
        super().__init__("The API token is unknown or revoked.")


class AuditTrailForbidden(Forbidden):
    """The audit trail is for the operators, the national office and admins; never a unit's reporter."""

    def __init__(self) -> None:
        super().__init__("The audit trail is for the province's operators, the national office and admins.")


class MayNotDeactivateSelf(Conflict):
    """An admin does not deactivate their own account: the last admin would lock everyone out."""

    def __init__(self, username: str) -> None:
        super().__init__(f"{username} is your own account: another admin deactivates it.")
        self.username = username
