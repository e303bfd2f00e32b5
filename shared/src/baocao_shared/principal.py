"""Who is calling, and what each role may do: pure rules, no I/O.

Every service asks the caller's `Principal` before it reads or changes anything; the tokens that carry
a principal are checked by `baocao_shared.auth` (the JWT verifier) and handed to the routes by
`baocao_shared.http.deps`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from baocao_shared.errors import Unauthorized


class Role(StrEnum):
    REPORTER = "reporter"  # one unit: submits for and reads that unit only
    PROVINCE_OPERATOR = "province_operator"  # one province's staff office (phòng Tham mưu)
    NATIONAL_OPERATOR = "national_operator"  # the national standing office: every published report
    ADMIN = "admin"


def scope_problem(role: Role, province: str | None, unit: str | None) -> str | None:
    """Why a role cannot carry this province/unit, or None when they fit together."""
    if role is Role.REPORTER and not (province and unit):
        return "a reporter belongs to one unit: province and unit are required"
    if role is Role.PROVINCE_OPERATOR and not province:
        return "a province operator belongs to one province: province is required"
    if role is Role.PROVINCE_OPERATOR and unit:
        return "a province operator has no unit"
    if role in (Role.NATIONAL_OPERATOR, Role.ADMIN) and (province or unit):
        return f"a {role.value} has neither province nor unit"
    return None


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    province: str | None = None
    unit: str | None = None
    via: str = "jwt"  # "jwt" | "api_token" | "session"

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))

    @property
    def is_national(self) -> bool:
        """The national office or an admin: sees every province."""
        return self.role in (Role.ADMIN, Role.NATIONAL_OPERATOR)

    def may_submit_for(self, province: str, unit: str) -> bool:
        """A unit's own reporter (or its API token) submits its reports; its province's operators and admins may
        enter one on its behalf (intake records it as such); the national office never does."""
        if self.role is Role.REPORTER:
            return self.province == province and self.unit == unit
        return self.may_operate_province(province)

    def may_read_unit(self, province: str, unit: str) -> bool:
        if self.role is Role.REPORTER:
            return self.province == province and self.unit == unit
        return self.may_read_province(province)

    def may_read_province(self, province: str) -> bool:
        if self.is_national:
            return True
        return self.province == province

    def oversees(self, province: str) -> bool:
        """Reads a province's whole picture (its compliance, consolidated report, deliveries): the province's
        operators, the national office and admins; never a unit's reporter."""
        return self.role is not Role.REPORTER and self.may_read_province(province)

    def may_operate_province(self, province: str) -> bool:
        """Approve, publish, nudge: the province's own operators, and admins."""
        return self.role is Role.ADMIN or (self.role is Role.PROVINCE_OPERATOR and self.province == province)

    def claims(self) -> dict[str, str]:
        """The identity claims of a JWT for this principal (intake adds iss, aud, iat, exp, jti)."""
        out = {"sub": self.subject, "role": self.role.value}
        if self.province:
            out["province"] = self.province
        if self.unit:
            out["unit"] = self.unit
        return out

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], *, via: str = "jwt") -> Principal:
        """The principal a verified token names; a token with a role it cannot hold is refused."""
        try:
            role = Role(claims.get("role"))
        except ValueError:
            raise Unauthorized("The token names no known role.") from None
        province, unit = claims.get("province") or None, claims.get("unit") or None
        if scope_problem(role, province, unit):
            raise Unauthorized("The token's role does not fit its province and unit.")
        return cls(subject=str(claims["sub"]), role=role, province=province, unit=unit, via=via)
