"""intake's Ed25519 signing key: loaded from a PEM file, or made once for development and kept.

The kid is the key's RFC 7638 thumbprint, so it changes exactly when the key does and every
service's verifier notices a rotation by the kid alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)
from jwt.utils import base64url_encode

from baocao_shared.auth import ALGORITHM, AUDIENCE, ISSUER
from baocao_shared.principal import Principal
from intake.config import Settings

DEV_KEY_NAME = "intake-ed25519.pem"


class SigningKeyMissing(RuntimeError):
    """Production starts only with a configured key: a generated one would log everyone out on each deploy."""


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638: SHA-256 of the required members in lexicographic order, without whitespace."""
    required = {name: jwk[name] for name in ("crv", "kty", "x")}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True).encode()
    return base64url_encode(hashlib.sha256(canonical).digest()).decode()


@dataclass(frozen=True)
class SigningKey:
    private_key: Ed25519PrivateKey

    @property
    def kid(self) -> str:
        return jwk_thumbprint(self.public_jwk())

    def public_jwk(self) -> dict[str, str]:
        raw = self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": base64url_encode(raw).decode()}
        return {**jwk, "kid": jwk_thumbprint(jwk), "use": "sig", "alg": ALGORITHM}

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [self.public_jwk()]}

    def sign(self, principal: Principal, *, now: datetime, ttl: timedelta) -> str:
        """An access token for `principal`, valid from `now` for `ttl` (wall-clock instants)."""
        claims = {
            **principal.claims(),
            "iss": ISSUER,
            "aud": AUDIENCE,
            # With its microseconds: a token issued just after a password change, in the same second, still works
            # (baocao_shared.token_access compares it with the change's instant).
            "iat": now.timestamp(),
            "nbf": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid})


def load_signing_key(settings: Settings) -> SigningKey:
    """The configured key; outside production, a generated one kept under BAOCAO_HOME/keys."""
    if settings.jwt_private_key_file is not None:
        return SigningKey(_read_pem(Path(settings.jwt_private_key_file)))
    if settings.env == "production":
        raise SigningKeyMissing("BAOCAO_ENV=production needs BAOCAO_JWT_PRIVATE_KEY_FILE (an Ed25519 PEM)")
    path = Path(settings.home) / "keys" / DEV_KEY_NAME
    if not path.exists():
        _write_new_key(path)
    return SigningKey(_read_pem(path))


def _read_pem(path: Path) -> Ed25519PrivateKey:
    if not path.is_file():
        raise SigningKeyMissing(f"the signing key file {path} does not exist")
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyMissing(f"{path} is not an Ed25519 private key")
    return key


def _write_new_key(path: Path) -> None:
    """Write a fresh key with mode 0600; instances starting together keep whichever landed first."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        os.link(tmp, path)  # fails if another process got there first, never half-written
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def generate_key_file(path: Path) -> Path:
    """A new Ed25519 PEM at `path` (for operators and tests); refuses to overwrite one."""
    if path.exists():
        raise FileExistsError(path)
    _write_new_key(path)
    return path
