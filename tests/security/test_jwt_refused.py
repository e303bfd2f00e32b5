"""Forged, confused, expired and tampered JWTs are refused by every service, in the header and in the cookie.

Each service is asked, on one protected API route and one page, with a good token first (so that a refusal
means something) and then with each bad one: `alg: none`, HS256 keyed with the trusted public key, RS256,
ES256 and EdDSA signed with keys of our own, expired, not yet valid, issued in the future, a payload
changed under its original signature (another subject, an escalated role), the wrong audience or issuer,
and no expiry. The API answers 401 every time (the header and the cookie alike); a page sends the browser
to the sign-in page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from contextlib import AsyncExitStack

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from baocao_shared.auth import ALGORITHM, AUDIENCE, ISSUER, SESSION_COOKIE, JwtVerifier
from baocao_testing.fixtures import create_database
from baocao_testing.kit import fresh_group_prefix

pytestmark = pytest.mark.integration
INTAKE = "http://intake.test"
KID = "trusted-key"
# (service, protected API route, page) — the good token is a national operator's: each of these lets it in.
TARGETS = {
    "intake": ("/v1/auth/me", "/"),
    "deadlines": ("/v1/ops/pipeline", "/tien-do"),
    "consolidation": ("/v1/national/2019-06", "/quoc-gia/2019-06"),
    "notify": ("/v1/inbox", "/hop-thu"),
}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**changes) -> dict:
    now = int(time.time())
    base = {"sub": "national", "role": "national_operator", "iss": ISSUER, "aud": AUDIENCE}
    return {**base, "iat": now, "nbf": now, "exp": now + 3600, "jti": uuid.uuid4().hex, **changes}


def unsigned(header: dict, payload: dict) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"


def with_payload(token: str, payload: dict) -> str:
    """The token with another payload and its original header and signature."""
    header, _, signature = token.split(".")
    return f"{header}.{b64(json.dumps(payload).encode())}.{signature}"


def hs256(payload: dict, secret: bytes) -> str:
    signing_input = unsigned({"alg": "HS256", "typ": "JWT", "kid": KID}, payload)
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def bad_tokens(key: Ed25519PrivateKey, kid: str) -> dict[str, str]:
    def good(**changes) -> str:
        return jwt.encode(claims(**changes), key, algorithm=ALGORITHM, headers={"kid": kid})

    public = key.public_key()
    pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    now = int(time.time())
    reporter = jwt.encode(
        claims(sub="30-CA", role="reporter", province="30", unit="CA"), key, algorithm=ALGORITHM, headers={"kid": kid}
    )
    admin = claims(sub="30-CA", role="admin")
    return {
        "alg none": unsigned({"alg": "none", "typ": "JWT"}, claims()) + ".",
        "alg none, kid of the trusted key": unsigned({"alg": "none", "kid": kid}, claims()) + ".",
        "HS256 keyed with the public key (PEM)": hs256(claims(), pem),
        "HS256 keyed with the public key (raw)": hs256(claims(), raw),
        "RS256 with a foreign key": jwt.encode(
            claims(), rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256", headers={"kid": kid}
        ),
        "ES256 with a foreign key": jwt.encode(
            claims(), ec.generate_private_key(ec.SECP256R1()), "ES256", headers={"kid": kid}
        ),
        "EdDSA with a foreign key": jwt.encode(claims(), Ed25519PrivateKey.generate(), ALGORITHM, headers={"kid": kid}),
        "expired": good(iat=now - 7200, nbf=now - 7200, exp=now - 3600),
        "not yet valid": good(nbf=now + 3600, exp=now + 7200),
        "issued in the future": good(iat=now + 3600, nbf=now - 10, exp=now + 7200),
        "without expiry": jwt.encode(
            {k: v for k, v in claims().items() if k != "exp"}, key, algorithm=ALGORITHM, headers={"kid": kid}
        ),
        "wrong audience": good(aud="another-system"),
        "wrong issuer": good(iss="someone-else"),
        "another subject under the original signature": with_payload(good(), claims(sub="admin")),
        "role escalated under the original signature": with_payload(reporter, admin),
        "role escalated, signed by a foreign key": jwt.encode(admin, Ed25519PrivateKey.generate(), ALGORITHM),
        "a role that does not exist": good(role="superuser"),
        "garbage": "not.a.jwt",
    }


@pytest.fixture(scope="module")
async def services(postgres, kafka, tmp_path_factory):
    """The four apps: intake with its own signing key, the others trusting one Ed25519 key of ours."""
    from consolidation.config import Settings as ConsolidationSettings
    from consolidation.main import create_app as consolidation_app
    from deadlines.config import Settings as DeadlinesSettings
    from deadlines.main import create_app as deadlines_app
    from intake.config import Settings as IntakeSettings
    from intake.main import create_app as intake_app
    from notify.config import Settings as NotifySettings
    from notify.main import create_app as notify_app

    trusted = Ed25519PrivateKey.generate()
    verifier = JwtVerifier.from_public_key(trusted.public_key(), kid=KID)
    common = {"env": "test", "kafka_bootstrap_servers": kafka.bootstrap, "service_urls": {"intake": INTAKE}}
    prefix = {"consumer_group_prefix": await fresh_group_prefix(kafka.bootstrap)}
    apps = {
        "intake": intake_app(
            IntakeSettings(database_url=await create_database(postgres, "intake"), home=tmp_path_factory.mktemp("i"))
        ),
        "deadlines": deadlines_app(
            DeadlinesSettings(
                database_url=await create_database(postgres, "deadlines"),
                scheduler_enabled=False,
                **common,
                **prefix,
            ),
            verifier=verifier,
        ),
        "consolidation": consolidation_app(
            ConsolidationSettings(database_url=await create_database(postgres, "consolidation"), **common, **prefix),
            verifier=verifier,
        ),
        "notify": notify_app(
            NotifySettings(
                database_url=await create_database(postgres, "notify"), sender_enabled=False, **common, **prefix
            ),
            verifier=verifier,
        ),
    }
    async with AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        signing = apps["intake"].state.authenticator.signing_key
        keys = {"intake": (signing.private_key, signing.kid), **{n: (trusted, KID) for n in apps if n != "intake"}}
        yield apps, keys


def client(app, *, bearer: str | None = None, cookie: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc.test", headers=headers)
    if cookie:
        c.cookies.set(SESSION_COOKIE, cookie)
    return c


def sent_to_sign_in(answer: httpx.Response) -> bool:
    location = answer.headers.get("location", "")
    return answer.status_code == 303 and (location.startswith("/dang-nhap") or location == f"{INTAKE}/dang-nhap")


@pytest.mark.parametrize("service", list(TARGETS))
async def test_bad_tokens_are_refused_by_every_service(services, service):
    apps, keys = services
    app, (api, page) = apps[service], TARGETS[service]
    key, kid = keys[service]

    good = jwt.encode(claims(), key, algorithm=ALGORITHM, headers={"kid": kid})
    async with client(app, bearer=good) as c:
        assert (await c.get(api)).status_code == 200
    async with client(app, cookie=good) as c:
        assert (await c.get(page)).status_code == 200

    wrong = []
    for name, token in bad_tokens(key, kid).items():
        async with client(app, bearer=token) as c:
            by_header = await c.get(api)
        async with client(app, cookie=token) as c:
            by_cookie, on_page = await c.get(api), await c.get(page)
        if by_header.status_code != 401 or by_cookie.status_code != 401:
            wrong.append(f"{name}: {api} answered {by_header.status_code} (header), {by_cookie.status_code} (cookie)")
        elif by_header.headers.get("content-type", "").startswith("application/json") is False:
            wrong.append(f"{name}: {api} answered 401 without a JSON body")
        if not sent_to_sign_in(on_page):
            wrong.append(f"{name}: {page} answered {on_page.status_code} {on_page.headers.get('location', '')}")
    assert not wrong, f"{service} let bad tokens through:\n" + "\n".join(wrong)
