"""Bad input on every topic a service reads: each malformed record lands on its group's DLQ with the error
and its origin, the valid event behind it is applied, and the group's committed offset moves past them all.

The (topic, group) pairs come from the four apps themselves (`app.state.runtime.consumers`, what
`create_app(settings)` subscribes), so a new subscription is exercised here, or fails the test until a
valid event for it is named in VALID/APPLIED below.

On one partition of each topic, in this order: every malformed kind of GENERIC, one envelope per
registered event type of that topic whose data breaks its schema, an unknown event type and a future
version (skipped by design: the runner dead-letters what it cannot parse and what its handler refuses,
and leaves types it has no handler for), each valid event with a NUL character where the service stores
text (its schema takes it, PostgreSQL refuses it: retried, then dead-lettered), then the valid events.
Everything is produced before the services start, so each group meets them in one batch.

The services read private copies of the topics (same partitions and settings, e.g. baocao.catalog stays
compacted): a poison record on the shared baocao.* topics would be read from the beginning by every later
test's fresh consumer group and land on its DLQ too, and tests that count their own dead letters
(notify's test_failures, deadlines' test_system_page) would count ours. Their runner, handlers and
databases are the real ones; only the topic names differ.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError
from pydantic import BaseModel
from sqlalchemy import text

from baocao_shared.events import EVENTS, CloudEvent, EventSpec, make_event
from baocao_shared.events.catalog import PROVINCE_UPSERTED, ProvinceV1
from baocao_shared.events.deadlines import OBLIGATION_UPDATED, REMINDER_DUE, ObligationV1, UnitNoticeV1
from baocao_shared.events.reports import REPORT_PUBLISHED, ConsolidatedReportV1, DisciplineV1
from baocao_shared.events.submissions import SUBMISSION_RECEIVED, SubmissionV1
from baocao_shared.events.topics import TOPICS, dlq_topic
from baocao_shared.messaging.consumer import VALUE_OMITTED
from baocao_testing.fixtures import create_database
from baocao_testing.kit import TokenMint, fresh_group_prefix, read_topic, wait_until
from consolidation.config import Settings as ConsolidationSettings
from consolidation.main import create_app as create_consolidation
from deadlines.config import Settings as DeadlinesSettings
from deadlines.main import create_app as create_deadlines
from intake.config import Settings as IntakeSettings
from intake.main import create_app as create_intake
from notify.config import Settings as NotifySettings
from notify.main import create_app as create_notify

pytestmark = pytest.mark.integration

PROVINCE, UNIT, PLAN, PERIOD = "96", "CA", "poison-plan", "2019-06"
AT = datetime(2019, 6, 12, 3, 0, tzinfo=UTC)
DUE = datetime(2019, 6, 15, 17, 0, tzinfo=UTC)
SPECS = {spec.name: spec for spec in TOPICS}
HUGE = 1_000_000  # bytes: a large record whose dead letter still has room for the value and the headers
# Within 200 bytes of the broker's default message.max.bytes (1048588): the broker takes it, but with
# the dead-letter headers a copy is over the limit, so its dead letter goes without the value.
AT_THE_LIMIT = 1_048_400


@dataclass(frozen=True)
class Kind:
    """One malformed record: its name, and its key and value on the topic."""

    name: str
    key: bytes | None
    value: bytes | None


def _envelope(event_type: str, data: object, **changes: object) -> bytes:
    doc = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/baocao/poison-test",
        "type": event_type,
        "time": AT.isoformat(),
        "datacontenttype": "application/json",
        "data": data,
        "province": PROVINCE,
        **changes,
    }
    return json.dumps(doc).encode()


# Dead-lettered by every group that reads the topic, whatever types it handles.
GENERIC = [
    Kind("not JSON", b"poison.not-json", b"\xff\xfe{ this is not JSON"),
    Kind("JSON, not an envelope", b"poison.not-envelope", b'{"hello": "world", "n": [1, 2, 3]}'),
    Kind("JSON nested 5000 deep", b"poison.deep", b"[" * 5000 + b"]" * 5000),
    Kind("envelope, data not an object", b"poison.data-text", _envelope(PROVINCE_UPSERTED.type, "not an object")),
    Kind("envelope, specversion 0.3", b"poison.specversion", _envelope(PROVINCE_UPSERTED.type, {}, specversion="0.3")),
    Kind("envelope, type not vn.baocao.*", b"poison.type", _envelope("com.example.thing.done", {"a": 1})),
    Kind("tombstone (no value)", b"poison.tombstone", None),
    Kind("no key, not JSON", None, b"<no key> not JSON"),
    Kind(f"huge value ({HUGE} bytes), not JSON", b"poison.huge", b"x" * HUGE),
    Kind(f"value at the broker's limit ({AT_THE_LIMIT} bytes), not JSON", b"poison.limit", b"y" * AT_THE_LIMIT),
]
NO_KEY = "no key, not JSON"


def bad_data(spec: EventSpec) -> Kind:
    """An envelope of a known type whose data breaks that type's schema."""
    return Kind(f"bad data for {spec.type}", f"poison.bad.{spec.type}".encode(), _envelope(spec.type, {}))


def report() -> ConsolidatedReportV1:
    return ConsolidatedReportV1(
        province=PROVINCE, province_name="Tỉnh Thử độc", plan_id=PLAN, plan_number="1/KH-TEST", period=PERIOD,
        status="published", revision=1, issuing_body="BAN CHỈ ĐẠO", place_name="Thử độc", title="Báo cáo tháng 6",
        number_code="BC-TEST", recipients=[], signer_position="", signer_name="", totals={}, tasks=[], units=[],
        difficulties=[], next_month=[], closing_labels={},
        discipline=DisciplineV1(expected=1, on_time=1, late=0, missing=0, pending=0),
        approved_at=AT, approved_by="op", published_at=AT, published_by="op",
    )  # fmt: skip


def unstorable(data: BaseModel) -> BaseModel:
    """The same data with a NUL character in the text every handler of it stores or looks up."""
    if isinstance(data, ProvinceV1):  # the code has a pattern; the name goes into each replica's JSONB
        return data.model_copy(update={"name": "Tỉnh\x00Thử độc"})
    return data.model_copy(update={"province": PROVINCE[0] + "\x00"})


# The valid events produced behind the malformed ones, per topic.
VALID: dict[str, list[tuple[EventSpec, BaseModel]]] = {
    "baocao.catalog": [
        (
            PROVINCE_UPSERTED,
            ProvinceV1(code=PROVINCE, name="Tỉnh Thử độc", issuing_body="BAN CHỈ ĐẠO", place_name="Thử độc"),
        )
    ],
    "baocao.submissions": [
        (
            SUBMISSION_RECEIVED,
            SubmissionV1(
                submission_id=uuid.uuid4(),
                province=PROVINCE,
                unit=UNIT,
                plan_id=PLAN,
                period=PERIOD,
                version=1,
                values={},
                narratives={},
                received_at=AT,
                first_received_at=AT,
            ),
        )
    ],
    "baocao.deadlines": [
        (
            OBLIGATION_UPDATED,
            ObligationV1(
                province=PROVINCE,
                plan_id=PLAN,
                period=PERIOD,
                unit=UNIT,
                unit_name="Công an tỉnh",
                due_at=DUE,
                status="on_time",
                first_submitted_at=AT,
                late_by_s=None,
            ),
        ),
        (
            REMINDER_DUE,
            UnitNoticeV1(
                province=PROVINCE,
                plan_id=PLAN,
                period=PERIOD,
                unit=UNIT,
                unit_name="Công an tỉnh",
                due_at=DUE,
                kind="reminder",
                sequence=0,
                fire_at=AT,
            ),
        ),
    ],
    "baocao.reports": [(REPORT_PUBLISHED, report())],
}

# What a service shows once it applied a valid event (a count > 0 of the rows it keeps for it).
APPLIED: dict[tuple[str, str], str] = {
    ("intake", REPORT_PUBLISHED.type): (
        "SELECT count(*) FROM period_locks WHERE province = :province AND plan_id = :plan AND period = :period"
    ),
    ("deadlines", PROVINCE_UPSERTED.type): "SELECT count(*) FROM provinces WHERE code = :province",
    # A province's first publication is its submission to the national office (kept before its period opens here).
    ("deadlines", REPORT_PUBLISHED.type): (
        "SELECT count(*) FROM province_obligations WHERE province = :province AND plan_id = :plan"
        " AND period = :period AND first_published_at IS NOT NULL"
    ),
    ("deadlines", SUBMISSION_RECEIVED.type): (
        "SELECT count(*) FROM obligations"
        " WHERE province = :province AND unit = :unit AND first_submitted_at IS NOT NULL"
    ),
    ("consolidation", PROVINCE_UPSERTED.type): "SELECT count(*) FROM provinces WHERE code = :province",
    ("consolidation", SUBMISSION_RECEIVED.type): (
        "SELECT count(*) FROM unit_reports WHERE province = :province AND unit = :unit AND version = 1"
    ),
    ("consolidation", OBLIGATION_UPDATED.type): (
        "SELECT count(*) FROM obligations WHERE province = :province AND unit = :unit AND status = 'on_time'"
    ),
    ("consolidation", REPORT_PUBLISHED.type): (
        "SELECT count(*) FROM reports WHERE province = :province AND period = :period AND status = 'published'"
    ),
    ("notify", PROVINCE_UPSERTED.type): "SELECT count(*) FROM provinces WHERE code = :province",
    # The reminder's unit is not in notify's catalogue: the notice waits for it (handlers/notices.py).
    ("notify", REMINDER_DUE.type): "SELECT count(*) FROM waiting_notices WHERE cause_event_id = :event_id",
    ("notify", REPORT_PUBLISHED.type): "SELECT count(*) FROM deliveries WHERE cause_event_id = :event_id",
}


@dataclass
class Produced:
    """What went onto one private topic's partition 0, by offset."""

    topic: str  # the real topic name, e.g. baocao.catalog
    private: str
    kinds: dict[int, Kind] = field(default_factory=dict)  # dead-lettered by every reader
    bad_data: dict[int, tuple[str, Kind]] = field(default_factory=dict)  # event type -> dead-lettered by its handlers
    skipped: dict[int, tuple[str, Kind]] = field(default_factory=dict)  # unknown type / future version
    unstorable: dict[int, tuple[str, Kind]] = field(default_factory=dict)  # event type -> its handlers fail
    valid: dict[int, CloudEvent] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # kinds the broker itself refused, with its error
    end: int = 0


@dataclass
class Group:
    service: str
    group: str
    topics: list[str]  # real names
    handled: frozenset[str]
    app: object = None


@dataclass
class Run:
    groups: list[Group]
    produced: dict[str, Produced]
    dead: dict[str, list]  # group -> records on baocao.dlq.<group>
    committed: dict[str, dict[str, int | None]]  # group -> topic -> committed offset of partition 0
    applied: dict[tuple[str, str, str], int]  # (group, topic, event type) -> rows showing it
    ignored: dict[str, float]  # group -> baocao_events_consumed_total{outcome="ignored"}
    replay: tuple[object, httpx.Response]  # notify's dead letter without its value, and an admin's replay of it
    seconds: float


def _apps(settings_for, mint: TokenMint) -> list:
    return [
        create_intake(settings_for(IntakeSettings, "intake")),
        create_deadlines(
            settings_for(DeadlinesSettings, "deadlines", scheduler_enabled=False), verifier=mint.verifier()
        ),
        create_consolidation(settings_for(ConsolidationSettings, "consolidation"), verifier=mint.verifier()),
        create_notify(settings_for(NotifySettings, "notify", sender_enabled=False), verifier=mint.verifier()),
    ]


async def _create_topics(bootstrap: str, names: dict[str, str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(private, 3, 1, topic_configs=dict(SPECS[real].config)) for real, private in names.items()]
        )
    finally:
        await admin.close()


async def _produce(bootstrap: str, produced: Produced, groups: list[Group]) -> None:
    readers = [g for g in groups if produced.topic in g.topics]
    handled = set().union(*(g.handled for g in readers))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=2 * 1024 * 1024)
    await producer.start()

    async def send(key: bytes | None, value: bytes | None) -> int:
        meta = await producer.send_and_wait(produced.private, value=value, key=key, partition=0)
        return meta.offset

    try:
        for kind in GENERIC:
            try:
                produced.kinds[await send(kind.key, kind.value)] = kind
            except KafkaError as exc:  # a compacted topic refuses a record without a key
                produced.refused[kind.name] = type(exc).__name__
        for spec in (s for s in EVENTS.values() if s.topic == produced.topic):
            kind = bad_data(spec)
            produced.bad_data[await send(kind.key, kind.value)] = (spec.type, kind)
        future_of = sorted(t for t in handled if EVENTS[t].topic == produced.topic and t.endswith(".v1"))[0]
        for event_type, note in (
            ("vn.baocao.poison.unheard_of.v1", "unknown event type"),
            (future_of[: -len("v1")] + "v2", f"future version of {future_of}"),
        ):
            kind = Kind(note, b"poison.skipped", _envelope(event_type, {"anything": "goes"}))
            produced.skipped[await send(kind.key, kind.value)] = (event_type, kind)
        for spec, data in VALID.get(produced.topic, []):
            event, key = make_event(spec, unstorable(data), source="/baocao/poison-test", province=PROVINCE, time=AT)
            kind = Kind(f"NUL in the text of {spec.type}", key.encode(), event.to_bytes())
            produced.unstorable[await send(kind.key, kind.value)] = (spec.type, kind)
        for spec, data in VALID.get(produced.topic, []):
            event, key = make_event(spec, data, source="/baocao/poison-test", province=PROVINCE, time=AT)
            produced.valid[await send(key.encode(), event.to_bytes())] = event
        produced.end = (
            max([*produced.kinds, *produced.bad_data, *produced.skipped, *produced.unstorable, *produced.valid]) + 1
        )
    finally:
        await producer.stop()


async def _committed(bootstrap: str, group: Group, produced: dict[str, Produced]) -> dict[str, int | None]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group.group)
    finally:
        await admin.close()
    found = {}
    for topic in group.topics:
        meta = offsets.get(TopicPartition(produced[topic].private, 0))
        found[topic] = meta.offset if meta is not None else None
    return found


async def _applied(app, service: str, event: CloudEvent) -> int:
    params = {"province": PROVINCE, "unit": UNIT, "plan": PLAN, "period": PERIOD, "event_id": event.id}
    async with app.state.runtime.sessionmaker() as session:
        return await session.scalar(text(APPLIED[(service, event.type)]), params)


async def _ignored(app, group: str) -> float:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc.test") as client:
        body = (await client.get("/metrics")).text
    pattern = rf'^baocao_events_consumed_total{{group="{re.escape(group)}",outcome="ignored"}} (\S+)$'
    match = re.search(pattern, body, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


@pytest.fixture(scope="module")
async def run(postgres, kafka, tmp_path_factory) -> Run:
    started = time.monotonic()
    tag = uuid.uuid4().hex[:8]
    prefix = await fresh_group_prefix(kafka.bootstrap)

    async def database(name: str) -> str:
        return await create_database(postgres, prefix=name)

    urls = {name: await database(name) for name in ("intake", "deadlines", "consolidation", "notify")}

    def settings_for(cls, name: str, **extra):
        if name == "intake":
            extra["home"] = tmp_path_factory.mktemp("intake-home")
        return cls(
            database_url=urls[name], kafka_bootstrap_servers=kafka.bootstrap, env="test",
            consumer_group_prefix=prefix, outbox_poll_interval_s=0.2, **extra,
        )  # fmt: skip

    mint = TokenMint()
    apps = _apps(settings_for, mint)
    names: dict[str, str] = {}
    groups: list[Group] = []
    for app in apps:
        runtime = app.state.runtime
        for spec in runtime.consumers:
            unknown = [t for t in spec.topics if t not in SPECS]
            assert not unknown, f"{spec.group_id} reads {unknown}, which baocao_shared.events.topics does not list"
            names.update({t: f"poison-{tag}.{t}" for t in spec.topics})
            group = Group(runtime.settings.service_name, runtime.group_id(spec), spec.topics, frozenset(spec.handlers))
            group.app = app
            groups.append(group)
        # The same consumers, handlers and databases; the topics are this test's private copies.
        runtime.consumers = [dataclasses.replace(s, topics=[names[t] for t in s.topics]) for s in runtime.consumers]
    missing = sorted(
        f"{g.group} on {t}"
        for g in groups
        for t in g.topics
        if not [spec for spec, _ in VALID.get(t, []) if spec.type in g.handled and (g.service, spec.type) in APPLIED]
    )
    assert not missing, f"no valid event with a visible effect is named for {missing}: add one to VALID and APPLIED"

    await _create_topics(kafka.bootstrap, names)
    produced = {real: Produced(real, private) for real, private in names.items()}
    for p in produced.values():
        await _produce(kafka.bootstrap, p, groups)

    async with AsyncExitStack() as stack:
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))

        async def all_past_the_end():
            committed = {g.group: await _committed(kafka.bootstrap, g, produced) for g in groups}
            behind = {(g, t): c for g, offsets in committed.items() for t, c in offsets.items() if c != produced[t].end}
            return committed if not behind else None

        try:
            committed = await wait_until(all_past_the_end, timeout=90, interval=0.5, what="every group past the end")
        except AssertionError:
            committed = {g.group: await _committed(kafka.bootstrap, g, produced) for g in groups}
            ends = {t: p.end for t, p in produced.items()}
            raise AssertionError(f"a group did not move past the malformed records: {committed}; ends {ends}") from None
        applied = {}
        for g in groups:
            for t in g.topics:
                for event in produced[t].valid.values():
                    if event.type in g.handled:
                        applied[(g.group, t, event.type)] = await _applied(g.app, g.service, event)
        ignored = {g.group: await _ignored(g.app, g.group) for g in groups}
        dead = {}
        for g in groups:
            expected = sum(_expected_dead(g, produced[t]) for t in g.topics)
            dead[g.group] = await wait_until(
                lambda g=g, n=expected: _dlq_when(kafka.bootstrap, g.group, n), timeout=30, what=f"{g.group}'s DLQ"
            )
        notify = next(g for g in groups if g.service == "notify")
        letter = next(r for r in dead[notify.group] if VALUE_OMITTED in _headers(r))
        transport = httpx.ASGITransport(app=notify.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notify.test") as client:
            replay = await client.post(
                f"/v1/ops/dlq/{notify.group}/replay",
                json={"partition": letter.partition, "offset": letter.offset},
                headers=mint.headers("admin"),
            )
    done = Run(groups, produced, dead, committed, applied, ignored, (letter, replay), time.monotonic() - started)
    print("\n".join(["", f"poison matrix ({done.seconds:.1f} s):", *matrix(done)]))
    return done


def matrix(run: Run) -> list[str]:
    """topic x group: per malformed kind, how many dead letters it got; whether the valid events were applied."""
    lines = []
    for g in run.groups:
        origins = Counter(
            (_headers(r)["dlq.origin_topic"].decode(), int(_headers(r)["dlq.origin_offset"])) for r in run.dead[g.group]
        )
        for t in g.topics:
            p = run.produced[t]
            cells = [f"{k.name}: {origins[(p.private, o)]}" for o, k in p.kinds.items()]
            cells += [f"refused by the broker: {name}" for name in p.refused]
            cells += [
                f"bad {et.split('.')[2]}.{et.split('.')[3]}: {origins[(p.private, o)]}"
                for o, (et, _) in p.bad_data.items()
            ]
            cells += [f"{k.name}: {origins[(p.private, o)]}" for o, (_, k) in p.skipped.items()]
            cells += [
                f"NUL in {et.split('.')[2]}.{et.split('.')[3]}: {origins[(p.private, o)]}"
                for o, (et, _) in p.unstorable.items()
            ]
            applied = [run.applied[(g.group, t, e.type)] for e in p.valid.values() if e.type in g.handled]
            dead = sum(origins[(p.private, o)] for o in range(p.end))
            done = f"committed {run.committed[g.group][t]}/{p.end}"
            lines.append(f"{t} x {g.service}: dlq {dead} | {'; '.join(cells)} | applied {applied} | {done}")
    return lines


def _handled_by(group: Group, produced: Produced) -> dict[int, tuple[str, Kind]]:
    """The records that only the handlers of their type dead-letter, this group's."""
    typed = {**produced.bad_data, **produced.unstorable}
    return {offset: (t, kind) for offset, (t, kind) in typed.items() if t in group.handled}


def _expected_dead(group: Group, produced: Produced) -> int:
    return len(produced.kinds) + len(_handled_by(group, produced))


async def _dlq_when(bootstrap: str, group: str, at_least: int) -> list | None:
    records = await read_topic(bootstrap, dlq_topic(group))
    return records if len(records) >= at_least else None


def _headers(record) -> dict[str, bytes]:
    return dict(record.headers or [])


def test_every_topic_a_service_reads_has_its_consumer_groups(run: Run):
    """The matrix the rest checks: derived from the apps; baocao.notifications has no reader."""
    pairs = sorted((t, g.service) for g in run.groups for t in g.topics)
    assert pairs == [
        ("baocao.catalog", "consolidation"),
        ("baocao.catalog", "deadlines"),
        ("baocao.catalog", "notify"),
        ("baocao.deadlines", "consolidation"),
        ("baocao.deadlines", "notify"),
        ("baocao.reports", "consolidation"),
        ("baocao.reports", "deadlines"),
        ("baocao.reports", "intake"),
        ("baocao.reports", "notify"),
        ("baocao.submissions", "consolidation"),
        ("baocao.submissions", "deadlines"),
    ], "a subscription changed: the poison matrix below now covers it; update this list and the report"


def _origin(record, run: Run) -> tuple[Produced, int]:
    h = _headers(record)
    [produced] = [p for p in run.produced.values() if p.private == h["dlq.origin_topic"].decode()]
    return produced, int(h["dlq.origin_offset"])


def test_each_malformed_record_is_on_the_groups_dlq_once_with_its_error_and_origin(run: Run):
    for g in run.groups:
        by_origin = Counter()
        for record in run.dead[g.group]:
            h = _headers(record)
            p, offset = _origin(record, run)
            by_origin[(p.private, offset)] += 1
            assert h["dlq.consumer_group"] == g.group.encode()
            assert h["dlq.origin_partition"] == b"0"
            assert h["dlq.error"].strip(), (g.group, h)
            if offset in p.unstorable:  # the handler failed: retried, then dead-lettered with its error
                assert (h["dlq.error_type"], h["dlq.attempts"]) == (b"DBAPIError", b"3"), (g.group, h)
            else:  # a record no retry can fix is not retried
                assert (h["dlq.error_type"], h["dlq.attempts"]) == (b"PoisonRecord", b"1"), (g.group, h)
        expected = Counter()
        for t in g.topics:
            p = run.produced[t]
            expected.update({(p.private, offset): 1 for offset in [*p.kinds, *_handled_by(g, p)]})
        assert by_origin == expected, f"{g.group}: dead letters by (topic, offset) differ from the malformed records"
        assert len(run.dead[g.group]) == sum(_expected_dead(g, run.produced[t]) for t in g.topics)


def test_a_dead_letter_keeps_the_records_key_and_value_or_says_the_value_was_too_large(run: Run):
    for g in run.groups:
        private = {run.produced[t].private: run.produced[t] for t in g.topics}
        for record in run.dead[g.group]:
            h = _headers(record)
            p = private[h["dlq.origin_topic"].decode()]
            offset = int(h["dlq.origin_offset"])
            kind = p.kinds.get(offset) or _handled_by(g, p)[offset][1]
            if kind.value is not None and len(kind.value) == AT_THE_LIMIT:
                assert (record.key, record.value) == (kind.key, None), (g.group, kind.name)
                assert h[VALUE_OMITTED] == str(AT_THE_LIMIT).encode(), (g.group, kind.name)
            else:
                assert (record.key, record.value) == (kind.key, kind.value), (g.group, kind.name)
                assert VALUE_OMITTED not in h, (g.group, kind.name)


def test_the_errors_say_what_was_wrong(run: Run):
    for g in run.groups:
        for record in run.dead[g.group]:
            h = _headers(record)
            p = next(run.produced[t] for t in g.topics if run.produced[t].private == h["dlq.origin_topic"].decode())
            offset, error = int(h["dlq.origin_offset"]), h["dlq.error"].decode()
            if offset in p.bad_data:
                assert f"invalid {p.bad_data[offset][0]} data" in error, error
            elif offset in p.unstorable:
                assert "0x00" in error or "\\u0000" in error, error
            elif p.kinds[offset].value is None:
                assert "tombstone" in error, error
            else:
                assert "not a CloudEvent" in error, error


def test_a_compacted_topic_refuses_a_record_without_a_key_before_any_consumer_sees_it(run: Run):
    for p in run.produced.values():
        if SPECS[p.topic].config.get("cleanup.policy") == "compact":
            assert list(p.refused) == [NO_KEY], p.refused
        else:
            assert p.refused == {}, p.refused


def test_the_valid_events_behind_them_were_applied_and_every_group_committed_past_them(run: Run):
    for g in run.groups:
        for t in g.topics:
            assert run.committed[g.group][t] == run.produced[t].end, (g.group, t)
    assert run.applied and all(rows > 0 for rows in run.applied.values()), run.applied


def test_unknown_types_and_future_versions_are_skipped_not_dead_lettered(run: Run):
    """Documented in baocao_shared/messaging/consumer.py: only what cannot be parsed, or what a handler
    refuses, is poison. A group leaves a type it has no handler for (another group's, or a newer version)."""
    for g in run.groups:
        skipped = 0
        for t in g.topics:
            p = run.produced[t]
            skipped += len(p.skipped)
            skipped += sum(1 for t, _ in [*p.bad_data.values(), *p.unstorable.values()] if t not in g.handled)
            skipped += sum(1 for event in p.valid.values() if event.type not in g.handled)
        assert run.ignored[g.group] == skipped, g.group
        origins = {
            (_headers(r)["dlq.origin_topic"].decode(), int(_headers(r)["dlq.origin_offset"])) for r in run.dead[g.group]
        }
        left = {(run.produced[t].private, offset) for t in g.topics for offset in run.produced[t].skipped}
        assert len(left) == 2 * len(g.topics) and not left & origins, g.group


def test_a_dead_letter_without_its_value_is_not_replayed_and_the_operator_is_told_where_the_record_is(run: Run):
    letter, replay = run.replay
    assert replay.status_code == 422, replay.text
    h = _headers(letter)
    origin_topic, origin_offset = h["dlq.origin_topic"].decode(), int(h["dlq.origin_offset"])
    [produced] = [p for p in run.produced.values() if p.private == origin_topic]
    assert len(produced.kinds[origin_offset].value) == AT_THE_LIMIT
    message = replay.json()["error"]["message"]
    assert f"({AT_THE_LIMIT} bytes) was too large to keep in the dead-letter queue" in message
    assert f"at {origin_topic}, partition 0, offset {origin_offset}" in message
