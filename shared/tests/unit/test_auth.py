"""JwtVerifier refuses everything but intake's EdDSA tokens; the FastAPI dependencies answer 401/403."""

import base64
import hashlib
import hmac
import json
import time
from typing import Annotated

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import Depends, FastAPI

from baocao_shared.auth import AUDIENCE, ISSUER, SESSION_COOKIE, JwtVerifier, KeySetUnavailable
from baocao_shared.errors import Unauthorized
from baocao_shared.http.deps import bearer_principal, require
from baocao_shared.http.errors import install_error_handlers, status_of
from baocao_shared.principal import Principal, Role


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Signer:
    """An intake stand-in: one Ed25519 key with its kid."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.key = Ed25519PrivateKey.generate()

    def jwk(self) -> dict:
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw), "kid": self.kid, "use": "sig", "alg": "EdDSA"}

    def token(self, **overrides) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "30-CA",
            "role": "reporter",
            "province": "30",
            "unit": "CA",
            "iat": now,
            "exp": now + 600,
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": self.kid})


@pytest.fixture
def signer() -> Signer:
    return Signer("k1")


@pytest.fixture
def verifier(signer: Signer) -> JwtVerifier:
    return JwtVerifier.from_jwks({"keys": [signer.jwk()]})


async def test_a_valid_token_names_the_principal(signer, verifier):
    principal = await verifier.verify(signer.token())
    assert principal == Principal(subject="30-CA", role=Role.REPORTER, province="30", unit="CA", via="jwt")
    assert principal.may_submit_for("30", "CA") and not principal.may_submit_for("30", "BTG")


async def test_a_public_key_alone_verifies(signer):
    pem = signer.key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    principal = await JwtVerifier.from_public_key(pem).verify(
        signer.token(sub="admin", role="admin", province=None, unit=None)
    )
    assert principal.role is Role.ADMIN and principal.province is None


async def test_an_expired_token_is_refused(signer, verifier):
    with pytest.raises(Unauthorized, match="expired"):
        await verifier.verify(signer.token(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600))


async def test_a_tampered_token_is_refused(signer, verifier):
    header, payload, signature = signer.token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = b64url(json.dumps({**claims, "role": "admin", "province": None, "unit": None}).encode())
    with pytest.raises(Unauthorized):
        await verifier.verify(f"{header}.{forged}.{signature}")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    with pytest.raises(Unauthorized):
        await verifier.verify(f"{header}.{payload}.{flipped}")


async def test_alg_none_is_refused(signer, verifier):
    claims = jwt.decode(signer.token(), options={"verify_signature": False})
    unsigned = jwt.encode(claims, key=None, algorithm="none", headers={"kid": signer.kid})
    with pytest.raises(Unauthorized, match="EdDSA"):
        await verifier.verify(unsigned)


async def test_hs256_signed_with_the_public_key_is_refused(signer, verifier):
    """The classic alg confusion: an attacker HMACs with the (public) key bytes."""
    public_pem = signer.key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    public_raw = base64.urlsafe_b64decode(signer.jwk()["x"] + "==")
    claims = jwt.decode(signer.token(), options={"verify_signature": False})
    claims.update(role="admin", province=None, unit=None)
    for secret in (public_pem, public_raw):
        header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": signer.kid}).encode())
        body = b64url(json.dumps(claims).encode())
        mac = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
        with pytest.raises(Unauthorized, match="EdDSA"):
            await verifier.verify(f"{header}.{body}.{b64url(mac)}")


async def test_a_token_for_another_audience_or_issuer_is_refused(signer, verifier):
    with pytest.raises(Unauthorized, match=r"(?i)audience"):
        await verifier.verify(signer.token(aud="someone-else"))
    with pytest.raises(Unauthorized, match=r"(?i)issuer"):
        await verifier.verify(signer.token(iss="not-intake"))
    with pytest.raises(Unauthorized):
        await verifier.verify(signer.token(exp=None))


async def test_a_token_whose_role_does_not_fit_is_refused(signer, verifier):
    with pytest.raises(Unauthorized, match="role"):
        await verifier.verify(signer.token(role="superuser"))
    with pytest.raises(Unauthorized, match="province and unit"):
        await verifier.verify(signer.token(unit=None))


async def test_a_key_not_in_the_set_is_refused(verifier):
    with pytest.raises(Unauthorized, match=r"(?i)signature"):
        await verifier.verify(Signer("k1").token())  # same kid, another key
    with pytest.raises(Unauthorized, match="unknown key"):
        await verifier.verify(Signer("k2").token())


def jwks_server(signers: list[Signer], calls: list[str], *, fail: bool = False) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        if fail:
            return httpx.Response(503)
        return httpx.Response(200, json={"keys": [s.jwk() for s in signers]})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def test_a_jwks_url_is_fetched_once_and_refetched_for_a_new_kid():
    first, second = Signer("k1"), Signer("k2")
    published, calls = [first], []
    verifier = JwtVerifier.from_jwks_url(
        "http://intake.test/.well-known/jwks.json",
        http_client=jwks_server(published, calls),
        min_refetch_interval_s=0,
    )
    await verifier.verify(first.token())
    await verifier.verify(first.token())
    assert len(calls) == 1

    published.append(second)  # intake rotates its key
    assert (await verifier.verify(second.token())).subject == "30-CA"
    assert len(calls) == 2


async def test_unknown_kids_do_not_flood_intake_with_fetches():
    known, calls = Signer("k1"), []
    verifier = JwtVerifier.from_jwks_url(
        "http://intake.test/.well-known/jwks.json", http_client=jwks_server([known], calls), min_refetch_interval_s=60
    )
    await verifier.verify(known.token())
    for n in range(5):
        with pytest.raises(Unauthorized, match="unknown key"):
            await verifier.verify(Signer(f"bogus-{n}").token())
    assert len(calls) == 1


async def test_an_unreachable_key_set_is_a_503_not_a_401():
    verifier = JwtVerifier.from_jwks_url("http://intake.test/jwks", http_client=jwks_server([], [], fail=True))
    with pytest.raises(KeySetUnavailable) as caught:
        await verifier.verify(Signer("k1").token())
    assert status_of(caught.value) == 503  # answered as 503 by the HTTP adapter


def app_with(verifier: JwtVerifier) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    caller = bearer_principal(verifier)

    @app.get("/me")
    async def me(principal: Annotated[Principal, Depends(caller)]) -> dict:
        return {"subject": principal.subject, "via": principal.via}

    @app.get("/operators-only")
    async def operators(
        principal: Annotated[Principal, Depends(require(Role.PROVINCE_OPERATOR, Role.ADMIN, auth=caller))],
    ) -> dict:
        return {"subject": principal.subject}

    return app


async def test_the_dependency_reads_the_header_or_the_session_cookie(signer, verifier):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_with(verifier)), base_url="http://t") as http:
        anonymous = await http.get("/me")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == "Bearer"
        assert anonymous.json()["error"]["code"] == "unauthorized"

        by_header = await http.get("/me", headers={"Authorization": f"Bearer {signer.token()}"})
        assert by_header.json() == {"subject": "30-CA", "via": "jwt"}

        http.cookies.set(SESSION_COOKIE, signer.token())
        assert (await http.get("/me")).json() == {"subject": "30-CA", "via": "session"}

        bad = await http.get("/me", headers={"Authorization": "Bearer not-a-jwt"})
        assert bad.status_code == 401


async def test_require_answers_403_to_the_wrong_role(signer, verifier):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_with(verifier)), base_url="http://t") as http:
        reporter = await http.get("/operators-only", headers={"Authorization": f"Bearer {signer.token()}"})
        assert reporter.status_code == 403 and reporter.json()["error"]["code"] == "forbidden"
        operator_token = signer.token(sub="op-30", role="province_operator", unit=None)
        operator = await http.get("/operators-only", headers={"Authorization": f"Bearer {operator_token}"})
        assert operator.status_code == 200 and operator.json() == {"subject": "op-30"}
        assert (await http.get("/operators-only")).status_code == 401
