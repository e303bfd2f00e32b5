"""Signing in, tokens and accounts through intake's HTTP API, on a real PostgreSQL."""

import asyncio
import hashlib
import time

import httpx
import jwt
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from baocao_shared.auth import SESSION_COOKIE, JwtVerifier
from baocao_shared.errors import Forbidden
from baocao_shared.principal import Principal, Role
from intake.adapters import orm
from intake.adapters.keys import SigningKeyMissing, generate_key_file
from intake.adapters.uow import IntakeUnitOfWork
from intake.handlers.accounts import PASSWORD_HASHER, seed_demo_accounts
from intake.main import create_app

pytestmark = pytest.mark.integration
PASSWORD = "test-password-1"


def form(username: str, password: str) -> dict:
    return {"username": username, "password": password}


async def test_a_right_password_gets_an_eddsa_jwt_that_the_jwks_verifies(intake):
    await intake.create_account("30-CA", role="reporter", province="30", unit="CA")
    answer = await intake.client.post("/v1/auth/token", data=form("30-CA", PASSWORD))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 8 * 3600
    assert answer.headers["cache-control"] == "no-store"

    jwks = (await intake.client.get("/.well-known/jwks.json")).json()
    (key,) = jwks["keys"]
    assert {k: key[k] for k in ("kty", "crv", "use", "alg")} == {
        "kty": "OKP",
        "crv": "Ed25519",
        "use": "sig",
        "alg": "EdDSA",
    }
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "EdDSA" and header["kid"] == key["kid"]

    # What another service does: fetch intake's JWKS by URL and verify.
    verifier = JwtVerifier.from_jwks_url("http://intake.test/.well-known/jwks.json", http_client=intake.client)
    principal = await verifier.verify(body["access_token"])
    assert (principal.subject, principal.role, principal.province, principal.unit) == (
        "30-CA",
        Role.REPORTER,
        "30",
        "CA",
    )

    me = await intake.client.get("/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {"subject": "30-CA", "role": "reporter", "province": "30", "unit": "CA", "via": "jwt"}
    intake.client.cookies.set(SESSION_COOKIE, body["access_token"])
    try:
        assert (await intake.client.get("/v1/auth/me")).json()["via"] == "session"
    finally:
        intake.client.cookies.clear()


async def test_a_wrong_password_and_an_unknown_user_get_the_same_401(intake):
    await intake.create_account("op-30", role="province_operator", province="30")
    wrong = await intake.client.post("/v1/auth/token", data=form("op-30", "not-the-password"))
    unknown = await intake.client.post("/v1/auth/token", data=form("nobody", PASSWORD))
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.json() == {
            "error": {"code": "unauthorized", "message": "Wrong username or password.", "details": None}
        }


async def test_no_or_a_bad_token_gets_401(intake):
    assert (await intake.client.get("/v1/auth/me")).status_code == 401
    answer = await intake.client.get("/v1/auth/me", headers={"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("intake_settings_overrides", [{"login_free_failures": 3, "login_backoff_base_s": 600}])
async def test_failures_from_one_address_count_together_on_every_instance(intake, intake_running):
    await intake.create_account("30-CA", role="reporter", province="30", unit="CA")
    await intake.create_account("30-BTG", role="reporter", province="30", unit="BTG")
    async with intake_running(intake.settings) as (_, second_instance):
        # Guesses spread over two instances count together: the count lives in the database.
        for client in (intake.client, second_instance, intake.client):
            assert (await client.post("/v1/auth/token", data=form("30-CA", "guess"))).status_code == 401
        for client in (intake.client, second_instance):
            locked = await client.post("/v1/auth/token", data=form("30-CA", PASSWORD))  # even the right password
            assert locked.status_code == 429
            assert locked.json()["error"]["code"] == "too_many_requests"
            assert 590 <= int(locked.headers["retry-after"]) <= 600

    # Another account is not affected, and its success clears only its own failures.
    assert (await intake.client.post("/v1/auth/token", data=form("30-BTG", "guess"))).status_code == 401
    assert (await intake.client.post("/v1/auth/token", data=form("30-BTG", PASSWORD))).status_code == 200
    async with intake.transaction() as db:
        rows = (await db.execute(select(orm.login_failures.c.username))).scalars().all()
    assert sorted(rows) == ["30-CA"] * 3


async def test_a_success_clears_the_failures_of_that_username(intake):
    await intake.create_account("30-CA", role="reporter", province="30", unit="CA")
    for _ in range(2):  # below the three free failures: no wait yet
        await intake.client.post("/v1/auth/token", data=form("30-CA", "guess"))
    await intake.login("30-CA")
    for _ in range(2):  # a fresh allowance: uncleared, these would make four failures, and the sign-in below wait
        assert (await intake.client.post("/v1/auth/token", data=form("30-CA", "guess"))).status_code == 401
    await intake.login("30-CA")


async def test_an_api_token_is_shown_once_authenticates_and_stops_when_revoked(intake):
    reporter = await intake.headers_for("reporter", "30", "CA")
    url = "/v1/units/30/CA/api-tokens"
    created = await intake.client.post(url, json={"label": "Phần mềm văn bản"}, headers=reporter)
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    assert token.startswith("bc_") and len(token) >= 3 + 43
    assert created.headers["cache-control"] == "no-store"

    listed = (await intake.client.get(url, headers=reporter)).json()
    assert [t["id"] for t in listed] == [created.json()["id"]]
    assert "token" not in listed[0] and token not in str(listed)

    as_token = {"Authorization": f"Bearer {token}"}
    me = await intake.client.get("/v1/auth/me", headers=as_token)
    assert me.json() == {
        "subject": f"token:{created.json()['id']}",
        "role": "reporter",
        "province": "30",
        "unit": "CA",
        "via": "api_token",
    }
    # A token cannot mint more tokens, and another unit's reporter cannot touch these.
    assert (await intake.client.post(url, json={"label": "x"}, headers=as_token)).status_code == 403
    other = await intake.headers_for("reporter", "30", "BTG")
    assert (await intake.client.get(url, headers=other)).status_code == 403

    operator = await intake.headers_for("province_operator", "30")
    revoked = await intake.client.delete(f"{url}/{created.json()['id']}", headers=operator)
    assert revoked.status_code == 204
    after = await intake.client.get("/v1/auth/me", headers=as_token)
    assert after.status_code == 401 and after.headers["www-authenticate"] == "Bearer"
    assert (await intake.client.get(url, headers=reporter)).json()[0]["revoked_at"] is not None

    async with intake.transaction() as db:
        audit = (await db.execute(select(orm.audit_log).where(orm.audit_log.c.subject == "unit:30.CA"))).all()
    assert [(a.action, a.details["token_id"]) for a in audit] == [
        ("api_token.created", created.json()["id"]),
        ("api_token.revoked", created.json()["id"]),
    ]
    assert audit[1].actor == "test-province-operator-30"


async def test_unknown_api_tokens_and_units_are_refused(intake):
    answer = await intake.client.get("/v1/auth/me", headers={"Authorization": "Bearer bc_not-a-real-token"})
    assert answer.status_code == 401
    admin = await intake.headers_for("admin")
    missing = await intake.client.post("/v1/units/30/NOPE/api-tokens", json={"label": "x"}, headers=admin)
    assert missing.status_code == 404


async def test_passwords_and_api_tokens_are_never_stored_in_clear(intake):
    await intake.create_account("30-CA", role="reporter", province="30", unit="CA")
    token = (
        await intake.client.post(
            "/v1/units/30/CA/api-tokens", json={"label": "ci"}, headers=await intake.headers_for("admin")
        )
    ).json()["token"]
    async with intake.transaction() as db:
        account = (await db.execute(select(orm.accounts).where(orm.accounts.c.username == "30-CA"))).one()
        stored = (await db.execute(select(orm.api_tokens))).one()
    assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash
    assert PasswordHasher().verify(account.password_hash, PASSWORD)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in " ".join(str(value) for value in stored)


async def test_an_old_password_hash_is_upgraded_at_sign_in(intake):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    async with intake.transaction() as db:
        await db.execute(orm.accounts.insert().values(username="legacy", password_hash=weak, role="admin"))
    await intake.login("legacy")
    async with intake.transaction() as db:
        upgraded = await db.scalar(select(orm.accounts.c.password_hash).where(orm.accounts.c.username == "legacy"))
    assert upgraded != weak and not PASSWORD_HASHER.check_needs_rehash(upgraded)
    await intake.login("legacy")


async def test_admins_create_accounts_that_fit_the_catalogue(intake):
    admin = await intake.headers_for("admin")
    body = {"username": "op-01", "password": "a-strong-password", "role": "province_operator", "province": "01"}
    created = await intake.client.post("/v1/admin/accounts", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "province_operator" and "password" not in str(created.json())
    assert (await intake.client.post("/v1/admin/accounts", json=body, headers=admin)).status_code == 409
    await intake.login("op-01", "a-strong-password")

    for bad in (
        {**body, "username": "r1", "role": "reporter"},  # a reporter without a unit
        {**body, "username": "r2", "role": "reporter", "unit": "NOPE"},  # a unit the province does not have
        {**body, "username": "a1", "role": "admin"},  # an admin with a province
        {**body, "username": "o1", "province": "99"},  # a province that does not exist
    ):
        answer = await intake.client.post("/v1/admin/accounts", json=bad, headers=admin)
        assert answer.status_code == 422, bad
        assert answer.json()["error"]["details"], bad

    operator = await intake.headers_for("province_operator", "30")
    assert (await intake.client.post("/v1/admin/accounts", json=body, headers=operator)).status_code == 403
    assert (await intake.client.post("/v1/admin/accounts", json=body)).status_code == 401


async def test_an_admin_sets_a_password_and_lifts_the_lockout(intake):
    await intake.create_account("30-CA", role="reporter", province="30", unit="CA")
    for _ in range(5):
        await intake.client.post("/v1/auth/token", data=form("30-CA", "guess"))
    admin = await intake.headers_for("admin")
    url = "/v1/admin/accounts/30-CA/password"
    assert (await intake.client.put(url, json={"password": "short"}, headers=admin)).status_code == 422
    assert (await intake.client.put(url, json={"password": "a-new-password"}, headers=admin)).status_code == 204
    await intake.login("30-CA", "a-new-password")
    missing = await intake.client.put("/v1/admin/accounts/nobody/password", json={"password": "x" * 10}, headers=admin)
    assert missing.status_code == 404


async def test_demo_accounts_follow_the_catalogue_and_seed_once(intake):
    admin = await intake.headers_for("admin")
    first = await intake.client.post("/v1/admin/demo-accounts", headers=admin)
    assert first.status_code == 200, first.text
    created = {a["username"]: (a["role"], a["province"], a["unit"]) for a in first.json()}
    assert created == {
        "admin": ("admin", None, None),
        "national": ("national_operator", None, None),
        "op-30": ("province_operator", "30", None),
        "op-01": ("province_operator", "01", None),
        "30-CA": ("reporter", "30", "CA"),
        "30-BTG": ("reporter", "30", "BTG"),
        "01-CA": ("reporter", "01", "CA"),
    }
    assert (await intake.client.post("/v1/admin/demo-accounts", headers=admin)).json() == []

    token = await intake.login("30-CA", intake.settings.demo_password)
    me = await intake.client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["unit"] == "CA"
    await intake.login("op-30", "baocao-demo")


async def test_demo_accounts_are_refused_in_production(intake, tmp_path):
    async with intake.transaction() as db:
        with pytest.raises(Forbidden):
            await seed_demo_accounts(IntakeUnitOfWork(db), password="baocao-demo", env="production")
        assert await db.scalar(select(orm.accounts.c.username).where(orm.accounts.c.username == "op-30")) is None

    production = intake.settings.model_copy(update={"env": "production", "jwt_private_key_file": None})
    with pytest.raises(SigningKeyMissing):
        create_app(production)  # no configured key: production does not start

    key = generate_key_file(tmp_path / "prod-key.pem")
    app = create_app(production.model_copy(update={"jwt_private_key_file": key}))
    token = app.state.authenticator.issue(Principal("admin", Role.ADMIN)).access_token
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p.test") as client:
            answer = await client.post("/v1/admin/demo-accounts", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"


async def test_the_development_key_survives_a_restart(intake):
    again = create_app(intake.settings.model_copy(update={"env": "development"}))
    assert again.state.authenticator.signing_key.kid == intake.app.state.authenticator.signing_key.kid
    key_file = intake.settings.home / "keys" / "intake-ed25519.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600
    token = await intake.token_for("admin")
    assert (await again.state.jwt_verifier.verify(token)).subject == "test-admin"
    assert jwt.decode(token, options={"verify_signature": False})["exp"] > time.time() + 7 * 3600


async def test_two_sign_ins_upgrading_one_old_hash_at_once_both_get_in(intake):
    """Each sign-in holds its account's row for share until it commits (so a password change waits for it), and
    upgrades an old hash: two at once each wait for the other's share, and PostgreSQL ends one of the two updates
    (deadlock_detected). That one keeps the old hash and signs in all the same."""
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    async with intake.transaction() as db:
        await db.execute(orm.accounts.insert().values(username="legacy2", password_hash=weak, role="admin"))
    sessions = intake.app.state.runtime.sessionmaker
    async with sessions() as other, other.begin():  # a first sign-in, between its check and its upgrade
        accounts = IntakeUnitOfWork(other).accounts
        await accounts.get("legacy2", for_share=True)
        second = asyncio.create_task(
            intake.client.post("/v1/auth/token", data={"username": "legacy2", "password": PASSWORD})
        )
        await asyncio.sleep(1.0)  # the second has checked the password and waits to write its upgrade
        await accounts.upgrade_hash("legacy2", PASSWORD_HASHER.hash(PASSWORD))
    answer = await second
    assert answer.status_code == 200, answer.text
    async with intake.transaction() as db:
        stored = await db.scalar(select(orm.accounts.c.password_hash).where(orm.accounts.c.username == "legacy2"))
    assert not PASSWORD_HASHER.check_needs_rehash(stored)
