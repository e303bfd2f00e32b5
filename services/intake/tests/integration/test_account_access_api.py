"""An account's access through intake's HTTP API, on a real PostgreSQL: deactivation and reactivation (admin), and
a password change, end the account's earlier tokens at intake (401 token_revoked) and publish
`account.access_changed` in the same transaction."""

import asyncio

import pytest
from sqlalchemy import select

from baocao_shared.auth import SESSION_COOKIE
from baocao_testing.kit import wait_until
from intake.adapters import orm
from intake.adapters.uow import IntakeUnitOfWork

pytestmark = pytest.mark.integration
PASSWORD = "test-password-1"


async def access_events(intake) -> list[dict]:
    async with intake.transaction() as db:
        rows = await db.execute(
            select(orm.outbox.c.key, orm.outbox.c.payload)
            .where(orm.outbox.c.event_type == "vn.baocao.account.access_changed.v1")
            .order_by(orm.outbox.c.id)
        )
        return [{"key": key, **payload["data"]} for key, payload in rows]


async def me(intake, token: str, *, cookie: bool = False):
    if cookie:
        return await intake.client.get("/v1/auth/me", headers={"Cookie": f"{SESSION_COOKIE}={token}"})
    return await intake.client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


async def until_refused(intake, token: str) -> None:
    """intake's own instances read the change from its table within the poll interval."""

    async def refused() -> bool:
        answer = await me(intake, token)
        return answer.status_code == 401 and answer.json()["error"]["code"] == "token_revoked"

    await wait_until(refused, timeout=10, interval=0.05, what="intake to refuse the revoked token")


async def test_an_admin_deactivates_an_account_its_tokens_stop_and_it_cannot_sign_in(intake):
    await intake.create_account("30-CA", role="reporter", province="30", unit="CA")
    token = await intake.login("30-CA")
    assert (await me(intake, token)).status_code == 200
    admin = await intake.headers_for("admin")
    url = "/v1/admin/accounts/30-CA/deactivate"

    off = await intake.client.post(url, headers=admin)
    assert off.status_code == 200 and off.json() == {"username": "30-CA", "active": False, "changed": True}
    await until_refused(intake, token)
    assert (await me(intake, token, cookie=True)).json()["error"]["code"] == "token_revoked"
    refused = await intake.client.post("/v1/auth/token", data={"username": "30-CA", "password": PASSWORD})
    assert refused.status_code == 401

    assert (await intake.client.post(url, headers=admin)).json()["changed"] is False  # idempotent, no new event
    [event] = await access_events(intake)
    assert event["key"] == "account:30-CA" and event["active"] is False and event["reason"] == "deactivated"
    assert set(event) == {"key", "username", "active", "not_before", "reason"}  # nothing else of the person

    on = await intake.client.post("/v1/admin/accounts/30-CA/reactivate", headers=admin)
    assert on.json() == {"username": "30-CA", "active": True, "changed": True}
    fresh = await intake.login("30-CA")

    async def works() -> bool:  # once intake's instances read the reactivation (the poll interval)
        return (await me(intake, fresh)).status_code == 200

    await wait_until(works, timeout=10, interval=0.05, what="the reactivated account's new token to work")
    assert (await me(intake, token)).status_code == 401  # the tokens of before stay refused
    events = await access_events(intake)
    assert [e["reason"] for e in events] == ["deactivated", "reactivated"]
    assert events[1]["not_before"] == events[0]["not_before"]


async def test_only_an_admin_deactivates_an_existing_account_other_than_their_own(intake):
    await intake.create_account("30-CA", role="reporter", province="30", unit="CA")
    operator = await intake.headers_for("province_operator", "30")
    url = "/v1/admin/accounts/30-CA/deactivate"
    assert (await intake.client.post(url, headers=operator)).status_code == 403
    assert (await intake.client.post(url)).status_code == 401
    admin = await intake.headers_for("admin")
    assert (await intake.client.post("/v1/admin/accounts/nobody/deactivate", headers=admin)).status_code == 404
    assert (await intake.client.post("/v1/admin/accounts/nobody/reactivate", headers=admin)).status_code == 404
    for odd in ("a", "x%20y", "-dash-first"):  # no account can have such a name: 422 says so, and names the field
        refused = await intake.client.post(f"/v1/admin/accounts/{odd}/deactivate", headers=admin)
        assert refused.status_code == 422 and "username" in refused.text, refused.text
    own = await intake.client.post(f"/v1/admin/accounts/{await intake.account_for('admin')}/deactivate", headers=admin)
    assert own.status_code == 409
    assert await access_events(intake) == []


async def test_a_password_change_ends_the_earlier_tokens_and_a_token_of_the_same_second_works(intake):
    await intake.create_account("30-CA", role="reporter", province="30", unit="CA")
    token = await intake.login("30-CA")
    admin = await intake.headers_for("admin")
    url = "/v1/admin/accounts/30-CA/password"
    assert (await intake.client.put(url, json={"password": "a-new-password"}, headers=admin)).status_code == 204
    fresh = await intake.login("30-CA", "a-new-password")  # within the second of the change, mostly
    await until_refused(intake, token)
    assert (await me(intake, fresh)).status_code == 200
    [event] = await access_events(intake)
    assert event["reason"] == "password_changed" and event["active"] is True


async def test_a_sign_in_with_the_old_password_while_the_new_one_is_written_gets_no_lasting_token(intake):
    """The race of issue 20's note: a sign-in that checked the old password while an admin's new one was being
    hashed and written. Another transaction holds the account's row (as a slow sign-in would) so that the change
    has begun, and waits to write its hash, when the racing sign-in checks the old password and is issued its
    token. Once the change is done, that token is refused, and the new password signs in."""
    await intake.create_account("30-CA", role="reporter", province="30", unit="CA")
    admin = await intake.headers_for("admin")
    sessions = intake.app.state.runtime.sessionmaker
    async with sessions() as holder, holder.begin():
        await IntakeUnitOfWork(holder).accounts.get("30-CA", for_share=True)
        change = asyncio.create_task(
            intake.client.put("/v1/admin/accounts/30-CA/password", json={"password": "a-new-password"}, headers=admin)
        )
        await asyncio.sleep(1.0)  # the change's request has begun; its hash is ready and its write waits
        assert not change.done()
        raced = await intake.login("30-CA")  # the old password, before the change is written: a token
    assert (await change).status_code == 204
    await until_refused(intake, raced)
    assert (await me(intake, await intake.login("30-CA", "a-new-password"))).status_code == 200
