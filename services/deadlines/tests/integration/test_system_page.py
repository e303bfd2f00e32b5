"""The operators' system status page over HTTP (no browser), on real Kafka and PostgreSQL.

deadlines draws the page; consolidation and notify run under uvicorn on loopback ports; intake's
address is a closed port. consolidation also runs a consumer group of this test on a topic of its own,
whose handler refuses one event until its cause is fixed: that record lands on the group's DLQ.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import ExitStack
from types import SimpleNamespace

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from baocao_shared.events import CloudEvent
from baocao_shared.events.topics import dlq_topic
from baocao_shared.runtime import ConsumerSpec
from baocao_stack.ports import free_port
from baocao_testing.fixtures import create_database
from baocao_testing.html import Page, csrf_of
from baocao_testing.kit import TokenMint, fresh_group_prefix, new_topic, read_topic, served, wait_until
from consolidation.config import Settings as ConsolidationSettings
from consolidation.main import create_app as create_consolidation
from deadlines.config import Settings
from deadlines.main import create_app
from notify.config import Settings as NotifySettings
from notify.main import create_app as create_notify

pytestmark = pytest.mark.integration
EVENT_TYPE = "vn.baocao.test.status_page.v1"


def refusing_until_fixed(state: SimpleNamespace):
    """The test group's handler: it fails while the cause is not fixed, then records what it applied."""

    async def apply(session, event: CloudEvent) -> None:
        if not state.fixed:
            raise RuntimeError("đơn vị chưa có trong danh mục")
        state.applied.append(event.id)

    return apply


@pytest.fixture(scope="module")
async def system(postgres, kafka) -> AsyncIterator[SimpleNamespace]:
    mint, state = TokenMint(), SimpleNamespace(fixed=False, applied=[])
    topic = await new_topic(kafka.bootstrap, partitions=1, prefix="ops-page")

    groups = await fresh_group_prefix(kafka.bootstrap)

    def settings(cls, **extra):
        return cls(
            kafka_bootstrap_servers=kafka.bootstrap,
            env="test",
            consumer_group_prefix=groups,
            outbox_poll_interval_s=0.2,
            **extra,
        )

    consolidation_port, notify_port = free_port(), free_port()
    consolidation = create_consolidation(
        settings(
            ConsolidationSettings,
            http_port=consolidation_port,
            database_url=await create_database(postgres, "consolidation"),
        ),
        verifier=mint.verifier(),
    )
    runtime = consolidation.state.runtime
    runtime.consumers = [
        *runtime.consumers,
        ConsumerSpec(group_id="ops-page", topics=[topic], handlers={EVENT_TYPE: refusing_until_fixed(state)}),
    ]
    notify = create_notify(
        settings(
            NotifySettings,
            http_port=notify_port,
            database_url=await create_database(postgres, "notify"),
            sender_enabled=False,
        ),
        verifier=mint.verifier(),
    )
    with ExitStack() as stack:
        urls = {
            "intake": f"http://127.0.0.1:{free_port()}",  # nobody listens there
            "consolidation": stack.enter_context(served(consolidation, consolidation_port, "consolidation")),
            "notify": stack.enter_context(served(notify, notify_port, "notify")),
        }
        deadlines = create_app(
            settings(
                Settings,
                database_url=await create_database(postgres, "deadlines"),
                scheduler_enabled=False,
                service_urls=urls,
            ),
            verifier=mint.verifier(),
        )
        async with deadlines.router.lifespan_context(deadlines):
            found = SimpleNamespace(
                app=deadlines,
                mint=mint,
                state=state,
                topic=topic,
                group=runtime.group_id(runtime.consumers[-1]),
                bootstrap=kafka.bootstrap,
                stuck=CloudEvent(source="/baocao/test", type=EVENT_TYPE, data={"unit": "MOI"}),
            )
            await publish(found, found.stuck)
            yield found


def client_of(system: SimpleNamespace, role: str, *scope: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=system.app), base_url="http://deadlines.test")
    client.cookies.set("baocao_session", system.mint.token(role, *scope))
    return client


async def page_when_ready(client: httpx.AsyncClient) -> httpx.Response:
    """/he-thong once deadlines, consolidation and notify are ready and the dead letter is listed."""

    async def ready():
        answer = await client.get("/he-thong")
        page = Page.of(answer.text)
        healths = [page.text(f"dv-{s}-suc-khoe") for s in ("deadlines", "consolidation", "notify")]
        return healths == ["✓ Sẵn sàng"] * 3 and "Phát lại" in answer.text and answer

    return await wait_until(ready, timeout=90, interval=1, what="three services ready and the dead letter listed")


async def dead_lettered(system: SimpleNamespace) -> list:
    async def listed():
        return await read_topic(system.bootstrap, dlq_topic(system.group))

    return await wait_until(listed, timeout=60, what="the refused record on the DLQ")


async def publish(system: SimpleNamespace, event: CloudEvent) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=system.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(system.topic, value=event.to_bytes(), key=b"30.CA")
    finally:
        await producer.stop()


async def test_the_page_shows_the_four_services_one_down_and_the_dead_letter_with_its_error(system):
    [letter] = await dead_lettered(system)
    async with client_of(system, "admin") as client:
        answer = await page_when_ready(client)
    assert answer.status_code == 200
    page = Page.of(answer.text)
    assert page.text("dv-intake-suc-khoe") == "✗ Không phản hồi"
    assert page.text("dv-intake-loi") == "Không đọc được số liệu: dịch vụ không phản hồi."
    assert [page.text(f"dv-{s}-ten") for s in ("intake", "deadlines", "consolidation", "notify")] == [
        "Nộp báo cáo intake",
        "Tiến độ deadlines",
        "Báo cáo tổng hợp consolidation",
        "Thông báo notify",
    ]
    figures = page.text("dv-consolidation-so-lieu")
    assert figures.startswith("Sự kiện chờ gửi 0 Độ trễ đọc ") and figures.endswith("Bản ghi lỗi (DLQ) 1 bản ghi")
    card = page.text(f"dlq-{system.group}-{letter.partition}-{letter.offset}")
    assert card.startswith("RuntimeError: đơn vị chưa có trong danh mục Sự kiện vn.baocao.test.status_page.v1 ")
    assert f"Nguồn {system.topic}, phân vùng 0, vị trí 0 Vào DLQ lúc " in card
    assert page.all("input", name="group", value=system.group)
    assert page.text(f"tre-{system.group}") == (
        f"Nhóm {system.group} · trễ 0 bản ghi Chủ đề Phân vùng: đã xử lý đến / cuối Trễ {system.topic} #0 1/1 0"
    ), "the test group's lag: past the dead letter"
    # The navigation leads admins to this page, marked as the current one.
    assert [a["href"] for a in page.all("a", **{"aria-current": "page"})] == ["/he-thong"]

    async with client_of(system, "national_operator") as client:
        national = await client.get("/he-thong")
    assert national.status_code == 200
    assert "Tài khoản này chỉ xem." in national.text and "/he-thong/phat-lai" not in national.text
    for role, scope in (("province_operator", ("30",)), ("reporter", ("30", "CA"))):
        async with client_of(system, role, *scope) as client:
            refused = await client.get("/he-thong")
            home = await client.get("/tien-do?province=30")
        assert refused.status_code == 403 and "Không có quyền xem trang này" in refused.text
        assert 'href="/he-thong"' not in home.text, "the navigation offers the page to admins and national only"


async def test_the_replay_form_sends_the_record_back_once(system):
    [letter] = await dead_lettered(system)
    form = {
        "service": "consolidation",
        "group": system.group,
        "partition": str(letter.partition),
        "offset": str(letter.offset),
    }
    async with client_of(system, "national_operator") as client:
        token = csrf_of(await client.get("/he-thong"))
        refused = await client.post("/he-thong/phat-lai", data={**form, "csrf_token": token})
    assert refused.status_code == 403 and "Không có quyền phát lại" in refused.text

    system.state.fixed = True  # the cause is fixed
    async with client_of(system, "admin") as client:
        token = csrf_of(await client.get("/he-thong"))
        replayed = await client.post("/he-thong/phat-lai", data={**form, "csrf_token": token})
        assert replayed.status_code == 303 and replayed.headers["location"] == "/he-thong"
        after = await client.get("/he-thong")

        async def applied():
            return system.state.applied

        await wait_until(applied, timeout=30, what="consolidation's test group to apply the replayed record")
        again = await client.post("/he-thong/phat-lai", data={**form, "csrf_token": token})
        second = await client.get(again.headers["location"])
        forged = await client.post("/he-thong/phat-lai", data=form)  # no CSRF token
    page = Page.of(after.text)
    assert page.all("p", **{"class": "flash", "role": "status"})
    assert "Đã phát lại bản ghi lỗi (nhóm " in after.text and f"về chủ đề {system.topic}." in after.text
    card = page.text(f"dlq-{system.group}-{letter.partition}-{letter.offset}")
    assert "✓ Đã phát lại lúc " in card and card.endswith("bởi test-admin")
    assert not page.all("input", name="group", value=system.group), "no second replay button"
    assert "đã được phát lại trước đó nên không gửi lại lần nữa." in second.text
    assert forged.status_code == 403
    assert system.state.applied == [system.stuck.id], "applied once"
