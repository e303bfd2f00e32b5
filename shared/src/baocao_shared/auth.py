"""Verification of intake's EdDSA JWTs by any service: the token's `Principal` (baocao_shared.principal), or a refusal.

intake signs tokens with its Ed25519 key and publishes the public key at /.well-known/jwks.json.
Every service verifies with `JwtVerifier`, which accepts only EdDSA (no `alg` confusion) and
checks expiry, issuer and audience.

Token lifetimes use the wall clock, never the simulated business clock: at a simulated speed of
86400 an eight-hour token would otherwise expire in a third of a second.

In a service's create_app (the routes then take `baocao_shared.http.deps.CurrentPrincipal`):

    app.state.jwt_verifier = JwtVerifier.from_jwks_url(intake_jwks_url(settings))
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Mapping
from typing import Any

import httpx
import jwt
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.utils import base64url_decode

from baocao_shared.errors import Unauthorized, Unavailable
from baocao_shared.principal import Principal
from baocao_shared.token_access import TokenAccess, TokenRevoked

log = structlog.get_logger(__name__)

ISSUER = "baocao-intake"
AUDIENCE = "baocao"
ALGORITHM = "EdDSA"
SESSION_COOKIE = "baocao_session"  # the web pages carry the same JWT in this cookie
JWKS_PATH = "/.well-known/jwks.json"


class KeySetUnavailable(Unavailable):
    """intake's key set could not be fetched, so no token can be checked right now."""

    code = "auth_unavailable"


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
        self._access: TokenAccess | None = None

    def checking(self, access: TokenAccess | None) -> JwtVerifier:
        """This verifier (sharing its keys) that also refuses a revoked token: issued before its account's
        `not_before`, or of an inactive account (baocao_shared.token_access)."""
        checked = copy.copy(self)
        checked._access = access
        return checked

    @classmethod
    def from_jwks_url(cls, url: str, **kwargs: Any) -> JwtVerifier:
        return cls(jwks_url=url, **kwargs)

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any], **kwargs: Any) -> JwtVerifier:
        keys = public_keys_from_jwks(jwks)
        if not keys:
            raise ValueError("the JWKS holds no Ed25519 signing key")
        return cls(keys, **kwargs)

    @classmethod
    def from_public_key(
        cls, key: Ed25519PublicKey | bytes | str, *, kid: str | None = None, **kwargs: Any
    ) -> JwtVerifier:
        """From an Ed25519 public key object or its PEM text."""
        if isinstance(key, str | bytes):
            key = load_pem_public_key(key.encode() if isinstance(key, str) else key)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("only Ed25519 public keys verify Baocao tokens")
        return cls({kid: key}, **kwargs)

    async def verify(self, token: str) -> Principal:
        claims = await self.claims(token)
        principal = Principal.from_claims(claims)
        if self._access is not None:
            why = self._access.refusal_for(principal.subject, issued_at=float(claims["iat"]))
            if why is not None:
                raise TokenRevoked(why)
        return principal

    async def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of a token (signature, exp, iss, aud), not yet checked against revocations."""
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
        return claims

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
