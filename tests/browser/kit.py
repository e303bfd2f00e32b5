"""What the browser tests share: a page signed in as someone, at a desktop's or a phone's size, and screenshots
kept for a person to look at (artifacts/screenshots/)."""

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

from playwright.async_api import Browser, Page

from baocao_stack.ports import free_port
from baocao_testing.fixtures import create_database
from baocao_testing.kit import TokenMint, served
from baocao_testing.signing import signing_settings

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@contextlib.contextmanager
def serving(create_app: Callable, settings_class: type, name: str, postgres, kafka, group_prefix: str, **settings):
    """A service served over real HTTP (uvicorn in a thread, on a loopback port), on a database of its own, in the
    test's consumer groups, trusting the tokens of its own TokenMint: its `url`, `mint` and `settings`."""
    port, mint = free_port(), TokenMint()
    chosen = settings_class(
        database_url=asyncio.run(create_database(postgres, name)),
        kafka_bootstrap_servers=kafka.bootstrap,
        env="test",
        http_port=port,
        consumer_group_prefix=group_prefix,
        **({**signing_settings(), **settings} if "signing_pkcs12" in settings_class.model_fields else settings),
    )
    with served(create_app(chosen, verifier=mint.verifier()), port, name) as url:
        yield SimpleNamespace(url=url, mint=mint, settings=chosen)


async def signed_in(browser: Browser, url: str, token: str, *, phone: bool = False, **context) -> Page:
    """A page in a context of its own (its own cookies), carrying `token` as the session cookie on `url`'s site."""
    size = PHONE if phone else DESKTOP
    opened = await browser.new_context(viewport=size, is_mobile=phone, has_touch=phone, locale="vi-VN", **context)
    await opened.add_cookies([{"name": "baocao_session", "value": token, "url": url}])
    return await opened.new_page()


async def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SHOTS / f"{name}.png", full_page=full_page)
