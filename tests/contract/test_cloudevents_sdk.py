"""A client that knows only the CloudEvents Kafka protocol binding reads every event we publish.

One event of every registered type goes the real way: `make_event`, the outbox table (`enqueue`), the real
`OutboxRelay` and the idempotent producer, to the real broker. Each record is read back with aiokafka and
handed to the official CloudEvents SDK (`cloudevents` on PyPI) as a Kafka message, through:

- `from_kafka_event`: the SDK's reader for a record of either mode, which picks the mode itself (binary when
  any header starts with `ce_`, else structured);
- `from_structured_event`: the structured mode reader;
- `cloudevents.v1.kafka.from_structured`: the 1.x API (what `cloudevents.kafka` was), which many clients use.

Each must give the event's id, source, type, subject, time, data and the `province` and `correlationid`
extensions, and the record key as `partitionkey` (the binding's mapping of the key). Records go to private
copies of the topics, so no other test's consumer group meets them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from cloudevents.core.bindings import kafka as binding
from cloudevents.v1 import kafka as binding_1x
from pydantic import BaseModel

from baocao_shared.db import asyncpg_dsn, make_engine, new_metadata
from baocao_shared.events import EVENTS, CloudEvent, make_event
from baocao_shared.events.catalog import AccountAccessV1
from baocao_shared.events.deadlines import (
    EscalationV1,
    MissingProvinceV1,
    NationalEscalationV1,
    ObligationV1,
    PeriodClosedV1,
    ProvinceNoticeV1,
    ProvinceObligationV1,
    UnitNoticeV1,
)
from baocao_shared.events.notifications import DeliveryV1
from baocao_shared.events.reports import (
    ConsolidatedReportV1,
    DisciplineV1,
    DocumentIssuedV1,
    ExcerptV1,
    IndicatorTotalV1,
    LateUnitV1,
    ReportStatusV1,
    SectionEditedV1,
    TaskSectionV1,
    UnitFiguresV1,
)
from baocao_shared.events.submissions import SubmissionV1
from baocao_shared.messaging.outbox import OutboxRelay, enqueue
from baocao_shared.messaging.tables import outbox_table
from baocao_testing.fixtures import create_database
from baocao_testing.kit import new_topic, read_topic
from baocao_testing.samples import regime_file
from intake.domain.catalog import parse_province_file
from intake.domain.regimes import parse_regime_file

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
PLAN = HAI_DUONG.plans[0]
AT = datetime(2019, 6, 12, 3, 4, 5, 678901, tzinfo=UTC)
DUE = datetime(2019, 6, 15, 17, 0, tzinfo=UTC)
P, U, PERIOD = "30", "CA", "2019-06"


def obligation(status: str = "late") -> ObligationV1:
    return ObligationV1(
        province=P, plan_id=PLAN.id, period=PERIOD, unit=U, unit_name="Công an tỉnh", due_at=DUE, status=status,
        first_submitted_at=AT + timedelta(days=4), late_by_s=3600,
    )  # fmt: skip


def report() -> ConsolidatedReportV1:
    excerpt = ExcerptV1(unit=U, unit_name="Công an tỉnh", text="Tổ chức 3 hội nghị quán triệt Chỉ thị 44")
    total = IndicatorTotalV1(code="t1_sessions", label="Số hội nghị", unit="buổi", total=3)
    late = LateUnitV1(unit=U, unit_name="Công an tỉnh", late_by_s=3600)
    return ConsolidatedReportV1(
        province=P, province_name="Hải Dương", plan_id=PLAN.id, plan_number=PLAN.number, period=PERIOD,
        status="published", revision=3, issuing_body="BAN CHỈ ĐẠO NHÂN QUYỀN TỈNH HẢI DƯƠNG", place_name="Hải Dương",
        title="Báo cáo tháng 6 năm 2019", number_code="BC-BCĐNQ", recipients=["Văn phòng Thường trực"],
        signer_position="TRƯỞNG BAN", signer_name="Nguyễn Văn A", totals={"t1_sessions": 3},
        tasks=[TaskSectionV1(code="T1", title="Quán triệt", indicators=[total], excerpts=[excerpt])],
        units=[UnitFiguresV1(unit=U, unit_name="Công an tỉnh", version=2, received_at=AT, values={"t1_sessions": 3})],
        difficulties=[excerpt], next_month=[], closing_labels={"difficulties": "III. Khó khăn, vướng mắc"},
        discipline=DisciplineV1(due_at=DUE, closed=True, expected=1, on_time=0, late=1, missing=0, pending=0,
                                late_units=[late]),
        published_at=AT + timedelta(days=6), published_by="op-30",
    )  # fmt: skip


def escalation() -> EscalationV1:
    return EscalationV1(
        province=P, plan_id=PLAN.id, period=PERIOD, due_at=DUE, fire_at=AT, expected=29,
        missing_units=[{"unit": U, "unit_name": "Công an tỉnh"}],
    )  # fmt: skip


def period_closed() -> PeriodClosedV1:
    return PeriodClosedV1(
        province=P, plan_id=PLAN.id, period=PERIOD, due_at=DUE, closed_at=AT, expected=1, on_time=0, late=1,
        missing=0, units=[obligation()],
    )  # fmt: skip


def notice(kind: str, sequence: int) -> UnitNoticeV1:
    return UnitNoticeV1(
        province=P, plan_id=PLAN.id, period=PERIOD, unit=U, unit_name="Công an tỉnh", due_at=DUE, kind=kind,
        sequence=sequence, day_offset=-1, fire_at=AT, message="Đề nghị gửi báo cáo đúng hạn",
    )  # fmt: skip


def province_notice(kind: str, sequence: int) -> ProvinceNoticeV1:
    return ProvinceNoticeV1(
        province=P, province_name="Tỉnh Hải Dương", plan_id=PLAN.id, period=PERIOD, due_at=DUE, kind=kind,
        sequence=sequence, day_offset=1, fire_at=AT, late_by_s=3600 if kind == "overdue" else None,
    )  # fmt: skip


def status(name: str, reason: str | None = None) -> ReportStatusV1:
    return ReportStatusV1(province=P, plan_id=PLAN.id, period=PERIOD, status=name, revision=3, at=AT, by="op-30",
                          reason=reason)  # fmt: skip


def submission(version: int) -> SubmissionV1:
    return SubmissionV1(
        submission_id=uuid.uuid4(), province=P, unit=U, plan_id=PLAN.id, period=PERIOD, version=version,
        values={"t1_sessions": 3, "t1_participants": 420}, narratives={"T1": 'Hội nghị "Chỉ thị 44"\n– 420 lượt'},
        received_at=AT + timedelta(days=version), first_received_at=AT, submitted_by="rep-30-ca",
    )  # fmt: skip


def delivery(reason: str | None) -> DeliveryV1:
    return DeliveryV1(
        delivery_id=uuid.uuid4(), cause_event_id=uuid.uuid4(), cause_type="vn.baocao.reminder.due.v1", province=P,
        unit=U, period=PERIOD, channel="email", recipient="ca@p30.baocao.test", attempts=3, at=AT, reason=reason,
    )  # fmt: skip


# Valid data for each registered type. A new type fails the test until it has a sample here.
SAMPLES: dict[str, BaseModel] = {
    "vn.baocao.province.upserted.v1": HAI_DUONG.province,
    "vn.baocao.unit.upserted.v1": HAI_DUONG.units[0].model_copy(update={"active_from": date(2019, 1, 1)}),
    "vn.baocao.plan.upserted.v1": PLAN,
    "vn.baocao.regime.upserted.v1": parse_regime_file(regime_file()).regime,
    "vn.baocao.account.access_changed.v1": AccountAccessV1(
        username="30-CA",
        active=False,
        not_before=datetime(2025, 7, 3, 8, 0, 0, 123456, tzinfo=UTC),
        reason="deactivated",
    ),
    "vn.baocao.obligation.updated.v1": obligation(),
    "vn.baocao.reminder.due.v1": notice("reminder", 0),
    "vn.baocao.deadline.missed.v1": notice("overdue", 1),
    "vn.baocao.nudge.requested.v1": notice("nudge", 0).model_copy(update={"requested_by": "op-30"}),
    "vn.baocao.escalation.raised.v1": escalation(),
    "vn.baocao.period.closed.v1": period_closed(),
    "vn.baocao.province_obligation.updated.v1": ProvinceObligationV1(
        province=P,
        province_name="Tỉnh Hải Dương",
        plan_id=PLAN.id,
        period=PERIOD,
        due_at=DUE,
        status="late",
        first_published_at=AT,
        late_by_s=34207,
    ),
    "vn.baocao.province_reminder.due.v1": province_notice("reminder", 0),
    "vn.baocao.province_deadline.missed.v1": province_notice("overdue", 0),
    "vn.baocao.province_nudge.requested.v1": province_notice("nudge", 0).model_copy(
        update={"requested_by": "vptt", "message": "Đề nghị gửi ngay"}
    ),
    "vn.baocao.national_escalation.raised.v1": NationalEscalationV1(
        period=PERIOD,
        plan_ids=[PLAN.id],
        due_at=DUE,
        fire_at=AT,
        expected=34,
        missing_provinces=[MissingProvinceV1(province=P, province_name="Tỉnh Hải Dương", plan_id=PLAN.id)],
    ),
    "vn.baocao.notification.sent.v1": delivery(None),
    "vn.baocao.notification.failed.v1": delivery("550 mailbox unavailable"),
    "vn.baocao.report.approved.v1": status("approved"),
    "vn.baocao.report.published.v1": report(),
    "vn.baocao.report.reverted.v1": status("draft", "Đơn vị CA sửa báo cáo sau khi duyệt"),
    "vn.baocao.report.reopened.v1": status("draft", "Mở lại để bổ sung"),
    "vn.baocao.report.returned.v1": status("draft", "Thiếu số liệu của Ban Tuyên giáo"),
    "vn.baocao.report.accepted.v1": status("accepted"),
    "vn.baocao.report.section_edited.v1": SectionEditedV1(
        province=P,
        plan_id=PLAN.id,
        period=PERIOD,
        key="t1",
        text="Các đơn vị quán triệt đầy đủ.\nCông an tỉnh…",
        version=3,
        by="op-30",
        at=AT,
        sources={"CA": "0123456789abcdef"},
    ),
    "vn.baocao.report.document_issued.v1": DocumentIssuedV1(
        province=P,
        plan_id=PLAN.id,
        period=PERIOD,
        number="3/BC-BCĐNQ",
        kind="pdf",
        media_type="application/pdf",
        filename="bao-cao-30-2019-06-so-3.pdf",
        sha256="0" * 64,
        size=9,
        signed_by="BAN CHỈ ĐẠO NHÂN QUYỀN",
        published_at=AT,
        content_base64="JVBERi0xLjcK",
    ),
    "vn.baocao.submission.received.v1": submission(1),
    "vn.baocao.submission.amended.v1": submission(2),
}


def expected(event: CloudEvent, key: str) -> dict:
    return {
        "specversion": "1.0",
        "id": str(event.id),
        "source": event.source,
        "type": event.type,
        "subject": event.subject,
        "time": event.time,
        "data": event.data,
        "province": event.province,
        "correlationid": event.correlationid,
        "partitionkey": key,
    }


def read_by_sdk(event) -> dict:
    """What the SDK's event (cloudevents.core) says."""
    return {
        "specversion": event.get_specversion(),
        "id": event.get_id(),
        "source": event.get_source(),
        "type": event.get_type(),
        "subject": event.get_subject(),
        "time": event.get_time(),
        "data": event.get_data(),
        "province": event.get_extension("province"),
        "correlationid": event.get_extension("correlationid"),
        "partitionkey": event.get_extension("partitionkey"),
    }


def read_by_sdk_1x(event) -> dict:
    """What the 1.x API's event (cloudevents.v1.http.CloudEvent) says; it keeps `time` as the text it read."""
    names = ("specversion", "id", "source", "type", "subject", "province", "correlationid")
    found = {name: event.get(name) for name in names}
    key = event.get("partitionkey")
    return {
        **found,
        "time": datetime.fromisoformat(event["time"]),
        "data": event.get_data(),
        "partitionkey": key.decode() if isinstance(key, bytes) else key,
    }


async def test_the_official_sdk_reads_one_record_of_every_event_type(postgres, kafka):
    assert set(SAMPLES) == set(EVENTS), "every registered type needs a sample here (and nothing else does)"
    url = await create_database(postgres, "sdk")
    engine = make_engine(url, pool_size=2)
    outbox = outbox_table(new_metadata())
    async with engine.begin() as conn:
        await conn.run_sync(outbox.metadata.create_all)
    private = {spec.topic: None for spec in EVENTS.values()}
    for name in private:
        private[name] = await new_topic(kafka.bootstrap, partitions=3, prefix=f"sdk.{name}")
    sent: dict[str, tuple[CloudEvent, str]] = {}
    async with engine.begin() as conn:
        for n, (event_type, data) in enumerate(SAMPLES.items()):
            spec = EVENTS[event_type]
            correlation_id = None if n % 4 == 3 else f"req-{uuid.uuid4().hex[:8]}"  # some events have none
            event, key = make_event(spec, data, source="/baocao/contract", province=P, correlation_id=correlation_id)
            await enqueue(conn, outbox, private[spec.topic], [(event, key)])
            sent[str(event.id)] = (event, key)

    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        relay = OutboxRelay(engine=engine, producer=producer, outbox=outbox, listen_dsn=asyncpg_dsn(url))
        assert await relay.relay_batch() == len(EVENTS)
    finally:
        await producer.stop()
        await engine.dispose()

    records = [r for topic in private.values() for r in await read_topic(kafka.bootstrap, topic)]
    assert len(records) == len(EVENTS)
    parsed: dict[str, str] = {}
    for record in records:
        headers = {name: value for name, value in record.headers}
        assert headers.get("content-type", b"").startswith(b"application/cloudevents"), (
            "the binding's rule: a content-type of the CloudEvents media type means structured mode"
        )
        message = binding.KafkaMessage(headers=headers, key=record.key, value=record.value)
        auto = binding.from_kafka_event(message)  # picks the mode: what a generic reader calls
        event, key = sent[auto.get_id()]
        assert record.key == key.encode(), "the record key is still the type's partition key"
        want = expected(event, key)
        assert read_by_sdk(auto) == want, event.type
        assert read_by_sdk(binding.from_structured_event(message)) == want, event.type
        old_api = binding_1x.from_structured(
            binding_1x.KafkaMessage(headers=headers, key=record.key, value=record.value)
        )
        assert read_by_sdk_1x(old_api) == want, event.type
        parsed[event.type] = auto.get_id()
    assert len(parsed) == len(EVENTS) and set(parsed) == set(EVENTS), "one record of each type, each parsed"
