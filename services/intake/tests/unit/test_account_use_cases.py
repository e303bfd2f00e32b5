"""Signing in, accounts and API tokens on the in-memory unit of work: the lockouts, each named refusal, the audit."""

import uuid
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from baocao_shared.clock import FixedClock
from baocao_shared.principal import Principal, Role
from intake.adapters.keys import SigningKey
from intake.domain.account_errors import (
    AccountInvalid,
    AccountNotFound,
    ApiTokenNotFound,
    ApiTokenRefused,
    AuditTrailForbidden,
    MayNotManageApiTokens,
    NoActiveUnit,
    PasswordInvalid,
    RefusedInProduction,
    TooManyFailedSignIns,
    UsernameTaken,
    WrongCredentials,
)
from intake.domain.accounts import LoginPolicy
from intake.handlers import accounts, api_tokens
from intake.handlers.audit import trail_page

PASSWORD = "a-long-password"
ADMIN = Principal(subject="admin", role=Role.ADMIN)


@pytest.fixture
def auth(now):
    policy = LoginPolicy(free_failures=2, backoff_base=timedelta(minutes=1), client_max_failures=3)
    return accounts.Authenticator(SigningKey(Ed25519PrivateKey.generate()), timedelta(hours=1), policy, FixedClock(now))


async def create(uow, now, username="30-CA", role="reporter", province="30", unit="CA", password=PASSWORD):
    return await accounts.create_account(
        uow, username=username, password=password, role=role, province=province, unit=unit, actor="admin", now=now
    )


async def sign_in(uow, auth, password, username="30-CA", client="10.0.0.1"):
    return await accounts.authenticate(uow, auth, username=username, password=password, client=client)


async def test_an_account_is_created_once_audited_and_signs_in(uow, auth, now):
    created = await create(uow, now)
    assert (created["username"], created["role"], created["unit"]) == ("30-CA", "reporter", "CA")
    assert uow.audited[0]["action"] == "account.created"
    with pytest.raises(UsernameTaken):
        await create(uow, now)
    issued = await sign_in(uow, auth, PASSWORD)
    assert issued.principal == Principal(subject="30-CA", role=Role.REPORTER, province="30", unit="CA")


async def test_an_account_must_fit_the_catalogue(uow, now):
    with pytest.raises(AccountInvalid) as refused:
        await create(uow, now, unit="NOPE")
    assert refused.value.problems == [{"field": "unit", "message": "province 30 has no unit NOPE"}]
    with pytest.raises(AccountInvalid):
        await create(uow, now, username="op-31", role="province_operator", province="31", unit=None)


async def test_failures_slow_the_username_from_that_address_only_then_the_client(uow, auth, now):
    await create(uow, now)
    for _ in range(2):
        assert isinstance(await sign_in(uow, auth, "wrong"), WrongCredentials)
    throttled = await sign_in(uow, auth, PASSWORD)
    assert isinstance(throttled, TooManyFailedSignIns) and throttled.limit == "username"
    assert throttled.retry_after_s == 60  # two free failures, then the base wait
    assert throttled.details == {"limit": "username"}
    assert not isinstance(await sign_in(uow, auth, PASSWORD, client="10.0.0.9"), TooManyFailedSignIns)
    assert isinstance(await sign_in(uow, auth, "guess", username="nobody"), WrongCredentials)
    by_client = await sign_in(uow, auth, PASSWORD, username="someone-else")
    assert isinstance(by_client, TooManyFailedSignIns) and by_client.limit == "client"
    assert by_client.details == {"limit": "client"}


async def test_a_right_password_forgets_that_address_failures_and_a_new_password_all(uow, auth, now):
    await create(uow, now)
    await sign_in(uow, auth, "wrong")
    await sign_in(uow, auth, "wrong", client="10.0.0.2")
    await sign_in(uow, auth, PASSWORD)
    since = now - timedelta(hours=1)
    assert await uow.login_failures.of_pair("30-CA", "10.0.0.1", since=since) == []
    assert await uow.login_failures.of_pair("30-CA", "10.0.0.2", since=since) == [now]
    await sign_in(uow, auth, "wrong", client="10.0.0.2")
    assert isinstance(await sign_in(uow, auth, PASSWORD, client="10.0.0.2"), TooManyFailedSignIns)
    await accounts.set_password(
        uow, username="30-CA", password="another-password", actor="admin", clock=FixedClock(now)
    )
    assert not isinstance(await sign_in(uow, auth, "another-password", client="10.0.0.2"), TooManyFailedSignIns)
    with pytest.raises(PasswordInvalid):
        await accounts.set_password(uow, username="30-CA", password="short", actor="admin", clock=FixedClock(now))
    with pytest.raises(AccountNotFound):
        await accounts.set_password(
            uow, username="nobody", password="long-enough", actor="admin", clock=FixedClock(now)
        )


async def test_demo_accounts_are_made_once_and_never_in_production(uow, now):
    created = await accounts.seed_demo_accounts(uow, password=PASSWORD, env="test", now=now)
    assert [c[0] for c in created[:3]] == ["admin", "national", "op-30"] and len(created) == 3 + 29
    assert await accounts.seed_demo_accounts(uow, password=PASSWORD, env="test", now=now) == []
    assert [a["action"] for a in uow.audited] == ["account.demo_seeded"]
    with pytest.raises(RefusedInProduction):
        await accounts.seed_demo_accounts(uow, password=PASSWORD, env="production")


async def test_an_api_token_stands_for_its_unit_until_revoked(uow, now):
    reporter = Principal(subject="30-CA", role=Role.REPORTER, province="30", unit="CA")
    new = await api_tokens.issue_api_token(uow, province="30", unit="CA", label="máy", actor=reporter, now=now)
    machine = await api_tokens.principal_for_api_token(uow.api_tokens, token=new.token, now=now)
    assert (machine.role, machine.unit, machine.via) == (Role.REPORTER, "CA", "api_token")
    with pytest.raises(MayNotManageApiTokens):
        await api_tokens.issue_api_token(uow, province="30", unit="CA", label="x", actor=machine, now=now)
    args = {"province": "30", "unit": "CA", "token_id": new.id, "actor": ADMIN, "now": now}
    assert await api_tokens.revoke_api_token(uow, **args) == "revoked"
    assert await api_tokens.revoke_api_token(uow, **args) == "already_revoked"
    assert [a["action"] for a in uow.audited] == ["api_token.created", "api_token.revoked"]
    with pytest.raises(ApiTokenRefused):
        await api_tokens.principal_for_api_token(uow.api_tokens, token=new.token, now=now)
    with pytest.raises(ApiTokenNotFound):
        await api_tokens.revoke_api_token(uow, **args | {"token_id": uuid.uuid4()})
    with pytest.raises(NoActiveUnit):
        await api_tokens.issue_api_token(uow, province="30", unit="NOPE", label="x", actor=ADMIN, now=now)


async def test_the_audit_page_is_for_operators_each_of_their_own_province(uow, now):
    await create(uow, now)  # an account's row concerns its province
    await create(uow, now, username="root", role="admin", province=None, unit=None)
    operator = Principal(subject="op-30", role=Role.PROVINCE_OPERATOR, province="30")
    page, province = await trail_page(uow, principal=operator, before=None)
    assert province == "30" and [e.subject for e in page.items] == ["account:30-CA"]
    page, province = await trail_page(
        uow, principal=Principal(subject="national", role=Role.NATIONAL_OPERATOR), before=None
    )
    assert province is None and [e.subject for e in page.items] == ["account:root", "account:30-CA"]
    with pytest.raises(AuditTrailForbidden):
        await trail_page(
            uow, principal=Principal(subject="30-CA", role=Role.REPORTER, province="30", unit="CA"), before=None
        )
