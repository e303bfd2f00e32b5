"""The replay suite's stream: a million events as the services wrote them over months of 63 provinces (the
catalogue, submissions with amendments and re-sends, report approvals and reverts), produced onto the run's
topics, and what the rebuilt database must then hold."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from baocao_shared.events import CloudEvent, make_event, parse_data
from baocao_shared.events import topics as topic_names
from baocao_shared.events.catalog import PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED, UnitV1
from baocao_shared.events.reports import REPORT_APPROVED, REPORT_REVERTED, ReportStatusV1
from baocao_shared.events.submissions import SUBMISSION_AMENDED, SUBMISSION_RECEIVED
from baocao_shared.messaging.headers import record_headers
from bench.harness import REPO, Stopwatch, say

PROVINCES = 63
AMENDED = 0.08  # share of a month's reports amended to version 2
AMENDED_TWICE = 0.25  # share of those amended again, to version 3
DUPLICATED = 0.01  # share of submission records the relay sends twice
INTAKE = "/baocao/intake"
CONSOLIDATION = "/baocao/consolidation"
NARRATIVES = [
    {},
    {"T1": "Tổ chức hội nghị quán triệt Chỉ thị 44 cho cán bộ, đảng viên."},
    {"T2": "Tuyên truyền Ngày Nhân quyền thế giới 10/12 trên cổng thông tin.", "difficulties": "Thiếu kinh phí."},
    {"T5": "Viết bài phản bác thông tin sai lệch.", "next_month": "Tiếp tục tuyên truyền."},
]


@dataclass
class Stream:
    """What was produced, and what the rebuilt database must hold afterwards."""

    records: dict[str, int] = field(default_factory=dict)  # per logical topic
    submissions: int = 0  # submission records, re-sends included
    duplicates: int = 0  # records sent a second time (same event)
    amendments: int = 0
    events: int = 0  # distinct events of a type consolidation handles: its inbox rows after the rebuild
    unit_reports: int = 0  # (province, plan, period, unit) with a submission: rows of unit_reports
    versions: int = 0  # the sum of their highest versions
    approved: set = field(default_factory=set)  # provinces whose report of a month was approved
    bytes: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.records.values())


def _iso(at: datetime) -> str:
    """As pydantic writes an aware UTC datetime in JSON mode."""
    return at.replace(tzinfo=None).isoformat() + "Z"


# A submission record as json.dumps(event.model_dump(mode="json"), ensure_ascii=False) writes it (the
# relay), field for field; `_check_shape` compares the first records with the real thing byte for byte.
SUBMISSION = (
    '{{"specversion": "1.0", "id": "{id}", "source": "/baocao/intake", "type": "{type}", "time": "{at}", '
    '"subject": "{province}/{unit}/{period}", "datacontenttype": "application/json", "data": {{'
    '"submission_id": "{sid}", "province": "{province}", "unit": "{unit}", "plan_id": "{plan}", '
    '"period": "{period}", "version": {version}, "values": {values}, "narratives": {narratives}, '
    '"received_at": "{at}", "first_received_at": "{first}", "submitted_by": "{by}", "imported": false, '
    '"after_close": false, "channel": null, "entered_by": null}}, '
    '"province": "{province}", "correlationid": null}}'
)


def _encode(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")  # as OutboxRelay.relay_batch


def _check_shape(value: bytes) -> None:
    """The hand-built record equals what make_event + the relay make of the same event, byte for byte."""
    event = CloudEvent.from_bytes(value)
    again, _ = make_event(
        {e.type: e for e in (SUBMISSION_RECEIVED, SUBMISSION_AMENDED)}[event.type],
        parse_data(event),
        source=event.source,
        province=event.province,
        time=event.time,
    )
    expected = _encode(again.model_copy(update={"id": event.id}).model_dump(mode="json"))
    if expected != value:
        raise AssertionError(f"the bench's submission record differs from intake's:\n{value!r}\n{expected!r}")


class Writer:
    """Batched produce: records go into per-partition batches (no await per record), sent when full;
    the partition is the default partitioner's (murmur2 of the key), as for the relay's sends."""

    def __init__(self, producer: AIOKafkaProducer, names: dict[str, str], partitions: int, stream: Stream) -> None:
        self.producer, self.names, self.stream = producer, names, stream
        self.partitions = list(range(partitions))
        self.partitioner = DefaultPartitioner()
        self.partition_of: dict[bytes, int] = {}
        self.batches: dict[tuple[str, int], object] = {}
        self.pending: list = []

    async def add(self, topic: str, key: str, value: bytes, event_type: str) -> None:
        raw_key = key.encode()
        partition = self.partition_of.get(raw_key)
        if partition is None:
            partition = self.partition_of[raw_key] = self.partitioner(raw_key, self.partitions, self.partitions)
        slot = (topic, partition)
        batch = self.batches.get(slot) or self.producer.create_batch()
        self.batches[slot] = batch
        headers = record_headers(event_type)
        if batch.append(key=raw_key, value=value, timestamp=None, headers=headers) is None:
            await self._send(slot)
            batch = self.batches[slot] = self.producer.create_batch()
            batch.append(key=raw_key, value=value, timestamp=None, headers=headers)
        self.stream.records[topic] = self.stream.records.get(topic, 0) + 1
        self.stream.bytes += len(value)

    async def _send(self, slot: tuple[str, int]) -> None:
        batch = self.batches.pop(slot)
        self.pending.append(await self.producer.send_batch(batch, self.names[slot[0]], partition=slot[1]))
        if len(self.pending) >= 200:
            for future in self.pending:
                await future
            self.pending = []

    async def flush(self) -> None:
        for slot in list(self.batches):
            await self._send(slot)
        for future in self.pending:
            await future
        self.pending = []


def _catalogue(units: int):
    from intake.domain.catalog import parse_province_file

    template = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
    base = template.plans[0]
    for n in range(1, PROVINCES + 1):
        code = f"{n:02d}"
        codes = [f"U{i:04d}" for i in range(1, units + 1)]
        province = template.province.model_copy(
            update={"code": code, "name": f"Tỉnh {code}", "issuing_body": f"BAN CHỈ ĐẠO NHÂN QUYỀN TỈNH {code}"}
        )
        plan = base.model_copy(update={"id": f"p{code}-kh-2019", "province": code, "units": codes})
        yield (
            province,
            [UnitV1(province=code, code=c, name=f"Đơn vị {c} tỉnh {code}", kind="member") for c in codes],
            plan,
        )


async def produce(producer: AIOKafkaProducer, names: dict[str, str], partitions: int, *, events: int, units: int):
    """The catalogue, then months of submissions until `events` submission records are written."""
    stream = Stream()
    clock = Stopwatch()
    writer = Writer(producer, names, partitions, stream)
    rng = random.Random(20190601)
    plans = {}
    for province, unit_list, plan in _catalogue(units):
        plans[province.code] = plan
        entities = [(PROVINCE_UPSERTED, province), *((UNIT_UPSERTED, u) for u in unit_list), (PLAN_UPSERTED, plan)]
        for spec, entity in entities:
            event, key = make_event(spec, entity, source=INTAKE, province=province.code)
            stream.events += 1
            await writer.add(topic_names.CATALOG, key, _encode(event.model_dump(mode="json")), event.type)
    codes = [i.code for task in next(iter(plans.values())).template.tasks for i in task.indicators]
    figures = [
        json.dumps({c: rng.randrange(0, 40) * rng.randrange(0, 3) for c in codes}, ensure_ascii=False)
        for _ in range(997)
    ]
    narratives = [json.dumps(n, ensure_ascii=False) for n in NARRATIVES]
    unit_codes = [f"U{i:04d}" for i in range(1, units + 1)]
    per_month = PROVINCES * units * (1 + AMENDED * (1 + AMENDED_TWICE)) * (1 + DUPLICATED)
    months = max(1, round(events / per_month))
    checked: set[int] = set()
    month = 0
    latest: dict[tuple[str, str], int] = {}  # this month's highest version written per (province, unit)

    async def submit(province: str, unit: str, period: str, sid: str, version: int, at, first) -> None:
        if stream.submissions >= events:
            return
        spec_type = (SUBMISSION_RECEIVED if version == 1 else SUBMISSION_AMENDED).type
        value = SUBMISSION.format(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            type=spec_type,
            at=_iso(at),
            first=_iso(first),
            province=province,
            unit=unit,
            period=period,
            sid=sid,
            plan=plans[province].id,
            version=version,
            values=figures[int(rng.random() * len(figures))],
            narratives=narratives[int(rng.random() * len(narratives))],
            by=f"rep-{unit.lower()}",
        ).encode()
        if version not in checked:  # the first record of each version
            _check_shape(value)
            checked.add(version)
        stream.events += 1
        latest[(province, unit)] = max(version, latest.get((province, unit), 0))
        stream.amendments += version > 1
        for copy in range(2 if rng.random() < DUPLICATED else 1):
            if stream.submissions >= events:
                return
            stream.submissions += 1
            stream.duplicates += copy
            if stream.submissions % 250_000 == 0:
                say(f"  produced {stream.submissions:,} submission records in {clock.seconds:.0f}s")
            await writer.add(topic_names.SUBMISSIONS, f"{province}.{unit}", value, spec_type)

    while stream.submissions < events:
        year, m = divmod(month, 12)
        period = f"{2019 + year}-{m + 1:02d}"
        opened = datetime(2019 + year, m + 1, 1, 1, tzinfo=UTC)
        first_seen: dict[tuple[str, str], tuple[str, datetime]] = {}
        latest.clear()
        for n in range(1, PROVINCES + 1):
            province = f"{n:02d}"
            for i, unit in enumerate(unit_codes):
                at = opened + timedelta(
                    days=int(rng.random() * 14), seconds=i * 7, microseconds=int(rng.random() * 1e6)
                )
                sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                first_seen[(province, unit)] = (sid, at)
                await submit(province, unit, period, sid, 1, at, at)
        approved_at = opened + timedelta(days=15)
        # The last month's reports are approved before its amendments come in (and revert them).
        if not stream.approved and (stream.submissions >= events or month == months - 1):
            for n in range(1, PROVINCES + 1):
                await _status(writer, stream, REPORT_APPROVED, f"{n:02d}", plans, period, approved_at, 1 + units)
                stream.approved.add(f"{n:02d}")
            reverting = set(stream.approved)
        else:
            reverting = set()
        for (province, unit), (sid, first) in first_seen.items():
            if rng.random() >= AMENDED:
                continue
            versions = 3 if rng.random() < AMENDED_TWICE else 2
            for version in range(2, versions + 1):
                at = approved_at + timedelta(hours=version, seconds=rng.randrange(3600))
                await submit(province, unit, period, sid, version, at, first)
            if province in reverting and stream.submissions < events:
                reverting.discard(province)
                await _status(writer, stream, REPORT_REVERTED, province, plans, period, at, 2 + units, "system")
        stream.unit_reports += len(latest)
        stream.versions += sum(latest.values())
        month += 1
    await writer.flush()
    stream.seconds = clock.seconds
    return stream


async def _status(writer, stream, spec, province, plans, period, at, revision, by="op-bench") -> None:
    reverted = by == "system"
    change = ReportStatusV1(
        province=province,
        plan_id=plans[province].id,
        period=period,
        status="draft" if reverted else "approved",
        revision=revision,
        at=at,
        by=by,
        reason="Trở lại dự thảo: đơn vị gửi báo cáo sau khi đã duyệt." if reverted else None,
    )
    event, key = make_event(spec, change, source=CONSOLIDATION, province=province, time=at)
    stream.events += 1
    await writer.add(topic_names.REPORTS, key, _encode(event.model_dump(mode="json")), event.type)
