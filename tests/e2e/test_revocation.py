"""Access ends when it should (issue 20 §4): the four services as processes, on the real broker and databases.

An account's token works on intake, deadlines, consolidation and notify; after its deactivation, or a change of its
password, every service refuses it (401 `token_revoked`) within `WITHIN_S`, by the bearer header, the session
cookie and a page; a token issued right after the password change (the same second) works everywhere, and a
reactivated account signs in again while its old token stays refused. A unit's API token is intake's alone (an
opaque secret intake looks up on every request, never a JWT): the other services never take it, and intake refuses
it from its revocation on.

The latency each step saw (from the admin's answer until the last service refused) is printed; docs/RELIABILITY.md
has the figures ("revocation").
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from baocao_shared.auth import SESSION_COOKIE
from baocao_testing.kit import wait_until
from baocao_testing.samples import demo_province_file

pytestmark = pytest.mark.e2e
ICT = timezone(timedelta(hours=7))
PROVINCE, PERIOD = "94", "2019-06"
WITHIN_S = 5  # the bound: every service refuses a revoked token within 5 s
# A route of each service that a national operator's token reaches (any answer but 401 means the token works).
PROBES = {
    "intake": "/v1/auth/me",
    "deadlines": f"/v1/compliance?period={PERIOD}&level=national",
    "consolidation": "/v1/reports/audit",
    "notify": "/v1/inbox",
}


async def test_deactivation_password_change_and_api_token_revocation_end_access_everywhere(services, capsys):
    stack = await services.start(at=datetime(2019, 6, 10, 10, tzinfo=ICT), intake_setup=[["accounts", "seed-demo"]])
    run = Run(stack.urls)
    try:
        latencies = {
            "deactivate": await run.deactivation(),
            "password change": await run.password_change(),
            "API token revoke": await run.api_token_revocation(),
        }
    finally:
        await run.close()
    with capsys.disabled():
        print("\nrevocation latency (s, admin's answer -> every service refuses):", latencies)


class Run:
    def __init__(self, urls: dict[str, str]) -> None:
        self.http = {name: httpx.AsyncClient(base_url=url, timeout=30) for name, url in urls.items()}
        self.tag = uuid.uuid4().hex[:8]
        self.admin: dict[str, str] = {}

    async def close(self) -> None:
        for client in self.http.values():
            await client.aclose()

    async def sign_in(self, username: str, password: str) -> httpx.Response:
        return await self.http["intake"].post("/v1/auth/token", data={"username": username, "password": password})

    async def token(self, username: str, password: str) -> str:
        answer = await self.sign_in(username, password)
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    async def as_admin(self) -> dict[str, str]:
        if not self.admin:
            self.admin = {"Authorization": f"Bearer {await self.token('admin', 'baocao-demo')}"}
        return self.admin

    async def new_account(self, name: str, password: str) -> str:
        username = f"{name}-{self.tag}"
        made = await self.http["intake"].post(
            "/v1/admin/accounts",
            json={"username": username, "password": password, "role": "national_operator"},
            headers=await self.as_admin(),
        )
        assert made.status_code == 201, made.text
        return username

    async def answers(self, token: str, *, via: str = "bearer") -> dict[str, httpx.Response]:
        """Each service's answer to its probe, with the token as a bearer header or as the session cookie."""
        out = {}
        for name, path in PROBES.items():
            if via == "bearer":
                out[name] = await self.http[name].get(path, headers={"Authorization": f"Bearer {token}"})
            else:
                out[name] = await self.http[name].get(path, headers={"Cookie": f"{SESSION_COOKIE}={token}"})
        return out

    async def assert_works_everywhere(self, token: str) -> None:
        for via in ("bearer", "cookie"):
            answers = await self.answers(token, via=via)
            assert all(a.status_code != 401 for a in answers.values()), {
                n: (a.status_code, a.text[:200]) for n, a in answers.items()
            }

    async def refused_everywhere(self, token: str, since: float) -> float:
        """Poll until every service refuses the token (header and cookie) as revoked: the seconds since `since`."""

        async def all_refuse() -> bool:
            for via in ("bearer", "cookie"):
                for answer in (await self.answers(token, via=via)).values():
                    if answer.status_code != 401 or answer.json()["error"]["code"] != "token_revoked":
                        return False
            return True

        await wait_until(all_refuse, timeout=WITHIN_S, interval=0.05, what="every service to refuse the token")
        return round(time.monotonic() - since, 2)

    async def page_signs_in_again(self, token: str) -> None:
        """A page of another service with the revoked session sends the browser to intake's sign-in."""
        page = await self.http["deadlines"].get("/tien-do/quoc-gia", headers={"Cookie": f"{SESSION_COOKIE}={token}"})
        assert page.status_code in (302, 303) and page.headers["location"].endswith("/dang-nhap"), page.status_code

    # ---------------------------------------------------------------------------------------------- the steps

    async def deactivation(self) -> float:
        username = await self.new_account("rev-off", "first-password")
        token = await self.token(username, "first-password")
        await self.assert_works_everywhere(token)
        page = await self.http["deadlines"].get("/tien-do/quoc-gia", headers={"Cookie": f"{SESSION_COOKIE}={token}"})
        assert page.status_code == 200

        off = await self.http["intake"].post(f"/v1/admin/accounts/{username}/deactivate", headers=await self.as_admin())
        assert off.status_code == 200 and off.json() == {"username": username, "active": False, "changed": True}
        latency = await self.refused_everywhere(token, time.monotonic())
        await self.page_signs_in_again(token)
        assert (await self.sign_in(username, "first-password")).status_code == 401
        again = await self.http["intake"].post(
            f"/v1/admin/accounts/{username}/deactivate", headers=await self.as_admin()
        )
        assert again.json()["changed"] is False

        on = await self.http["intake"].post(f"/v1/admin/accounts/{username}/reactivate", headers=await self.as_admin())
        assert on.status_code == 200 and on.json()["changed"] is True
        fresh = await self.token(username, "first-password")
        await wait_until(lambda: self._works(fresh), timeout=WITHIN_S, what="the reactivated account's new token")
        await self.assert_works_everywhere(fresh)
        assert all(a.status_code == 401 for a in (await self.answers(token)).values()), "the old token stays refused"
        return latency

    async def password_change(self) -> float:
        username = await self.new_account("rev-pw", "first-password")
        token = await self.token(username, "first-password")
        await self.assert_works_everywhere(token)

        changed = await self.http["intake"].put(
            f"/v1/admin/accounts/{username}/password",
            json={"password": "second-password"},
            headers=await self.as_admin(),
        )
        assert changed.status_code == 204, changed.text
        started = time.monotonic()
        fresh = await self.token(username, "second-password")  # right after the change: mostly the same second
        latency = await self.refused_everywhere(token, started)
        await self.assert_works_everywhere(fresh)
        assert (await self.sign_in(username, "first-password")).status_code == 401
        return latency

    async def api_token_revocation(self) -> float:
        admin = await self.as_admin()
        loaded = await self.http["intake"].put(
            f"/v1/admin/provinces/{PROVINCE}",
            content=demo_province_file(PROVINCE, f"rev-{self.tag}").encode(),
            headers={**admin, "Content-Type": "application/yaml"},
        )
        assert loaded.status_code == 200, loaded.text
        tokens = f"/v1/units/{PROVINCE}/CA/api-tokens"
        new = await self.http["intake"].post(tokens, json={"label": "máy"}, headers=admin)
        assert new.status_code == 201, new.text
        secret, token_id = new.json()["token"], new.json()["id"]
        bearer = {"Authorization": f"Bearer {secret}"}
        assert (await self.http["intake"].get("/v1/auth/me", headers=bearer)).json()["via"] == "api_token"
        for name in ("deadlines", "consolidation", "notify"):  # never a JWT: intake's alone
            assert (await self.http[name].get(PROBES[name], headers=bearer)).status_code == 401

        revoked = await self.http["intake"].delete(f"{tokens}/{token_id}", headers=admin)
        assert revoked.status_code == 204
        started = time.monotonic()

        async def all_refuse() -> bool:
            answers = [await self.http[name].get(path, headers=bearer) for name, path in PROBES.items()]
            return all(a.status_code == 401 for a in answers)

        await wait_until(all_refuse, timeout=WITHIN_S, interval=0.05, what="every service to refuse the API token")
        return round(time.monotonic() - started, 2)

    async def _works(self, token: str) -> bool:
        return all(a.status_code != 401 for a in (await self.answers(token)).values())
