"""The operators' system status page in real Chromium: a dead-lettered record, its cause fixed, replayed.

deadlines (which draws the page), consolidation and notify run under uvicorn on loopback ports, on the
real PostgreSQL and Kafka fixtures; intake's address is a closed port, so it shows as not responding.
consolidation also runs a consumer group of this test on a topic of its own, whose handler refuses
one event until its cause is fixed. Screenshots at desktop and phone widths go to artifacts/screenshots/.
"""

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from types import SimpleNamespace

import pytest
from aiokafka import AIOKafkaProducer
from playwright.async_api import Browser, Page, expect

from baocao_shared.events import CloudEvent
from baocao_shared.events.topics import dlq_topic
from baocao_shared.runtime import ConsumerSpec
from baocao_stack.ports import free_port
from baocao_testing.fixtures import create_database
from baocao_testing.kit import TokenMint, new_topic, read_topic, served, wait_until
from consolidation.config import Settings as ConsolidationSettings
from consolidation.main import create_app as create_consolidation
from deadlines.config import Settings as DeadlinesSettings
from deadlines.main import create_app as create_deadlines
from notify.config import Settings as NotifySettings
from notify.main import create_app as create_notify
from tests.browser.kit import SHOTS, shot, signed_in

pytestmark = [pytest.mark.integration, pytest.mark.browser]

EVENT_TYPE = "vn.baocao.test.status_page.v1"


def refusing_until_fixed(state: SimpleNamespace):
    async def apply(session, event: CloudEvent) -> None:
        if not state.fixed:
            raise RuntimeError("Đơn vị 30.SNN-MOI chưa có trong danh mục của tỉnh")
        state.applied.append(event.id)

    return apply


async def _publish(bootstrap: str, topic: str, event: CloudEvent) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=event.to_bytes(), key=b"30.SNN-MOI")
    finally:
        await producer.stop()


@pytest.fixture
def system(postgres, kafka, group_prefix) -> Iterator[SimpleNamespace]:
    mint, state = TokenMint(), SimpleNamespace(fixed=False, applied=[])
    topic = asyncio.run(new_topic(kafka.bootstrap, partitions=1, prefix="ops-browser"))
    ports = {name: free_port() for name in ("deadlines", "consolidation", "notify")}

    def settings(cls, name: str, **extra):
        return cls(
            database_url=asyncio.run(create_database(postgres, prefix=name)),
            kafka_bootstrap_servers=kafka.bootstrap,
            env="test",
            http_port=ports[name],
            consumer_group_prefix=group_prefix,
            **extra,
        )

    consolidation = create_consolidation(settings(ConsolidationSettings, "consolidation"), verifier=mint.verifier())
    runtime = consolidation.state.runtime
    runtime.consumers = [
        *runtime.consumers,
        ConsumerSpec(group_id="tong-hop-thu", topics=[topic], handlers={EVENT_TYPE: refusing_until_fixed(state)}),
    ]
    notify = create_notify(settings(NotifySettings, "notify", sender_enabled=False), verifier=mint.verifier())
    with ExitStack() as stack:
        urls = {
            "intake": f"http://127.0.0.1:{free_port()}",  # nobody listens there
            "consolidation": stack.enter_context(served(consolidation, ports["consolidation"], "consolidation")),
            "notify": stack.enter_context(served(notify, ports["notify"], "notify")),
        }
        deadlines = create_deadlines(
            settings(DeadlinesSettings, "deadlines", scheduler_enabled=False, service_urls=urls),
            verifier=mint.verifier(),
        )
        url = stack.enter_context(served(deadlines, ports["deadlines"], "deadlines"))
        stuck = CloudEvent(source="/baocao/test", type=EVENT_TYPE, data={"unit": "SNN-MOI"})
        asyncio.run(_publish(kafka.bootstrap, topic, stuck))
        group = runtime.group_id(runtime.consumers[-1])
        dead = asyncio.run(
            wait_until(lambda: read_topic(kafka.bootstrap, dlq_topic(group)), timeout=60, what="the record on the DLQ")
        )
        yield SimpleNamespace(url=url, mint=mint, state=state, stuck=stuck, group=group, letter=dead[0])


async def admin_page(browser: Browser, system: SimpleNamespace, *, phone: bool = False) -> Page:
    return await signed_in(browser, system.url, system.mint.token("admin"), phone=phone)


async def open_when_ready(page: Page, system: SimpleNamespace) -> None:
    """Open /he-thong, again until deadlines, consolidation and notify are ready (their Kafka side starts last)."""

    async def ready() -> bool:
        await page.goto(f"{system.url}/he-thong")
        up = ("deadlines", "consolidation", "notify")
        return all(["Sẵn sàng" in await page.locator(f"#dv-{s}-suc-khoe").inner_text() for s in up])

    await wait_until(ready, timeout=90, interval=1, what="three services ready")


async def test_an_admin_sees_the_dead_letter_and_replays_it_once_its_cause_is_fixed(system, browser):
    card_id = f"#dlq-{system.group}-{system.letter.partition}-{system.letter.offset}"
    desktop = await admin_page(browser, system)
    await open_when_ready(desktop, system)
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Tình trạng hệ thống")
    await expect(desktop.locator("#dv-intake-suc-khoe")).to_have_text("✗ Không phản hồi")
    card = desktop.locator(card_id)
    await expect(card).to_contain_text("RuntimeError: Đơn vị 30.SNN-MOI chưa có trong danh mục của tỉnh")
    await expect(desktop.get_by_role("link", name="Tình trạng hệ thống")).to_have_attribute("aria-current", "page")
    await shot(desktop, "he-thong-desktop-1-ban-ghi-loi")
    await card.scroll_into_view_if_needed()
    await shot(desktop, "he-thong-desktop-2-ban-ghi-loi-gan", full_page=False)

    phone = await admin_page(browser, system, phone=True)
    await phone.goto(f"{system.url}/he-thong")
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Tình trạng hệ thống")
    await shot(phone, "he-thong-phone-1-man-hinh-dau", full_page=False)
    await phone.locator(card_id).scroll_into_view_if_needed()
    await shot(phone, "he-thong-phone-2-ban-ghi-loi", full_page=False)

    system.state.fixed = True  # the catalogue caught up
    await card.get_by_role("button", name="Phát lại").click()
    await expect(desktop.locator(".flash")).to_contain_text("Đã phát lại bản ghi lỗi (nhóm")
    await expect(desktop.locator(card_id)).to_contain_text("✓ Đã phát lại lúc")
    await expect(desktop.locator(card_id).get_by_role("button")).to_have_count(0)
    await shot(desktop, "he-thong-desktop-3-da-phat-lai", full_page=False)

    async def applied():
        return system.state.applied

    await wait_until(applied, timeout=30, what="the failing group to apply the replayed record")
    assert system.state.applied == [system.stuck.id]

    await phone.reload()
    await expect(phone.locator(card_id)).to_contain_text("✓ Đã phát lại lúc")
    await shot(phone, "he-thong-phone-3-da-phat-lai")
    await phone.locator("#dv-consolidation").screenshot(path=SHOTS / "he-thong-phone-4-tong-hop.png")
    for page in (desktop, phone):
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.viewport_size["width"], f"the page scrolls sideways: {width} px"
