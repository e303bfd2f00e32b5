"""A unit's webhook gets its reminder as a signed POST, once, also through the receiver's outage.

Catalogue and deadlines events are published straight on the shared broker. A small FastAPI app
served by uvicorn on a free loopback port stands for the unit's own system: it verifies every
request with baocao_shared.webhooks and answers 401 when the check fails, and 500 to the first
attempts that verify, as a receiver whose database is down would.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from baocao_shared.events import CloudEvent, make_event
from baocao_shared.events.catalog import PROVINCE_UPSERTED, UNIT_UPSERTED, ContactV1
from baocao_shared.events.deadlines import REMINDER_DUE, UnitNoticeV1
from baocao_shared.events.topics import NOTIFICATIONS
from baocao_shared.webhooks import HEADERS, WebhookRefused, WebhookVerifier, new_secret
from baocao_stack.ports import free_port
from baocao_testing.kit import TokenMint, end_offsets, read_topic, served, wait_until
from notify.main import create_app
from services.notify.tests.integration import helpers as given

pytestmark = pytest.mark.integration
PROVINCE = "96"  # a province no other test uses
FAILING_ATTEMPTS = 2


@dataclass
class Receiver:
    """The unit's system: acts on a request only once it verifies."""

    verifier: WebhookVerifier
    verified: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    acted_on: list[dict] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hooks/{name}")
        async def hook(name: str, request: Request) -> Response:
            body = await request.body()
            try:
                document = self.verifier.verify(body, request.headers)
            except WebhookRefused as refusal:
                self.refused.append(type(refusal).__name__)
                return JSONResponse({"refused": type(refusal).__name__, "detail": str(refusal)}, status_code=401)
            self.verified.append((dict(request.headers), body))
            if len(self.verified) <= FAILING_ATTEMPTS:
                return JSONResponse({"error": "database unavailable, try again"}, status_code=500)
            self.acted_on.append(document)
            return Response(status_code=204)

        return app


async def test_a_units_webhook_gets_a_signed_reminder_once_and_an_unsigned_url_fails_visibly(postgres, kafka):
    tag = uuid.uuid4().hex[:6].upper()
    signed_unit, unsigned_unit = f"HOOK{tag}", f"NOSECRET{tag}"
    plan_id = f"webhook-{tag.lower()}"
    secret = new_secret()
    receiver = Receiver(WebhookVerifier(secret))
    mint = TokenMint()
    since = await end_offsets(kafka.bootstrap, NOTIFICATIONS)
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()

    async def send(spec, data):
        event, key = make_event(spec, data, source="/baocao/test", province=PROVINCE)
        await producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())
        return event

    def reminder(unit: str) -> UnitNoticeV1:
        return given.a_notice(
            PROVINCE, plan_id, unit, "reminder", day_offset=-1, fire_at=datetime(2019, 6, 14, 1, tzinfo=UTC)
        )

    try:
        with served(receiver.app(), free_port(), "webhook-receiver") as base:
            signed_url, unsigned_url = f"{base}/hooks/{tag.lower()}", f"{base}/elsewhere/{tag.lower()}"
            settings = await given.notify_settings(
                postgres,
                kafka,
                outbox_poll_interval_s=0.2,
                sender_tick_s=0.1,
                # Attempts well over a second apart, so each has its own webhook-timestamp: one in the
                # same second would be a byte-for-byte copy, which the receiver refuses as a replay.
                retry_initial_s=1.5,
                retry_max_s=3.0,
                delivery_max_attempts=FAILING_ATTEMPTS + 2,
                webhook_secrets={f"{base}/hooks/": secret},  # no default secret: /elsewhere has none
                webhook_timeout_s=5.0,
                service_urls={"intake": "http://intake.test"},
            )
            app = create_app(settings, verifier=mint.verifier())

            async def deliveries():
                return {r.unit: r for r in await given.deliveries_of(app, plan_id)}

            async with app.router.lifespan_context(app):
                await send(PROVINCE_UPSERTED, given.a_province(PROVINCE))
                for code, url in ((signed_unit, signed_url), (unsigned_unit, unsigned_url)):
                    await send(UNIT_UPSERTED, given.a_unit(PROVINCE, code, ContactV1(channel="webhook", address=url)))

                async def catalogue_known():  # topics are not ordered together: notices wait for their units
                    return 2 == await given.units_known(app, [signed_unit, unsigned_unit])

                await wait_until(catalogue_known, timeout=90, what="both units in notify's catalogue")
                cause = await send(REMINDER_DUE, reminder(signed_unit))
                await send(REMINDER_DUE, reminder(unsigned_unit))

                async def settled():
                    rows = await deliveries()
                    done = len(rows) == 2 and rows[signed_unit].status == "sent"
                    return done and rows[unsigned_unit].status == "failed" and rows

                rows = await wait_until(settled, timeout=90, what="the signed webhook sent and the unsigned one failed")
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notify") as api:
                    listed = await api.get(
                        "/v1/deliveries",
                        params={"province": PROVINCE, "period": "2019-06"},
                        headers=mint.headers("province_operator", PROVINCE),
                    )

                async def outcomes():
                    records = await read_topic(kafka.bootstrap, NOTIFICATIONS, since=since)
                    events = [CloudEvent.from_bytes(r.value) for r in records]
                    mine = {e.data["recipient"]: e for e in events if e.data["recipient"] in (signed_url, unsigned_url)}
                    return mine if len(mine) == 2 else None

                events = await wait_until(outcomes, timeout=30, what="notification.sent/.failed on the topic")

            # Someone who captured the accepted request sends it again, as it was and altered.
            received, body = receiver.verified[-1]
            headers = {name: received[name] for name in ("content-type", *HEADERS)}
            async with httpx.AsyncClient() as client:
                replayed = await client.post(signed_url, content=body, headers=headers)
                tampered = await client.post(
                    signed_url, content=body.replace(signed_unit.encode(), b"SYT"), headers=headers
                )
                forged = await client.post(
                    signed_url, content=body, headers={**headers, "webhook-signature": "v1,AAAA" + "A" * 40}
                )
    finally:
        await producer.stop()

    signed, unsigned = rows[signed_unit], rows[unsigned_unit]
    # The receiver acted once, on a document naming the reminder, the unit and the period.
    [document] = receiver.acted_on
    assert document == {
        "id": str(signed.id),
        "type": "vn.baocao.reminder.due.v1",
        "cause_event_id": str(cause.id),
        "province": PROVINCE,
        "plan_id": plan_id,
        "period": "2019-06",
        "unit": signed_unit,
        "subject": f"[Nhắc hạn] Báo cáo tháng 06/2019 của Sở Thử nghiệm {signed_unit}: hạn 00:00 ngày 16/06/2019",
        "text": signed.body_text,
        "occurred_at": signed.created_at.isoformat(),
    }
    assert f"Sở Thử nghiệm {signed_unit}" in document["text"] and "http://intake.test/dang-nhap" in document["text"]
    # Every attempt carried the delivery's id; each its own timestamp. The 500s were retried.
    attempts = receiver.verified
    assert len(attempts) == FAILING_ATTEMPTS + 1 == signed.attempts
    assert {h["webhook-id"] for h, _ in attempts} == {str(signed.id)}
    assert len({h["webhook-timestamp"] for h, _ in attempts}) == len(attempts)
    assert len({b for _, b in attempts}) == 1  # the same document each time

    assert (replayed.status_code, replayed.json()["refused"]) == (401, "Replayed")
    assert (tampered.status_code, tampered.json()["refused"]) == (401, "BadSignature")
    assert (forged.status_code, forged.json()["refused"]) == (401, "BadSignature")
    assert len(receiver.acted_on) == 1
    assert receiver.refused == ["Replayed", "BadSignature", "BadSignature"]  # none of notify's own attempts

    # No secret for the other URL: nothing reached it, and the reason is there for the operator.
    # The reason names the receiver's host, not its path (often the receiver's secret): it is logged and stored.
    host = unsigned_url.split("/", 3)[2]
    reason = f"no webhook signing secret configured for http://{host}/…: set BAOCAO_WEBHOOK_SECRET"
    assert unsigned_url.split("/", 3)[3], "the test's receiver has a path to keep out"
    assert unsigned.attempts == FAILING_ATTEMPTS + 2
    assert listed.status_code == 200, listed.text
    by_unit = {d["unit"]: d for d in listed.json() if d["unit"] in (signed_unit, unsigned_unit)}
    assert (by_unit[signed_unit]["channel"], by_unit[signed_unit]["status"]) == ("webhook", "sent")
    assert (by_unit[unsigned_unit]["channel"], by_unit[unsigned_unit]["status"]) == ("webhook", "failed")
    assert reason in by_unit[unsigned_unit]["last_error"]

    assert events[signed_url].type == "vn.baocao.notification.sent.v1"
    assert events[unsigned_url].type == "vn.baocao.notification.failed.v1"
    assert events[unsigned_url].data["channel"] == "webhook"
    assert reason in events[unsigned_url].data["reason"]
