"""Who is calling: roles, the principal, and verification of intake's EdDSA JWTs by any service.

intake signs tokens with its Ed25519 key and publishes the public key at /.well-known/jwks.json.
Every service verifies with `JwtVerifier`, which accepts only EdDSA (no `alg` confusion) and
checks expiry, issuer and audience.

Token lifetimes use the wall clock, never the simulated business clock: at a simulated speed of
86400 an eight-hour token would otherwise expire in a third of a second.

In a service:

    app.state.jwt_verifier = JwtVerifier.from_jwks_url(intake_jwks_url(settings))   # in create_app
    Caller = Annotated[Principal, Depends(current_principal)]
    Operator = Annotated[Principal, Depends(require(Role.PROVINCE_OPERATOR, Role.ADMIN))]
"""

# No `from __future__ import annotations` here: FastAPI must see the closures' Depends() objects.
import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Annotated, Any

import httpx
import jwt
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.utils import base64url_decode

from baocao_shared.errors import DomainError, Forbidden, Unauthorized

log = structlog.get_logger(__name__)

ISSUER = "baocao-intake"
AUDIENCE = "baocao"
ALGORITHM = "EdDSA"
SESSION_COOKIE = "baocao_session"  # the web pages carry the same JWT in this cookie
JWKS_PATH = "/.well-known/jwks.json"


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

    def claims(self) -> dict[str, str]:
        """The identity claims of a JWT for this principal (intake adds iss, aud, iat, exp, jti)."""
        out = {"sub": self.subject, "role": self.role.value}
        if self.province:
            out["province"] = self.province
        if self.unit:
            out["unit"] = self.unit
        return out

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], *, via: str = "jwt") -> "Principal":
        """The principal a verified token names; a token with a role it cannot hold is refused."""
        try:
            role = Role(claims.get("role"))
        except ValueError:
            raise Unauthorized("The token names no known role.") from None
        province, unit = claims.get("province") or None, claims.get("unit") or None
        if scope_problem(role, province, unit):
            raise Unauthorized("The token's role does not fit its province and unit.")
        return cls(subject=str(claims["sub"]), role=role, province=province, unit=unit, via=via)


class KeySetUnavailable(DomainError):
    """intake's key set could not be fetched, so no token can be checked right now."""

    status, code = 503, "auth_unavailable"


def public_keys_from_jwks(jwks: Mapping[str, Any]) -> dict[str | None, Ed25519PublicKey]:
    """The Ed25519 signing keys of a JWKS, by kid; keys of any other type or use are ignored."""
    keys: dict[str | None, Ed25519PublicKey] = {}
    for jwk in jwks.get("keys", []):
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        if jwk.get("use", "sig") != "sig" or jwk.get("alg", ALGORITHM) != ALGORITHM:
            continue
        try:
            keys[jwk.get("kid")] = Ed25519PublicKey.from_public_bytes(base64url_decode(jwk["x"]))
        except (KeyError, ValueError):
            log.warning("jwks.key_skipped", kid=jwk.get("kid"))
    return keys


class JwtVerifier:
    """Checks intake's tokens: EdDSA only, signature, exp, iss and aud; returns the `Principal`.

    Built from a JWKS URL, the key set is fetched on first use and kept; a token whose `kid` is
    not in it triggers a refetch (key rotation), at most once per `min_refetch_interval_s`, and
    the whole set is refreshed after `max_age_s` so that a withdrawn key stops being accepted.
    """

    def __init__(
        self,
        keys: Mapping[str | None, Ed25519PublicKey] | None = None,
        *,
        jwks_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        leeway_s: float = 30,
        min_refetch_interval_s: float = 30,
        max_age_s: float = 3600,
        timeout_s: float = 5,
    ) -> None:
        if keys is None and jwks_url is None:
            raise ValueError("JwtVerifier needs keys or a jwks_url")
        self._keys: dict[str | None, Ed25519PublicKey] = dict(keys or {})
        self._jwks_url = jwks_url
        self._http = http_client
        self.issuer, self.audience, self.leeway_s = issuer, audience, leeway_s
        self._min_refetch_interval_s = min_refetch_interval_s
        self._max_age_s = max_age_s
        self._timeout_s = timeout_s
        self._fetched_at: float | None = None  # time.monotonic() of the last fetch attempt
        self._loaded_at: float | None = None  # ... of the last successful one
        self._lock = asyncio.Lock()

    @classmethod
    def from_jwks_url(cls, url: str, **kwargs: Any) -> "JwtVerifier":
        return cls(jwks_url=url, **kwargs)

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any], **kwargs: Any) -> "JwtVerifier":
        keys = public_keys_from_jwks(jwks)
        if not keys:
            raise ValueError("the JWKS holds no Ed25519 signing key")
        return cls(keys, **kwargs)

    @classmethod
    def from_public_key(
        cls, key: Ed25519PublicKey | bytes | str, *, kid: str | None = None, **kwargs: Any
    ) -> "JwtVerifier":
        """From an Ed25519 public key object or its PEM text."""
        if isinstance(key, str | bytes):
            key = load_pem_public_key(key.encode() if isinstance(key, str) else key)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("only Ed25519 public keys verify Baocao tokens")
        return cls({kid: key}, **kwargs)

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("The token is malformed.") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthorized("Only EdDSA tokens are accepted.")
        key = await self._key_for(header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway_s,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The token has expired.") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"The token is not valid: {exc}.") from None
        return Principal.from_claims(claims)

    async def _key_for(self, kid: str | None) -> Ed25519PublicKey:
        if self._jwks_url is not None and self._stale():
            await self._refresh()
        key = self._lookup(kid)
        if key is None and self._jwks_url is not None:
            await self._refresh()  # a new kid: intake may have rotated its key
            key = self._lookup(kid)
        if key is None and self._jwks_url is not None and not self._keys:
            raise KeySetUnavailable("intake's signing keys cannot be fetched; try again shortly.")
        if key is None:
            raise Unauthorized("The token is signed with an unknown key.")
        return key

    def _lookup(self, kid: str | None) -> Ed25519PublicKey | None:
        if len(self._keys) == 1 and (kid is None or None in self._keys):
            return next(iter(self._keys.values()))  # a verifier built from one bare key, or a token without kid
        return self._keys.get(kid)

    def _stale(self) -> bool:
        return self._loaded_at is None or time.monotonic() - self._loaded_at > self._max_age_s

    async def _refresh(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._fetched_at is not None and now - self._fetched_at < self._min_refetch_interval_s:
                return  # fetched or tried moments ago: a flood of bad kids must not flood intake
            self._fetched_at = now
            try:
                keys = public_keys_from_jwks(await self._fetch())
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("jwks.fetch_failed", url=self._jwks_url, error=repr(exc))
                return  # keep verifying with the keys we have, if any
            self._keys, self._loaded_at = keys, now

    async def _fetch(self) -> Mapping[str, Any]:
        if self._http is not None:
            response = await self._http.get(self._jwks_url, timeout=self._timeout_s)
        else:
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                response = await client.get(self._jwks_url)
        response.raise_for_status()
        return response.json()


def intake_jwks_url(settings: Any, default: str = "http://127.0.0.1:8001") -> str:
    """intake's JWKS address from a service's `service_urls` setting (BAOCAO_SERVICE_URLS)."""
    return settings.service_urls.get("intake", default).rstrip("/") + JWKS_PATH


_bearer = HTTPBearer(auto_error=False, description="An intake JWT, or (intake only) a unit's API token")


def request_token(request: Request, bearer: str | None) -> tuple[str, str] | None:
    """The token a request carries and how: the `Authorization: Bearer` value first, then the session cookie."""
    if bearer:
        return bearer, "jwt"
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie, "session"
    return None


PrincipalDependency = Callable[..., Awaitable[Principal]]


def bearer_principal(verifier: JwtVerifier | None = None) -> PrincipalDependency:
    """A FastAPI dependency: the caller's `Principal`, or 401.

    Without a verifier it uses `request.app.state.jwt_verifier`, set in the service's create_app.
    """

    async def principal(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Principal:
        found = request_token(request, credentials.credentials if credentials else None)
        if found is None:
            raise Unauthorized("Sign in, or send `Authorization: Bearer <token>`.")
        token, via = found
        checker = verifier or request.app.state.jwt_verifier
        found_principal = await checker.verify(token)
        return found_principal if via == "jwt" else replace(found_principal, via=via)

    return principal


current_principal = bearer_principal()


def require(*roles: Role, auth: PrincipalDependency = current_principal) -> PrincipalDependency:
    """A dependency that returns the caller when it holds one of `roles`, else 403 (401 unsigned)."""
    allowed = frozenset(Role(r) for r in roles)

    async def principal_with_role(principal: Annotated[Principal, Depends(auth)]) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"This needs the role {' or '.join(sorted(allowed))}.")
        return principal

    return principal_with_role
