"""Sign-in throttling, on every instance: per (username, client address) with exponential backoff, so that wrong
passwords from one address never lock the same user out at another; and a cap per client address, so that one
client cannot spray a password over many usernames.

The ASGI transport's `client` is the connection's peer, as uvicorn would give it.
"""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from baocao_shared.clock import FixedClock
from baocao_testing.html import Page, csrf_of
from intake.adapters import orm

pytestmark = pytest.mark.integration
PASSWORD = "test-password-1"
CLIENT_BLOCKED = "Máy của bạn đã đăng nhập sai quá nhiều lần nên tạm thời không được đăng nhập."
USERNAME_THROTTLED = "Từ máy của bạn, tên đăng nhập này đã bị nhập sai mật khẩu nhiều lần."


@pytest.fixture
def intake_settings_overrides():
    return {
        "login_client_max_failures": 4,
        "login_client_window_s": 600,
        "login_free_failures": 3,
        "login_backoff_base_s": 600,
        "login_backoff_max_s": 3600,
    }


def client_from(app, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://intake.test")


def form(username: str, password: str) -> dict:
    return {"username": username, "password": password}


async def page_sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    page = await client.get("/dang-nhap")
    return await client.post("/dang-nhap", data={"csrf_token": csrf_of(page), **form(username, password)})


async def failures_by_client(intake) -> dict[str, int]:
    async with intake.transaction() as db:
        rows = (await db.execute(select(orm.login_failures.c.client))).scalars().all()
    return {c: rows.count(c) for c in set(rows)}


async def test_one_client_cannot_spray_a_password_over_many_usernames(intake, intake_running):
    await intake.create_account("30-CA", role="reporter", province="30", unit="CA")
    names = ["30-BTG", "khong-co-1", "khong-co-2"]  # one guess each: no username reaches its own limit
    async with client_from(intake.app, "203.0.113.7") as sprayer, intake_running(intake.settings) as (second, _):
        async with client_from(second, "203.0.113.7") as sprayer_elsewhere:
            for client, name in zip((sprayer, sprayer_elsewhere, sprayer), names, strict=True):
                assert (await client.post("/v1/auth/token", data=form(name, "Mùa-thu-2019"))).status_code == 401
            assert (await page_sign_in(sprayer_elsewhere, "30-CA", "Mùa-thu-2019")).status_code == 401
            # Four failures from this address, on two instances: now even the right password waits.
            for client in (sprayer, sprayer_elsewhere):
                blocked = await client.post("/v1/auth/token", data=form("30-CA", PASSWORD))
                assert blocked.status_code == 429, blocked.text
                assert blocked.json()["error"]["code"] == "too_many_requests"
                assert "from this address" in blocked.json()["error"]["message"]
                assert 590 <= int(blocked.headers["retry-after"]) <= 600
            on_page = await page_sign_in(sprayer, "30-CA", PASSWORD)
    assert on_page.status_code == 429 and 590 <= int(on_page.headers["retry-after"]) <= 600
    assert f"{CLIENT_BLOCKED} Vui lòng thử lại sau 10 phút." in " ".join(on_page.text.split())
    assert "baocao_session" not in on_page.headers.get("set-cookie", "")

    assert await failures_by_client(intake) == {"203.0.113.7": 4}  # the refused tries are not counted again

    # Another client signs in to the same account: the block is the address's, not the account's.
    async with client_from(intake.app, "198.51.100.20") as colleague:
        assert (await colleague.post("/v1/auth/token", data=form("30-CA", PASSWORD))).status_code == 200


async def test_x_forwarded_for_counts_only_behind_a_trusted_proxy(intake, intake_running):
    # No trusted proxies: the header is the client's own word and is ignored.
    async with client_from(intake.app, "203.0.113.7") as client:
        for n in range(4):
            spoofed = {"X-Forwarded-For": f"192.0.2.{n}"}
            assert (await client.post("/v1/auth/token", data=form(f"u{n}", "x"), headers=spoofed)).status_code == 401
        blocked = await client.post("/v1/auth/token", data=form("u9", "x"), headers={"X-Forwarded-For": "192.0.2.99"})
    assert blocked.status_code == 429
    assert await failures_by_client(intake) == {"203.0.113.7": 4}

    # Behind a proxy named in the settings, the client is the right-most address the proxy did not add.
    behind = intake.settings.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]})
    async with intake_running(behind) as (app, _), client_from(app, "10.1.2.3") as proxy:
        for n in range(2):
            forged_then_real = {"X-Forwarded-For": f"192.0.2.{n}, 198.51.100.{n}, 10.9.9.9"}
            answer = await proxy.post("/v1/auth/token", data=form(f"v{n}", "x"), headers=forged_then_real)
            assert answer.status_code == 401
        assert (await proxy.post("/v1/auth/token", data=form("w", "x"))).status_code == 401  # no header: the proxy
    assert await failures_by_client(intake) == {"203.0.113.7": 4, "198.51.100.0": 1, "198.51.100.1": 1, "10.1.2.3": 1}


async def test_a_throttled_username_answers_alike_whether_or_not_it_exists(intake):
    await intake.create_account("30-CA", role="reporter", province="30", unit="CA")
    answers = {}
    for name, address in (("30-CA", "198.51.100.1"), ("khong-ton-tai", "198.51.100.2")):
        async with client_from(intake.app, address) as client:
            for _ in range(3):
                assert (await client.post("/v1/auth/token", data=form(name, "sai-mat-khau"))).status_code == 401
            api = await client.post("/v1/auth/token", data=form(name, PASSWORD))
            page = await page_sign_in(client, name, PASSWORD)
        answers[name] = (api, page)
    (real_api, real_page), (none_api, none_page) = answers["30-CA"], answers["khong-ton-tai"]
    assert real_api.status_code == none_api.status_code == 429
    assert real_api.json() == none_api.json()
    assert abs(int(real_api.headers["retry-after"]) - int(none_api.headers["retry-after"])) <= 2
    assert real_page.status_code == none_page.status_code == 429
    texts = [Page.of(p.text).text("loi-dang-nhap") for p in (real_page, none_page)]
    assert texts[0] == texts[1] == f"{USERNAME_THROTTLED} Vui lòng thử lại sau 10 phút.", texts


@pytest.mark.parametrize(
    "intake_settings_overrides",
    [{"login_free_failures": 3, "login_backoff_base_s": 60, "login_backoff_max_s": 3600}],
)
async def test_an_attacker_slows_only_itself_and_the_real_user_signs_in_from_elsewhere(intake):
    """Wrong passwords for 30-CA from one address: three free, then a wait that doubles after each further one,
    Retry-After counting down meanwhile; the reporter, at the office's address, signs in all along."""
    await intake.create_account("30-CA", role="reporter", province="30", unit="CA")
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    intake.app.state.authenticator.clock = clock
    waits: list[int] = []

    async def attacker_tries(client: httpx.AsyncClient, password: str = "Mùa-thu-2019") -> httpx.Response:
        answer = await client.post("/v1/auth/token", data=form("30-CA", password))
        if answer.status_code == 429:
            waits.append(int(answer.headers["retry-after"]))
        return answer

    async with client_from(intake.app, "203.0.113.7") as attacker, client_from(intake.app, "198.51.100.20") as office:

        async def the_real_user_signs_in() -> None:
            assert (await office.post("/v1/auth/token", data=form("30-CA", PASSWORD))).status_code == 200
            assert (await page_sign_in(office, "30-CA", PASSWORD)).status_code == 303
            office.cookies.clear()

        for _ in range(3):
            assert (await attacker_tries(attacker)).status_code == 401
            await the_real_user_signs_in()
        refused = await attacker_tries(attacker, PASSWORD)  # even the right password waits, from there
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["details"] == {"limit": "username"}
        assert "for this username from this address" in refused.json()["error"]["message"]
        await the_real_user_signs_in()

        clock.set(clock.now() + timedelta(seconds=20))
        assert (await attacker_tries(attacker)).status_code == 429  # 40 s left
        clock.set(clock.now() + timedelta(seconds=40))
        assert (await attacker_tries(attacker)).status_code == 401  # the fourth guess
        assert (await attacker_tries(attacker)).status_code == 429  # now twice as long
        await the_real_user_signs_in()
        clock.set(clock.now() + timedelta(seconds=120))
        assert (await attacker_tries(attacker)).status_code == 401  # the fifth
        on_page = await page_sign_in(attacker, "30-CA", PASSWORD)
        await the_real_user_signs_in()

    print("Retry-After seen by the attacker:", waits, "then on the page:", on_page.headers.get("retry-after"))
    assert waits == [60, 40, 120]
    assert on_page.status_code == 429 and on_page.headers["retry-after"] == "240"
    assert f"{USERNAME_THROTTLED} Vui lòng thử lại sau 4 phút." in " ".join(on_page.text.split())
    assert "baocao_session" not in on_page.headers.get("set-cookie", "")
    # The office's sign-ins cleared nothing of the attacker's count, and the attacker's never touched the office.
    assert await failures_by_client(intake) == {"203.0.113.7": 5}
