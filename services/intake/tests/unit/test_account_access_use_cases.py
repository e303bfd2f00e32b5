"""Deactivating, reactivating and changing an account's password tell every service when its tokens stop: one
`account.access_changed` each, with the account's access kept beside it."""

from datetime import timedelta

import pytest

from baocao_shared.clock import FixedClock
from baocao_shared.events.catalog import ACCOUNT_ACCESS_CHANGED
from intake.domain.account_errors import AccountNotFound, MayNotDeactivateSelf, WrongCredentials
from intake.domain.accounts import LoginPolicy
from intake.handlers import account_access, accounts
from intake.handlers.accounts import Authenticator


async def test_a_deactivation_revokes_once_and_a_reactivation_keeps_the_old_tokens_refused(uow, now):
    await accounts.create_account(
        uow, username="30-CA", password="a-long-password", role="reporter", province="30", unit="CA", actor="a", now=now
    )
    assert await account_access.deactivate_account(uow, username="30-CA", actor="admin", now=now) is True
    later = now + timedelta(hours=1)
    assert await account_access.deactivate_account(uow, username="30-CA", actor="admin", now=later) is False
    assert (await uow.accounts.get("30-CA")).active is False
    assert await account_access.reactivate_account(uow, username="30-CA", actor="admin", now=later) is True
    assert await account_access.reactivate_account(uow, username="30-CA", actor="admin", now=later) is False

    assert [p.spec for p in uow.published] == [ACCOUNT_ACCESS_CHANGED] * 2
    off, on = (p.data for p in uow.published)
    assert (off.username, off.active, off.not_before, off.reason) == ("30-CA", False, now, "deactivated")
    assert (on.active, on.not_before, on.reason) == (True, now, "reactivated")  # the tokens of before stay refused
    assert [a["action"] for a in uow.audited][-2:] == ["account.deactivated", "account.reactivated"]


async def test_a_deactivated_account_cannot_sign_in(uow, now):
    await accounts.create_account(
        uow, username="30-CA", password="a-long-password", role="reporter", province="30", unit="CA", actor="a", now=now
    )
    await account_access.deactivate_account(uow, username="30-CA", actor="admin", now=now)
    auth = Authenticator.__new__(Authenticator)  # only the policy and the clock are read before the password

    auth.policy, auth.clock = LoginPolicy(), FixedClock(now)
    outcome = await accounts.authenticate(uow, auth, username="30-CA", password="a-long-password", client="10.0.0.1")
    assert isinstance(outcome, WrongCredentials)


async def test_no_one_deactivates_an_unknown_account_or_their_own(uow, now):
    with pytest.raises(AccountNotFound):
        await account_access.deactivate_account(uow, username="nobody", actor="admin", now=now)
    with pytest.raises(AccountNotFound):
        await account_access.reactivate_account(uow, username="nobody", actor="admin", now=now)
    with pytest.raises(MayNotDeactivateSelf):
        await account_access.deactivate_account(uow, username="admin", actor="admin", now=now)
    assert uow.published == []


async def test_a_password_change_revokes_the_tokens_issued_before_it(uow, now):
    await accounts.create_account(
        uow, username="30-CA", password="a-long-password", role="reporter", province="30", unit="CA", actor="a", now=now
    )
    await accounts.set_password(
        uow, username="30-CA", password="another-password", actor="admin", clock=FixedClock(now)
    )
    [changed] = uow.published
    assert (changed.data.active, changed.data.not_before, changed.data.reason) == (True, now, "password_changed")
    assert (await uow.account_access.get("30-CA")).not_before == now
