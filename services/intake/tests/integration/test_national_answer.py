"""Intake reads the national office's answer from the real broker: a report returned to the province unlocks its
period as a reopen does (units amend again, audited); an accepted one keeps it locked, for good."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from baocao_shared.events import make_event
from baocao_shared.events.reports import (
    REPORT_ACCEPTED,
    REPORT_PUBLISHED,
    REPORT_RETURNED,
    ConsolidatedReportV1,
    DisciplineV1,
    ReportStatusV1,
)
from baocao_testing.kit import wait_until
from intake.adapters import orm
from intake.domain.catalog import parse_province_file
from services.intake.tests.conftest import HAI_DUONG, Catalogue
from services.intake.tests.integration.test_submissions_api import FIGURES

pytestmark = [pytest.mark.integration, pytest.mark.hai_duong_in_june]
PERIOD = "2019-06"
# A plan of this test's own: the broker is shared, and a lock left on plan 467 would hold other tests' June.
PLAN = (
    parse_province_file(HAI_DUONG.read_text(encoding="utf-8"))
    .plans[0]
    .model_copy(update={"id": f"na-{uuid.uuid4().hex[:8]}"})
)
AT = datetime(2019, 6, 10, 4, tzinfo=UTC)


def published(number: str, at: datetime) -> ConsolidatedReportV1:
    return ConsolidatedReportV1(
        province="30", province_name="Hải Dương", plan_id=PLAN.id, plan_number=PLAN.number, period=PERIOD,
        status="published", revision=2, issuing_body="BAN CHỈ ĐẠO", place_name="Hải Dương", title="Báo cáo",
        number_code="BC-BCĐNQ", recipients=[], signer_position="TRƯỞNG BAN", signer_name="", totals={}, tasks=[],
        units=[], difficulties=[], next_month=[], closing_labels={},
        discipline=DisciplineV1(expected=1, on_time=1, late=0, missing=0, pending=0),
        published_at=at, published_by="op-30", number=number,
    )  # fmt: skip


def answer(status: str, at: datetime, reason: str | None = None) -> ReportStatusV1:
    return ReportStatusV1(
        province="30", plan_id=PLAN.id, period=PERIOD, status=status, revision=2, at=at, by="vpttt", reason=reason
    )


async def test_a_returned_report_unlocks_its_period_and_an_accepted_one_keeps_it_locked(intake, kafka):
    await intake.seed_catalog(Catalogue([], [], [PLAN]))
    ca = await intake.headers_for("reporter", "30", "CA")
    body = {"plan_id": PLAN.id, "unit": "CA", "period": PERIOD, "values": FIGURES, "narratives": {}}
    first = await intake.client.post("/v1/submissions", json=body, headers=ca)
    assert first.status_code == 201, first.text
    amend_url = f"/v1/submissions/{first.json()['id']}"

    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()

    async def send(spec, data) -> uuid.UUID:
        event, key = make_event(spec, data, source="/baocao/test", province="30")
        await producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())
        return event.id

    async def locked(want: bool, what: str) -> None:
        async def now_so():
            return (await intake.client.get(amend_url, headers=ca)).json()["locked"] is want

        await wait_until(now_so, timeout=30, what=what)

    try:
        await send(REPORT_PUBLISHED, published("1/BC-BCĐNQ", AT))
        await locked(True, "the published report to lock the period")
        refused = await intake.client.put(amend_url, json={"values": FIGURES}, headers=ca)
        assert refused.status_code == 409

        await send(REPORT_RETURNED, answer("draft", AT.replace(hour=5), "Thiếu số liệu của Công an tỉnh"))
        await locked(False, "the returned report to unlock the period")
        amended = await intake.client.put(amend_url, json={"values": {**FIGURES, "t1_sessions": 9}}, headers=ca)
        assert amended.status_code == 200 and amended.json()["version"] == 2, amended.text

        await send(REPORT_PUBLISHED, published("2/BC-BCĐNQ", AT.replace(hour=6)))
        await locked(True, "the report published again to lock the period")
        acceptance = await send(REPORT_ACCEPTED, answer("accepted", AT.replace(hour=7)))

        async def read() -> bool:
            async with intake.transaction() as db:
                return (
                    await db.scalar(select(orm.inbox.c.event_id).where(orm.inbox.c.event_id == acceptance)) is not None
                )

        await wait_until(read, timeout=30, what="intake to read the acceptance")
        # Accepted keeps the lock: an amendment is still refused.
        again = await intake.client.put(amend_url, json={"values": FIGURES}, headers=ca)
        assert again.status_code == 409 and "locked" in again.json()["error"]["message"]
    finally:
        await producer.stop()

    async with intake.transaction() as db:
        rows = (
            await db.execute(
                select(orm.audit_log.c.action, orm.audit_log.c.actor, orm.audit_log.c.details)
                .where(orm.audit_log.c.action.like("period.%"), orm.audit_log.c.subject.contains(PLAN.id))
                .order_by(orm.audit_log.c.id)
            )
        ).all()
    assert [(r.action, r.actor) for r in rows] == [
        ("period.locked", "op-30"), ("period.reopened", "vpttt"), ("period.locked", "op-30"),
    ]  # fmt: skip
    assert rows[1].details["reason"] == "Văn phòng Thường trực trả lại báo cáo: Thiếu số liệu của Công an tỉnh"
