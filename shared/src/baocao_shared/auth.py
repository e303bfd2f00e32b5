"""Who is calling: roles, the principal, and verification of intake's EdDSA JWTs by any service.

intake signs tokens with its Ed25519 key and publishes the public key at /.well-known/jwks.json.
Every service verifies with `JwtVerifier`, which accepts only EdDSA (no `alg` confusion) and
checks expiry, issuer and audience.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    REPORTER = "reporter"  # one unit: submits for and reads that unit only
    PROVINCE_OPERATOR = "province_operator"  # one province's staff office (phòng Tham mưu)
    NATIONAL_OPERATOR = "national_operator"  # the national standing office: every published report
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    province: str | None = None
    unit: str | None = None
    via: str = "jwt"  # "jwt" | "api_token" | "session"

    def may_submit_for(self, province: str, unit: str) -> bool:
        """Only a unit's own reporter (or its API token) submits its reports."""
        return self.role is Role.REPORTER and self.province == province and self.unit == unit

    def may_read_unit(self, province: str, unit: str) -> bool:
        if self.role is Role.REPORTER:
            return self.province == province and self.unit == unit
        return self.may_read_province(province)

    def may_read_province(self, province: str) -> bool:
        if self.role in (Role.ADMIN, Role.NATIONAL_OPERATOR):
            return True
        return self.province == province

    def may_operate_province(self, province: str) -> bool:
        """Approve, publish, nudge: the province's own operators, and admins."""
        return self.role is Role.ADMIN or (self.role is Role.PROVINCE_OPERATOR and self.province == province)
