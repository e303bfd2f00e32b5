"""A rebuild applies a fetched batch at once (one inbox insert, runs of submissions and units upserted
together); it must leave exactly the state that applying each record on its own leaves.

The same records (a catalogue with a unit renamed, versions out of order, duplicates inside a batch
and across batches, approvals that later amendments outgrow and one they do not, obligations, a
record that is not JSON, a tombstone, a submission that breaks its schema, a type nobody here
handles; most with the relay's headers, some with the old relay's `ce_type` alone, some with no type header)
go through the record-by-record path
into one database and through `apply_batch` with several splits into others (obligations too: a final
word, then a late word that must not undo it). Every projection
table, the inbox and the outbox must be equal, and so must each record's outcome."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka.structs import ConsumerRecord
from sqlalchemy import event, text

from baocao_shared.db import make_engine, make_sessionmaker, upgrade_database
from baocao_shared.events import make_event
from baocao_shared.events.catalog import PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED, UnitV1
from baocao_shared.events.deadlines import OBLIGATION_UPDATED, ObligationV1
from baocao_shared.events.reports import REPORT_APPROVED, ReportStatusV1
from baocao_shared.events.submissions import SUBMISSION_AMENDED, SUBMISSION_RECEIVED, SubmissionV1
from baocao_shared.messaging.batches import parse_record
from baocao_shared.messaging.headers import LEGACY_EVENT_TYPE, record_headers
from baocao_shared.messaging.replay import _apply, apply_batch
from baocao_testing.fixtures import create_database
from consolidation.adapters import orm
from consolidation.adapters.rebuild import PROJECTION
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.consumers import GROUP, HANDLERS
from consolidation.domain.report import ReportAddress
from consolidation.handlers import reports
from consolidation.main import MIGRATIONS
from services.consolidation.tests.kit import HAI_DUONG

pytestmark = pytest.mark.integration
PLAN = HAI_DUONG.plans[0].model_copy(update={"units": ["CA", "BTG", "SNV", "STP", "SYT", "SNGV"]})
CODES = [i.code for task in PLAN.template.tasks for i in task.indicators]
AT = datetime(2019, 6, 10, 3, tzinfo=UTC)


class Records:
    """Kafka records as intake's relay writes them, one partition, offsets in order."""

    def __init__(self) -> None:
        self.items: list[ConsumerRecord] = []
        self.rng = random.Random(7)

    def add(self, value: bytes | None, *, key: str = "30", event_type: str | None = None, old: bool = False) -> None:
        """`old`: with the header the relay wrote before it followed the CloudEvents binding (`ce_type` alone)."""
        if event_type is None:
            headers = ()
        else:
            headers = ((LEGACY_EVENT_TYPE, event_type.encode()),) if old else tuple(record_headers(event_type))
        self.items.append(
            ConsumerRecord(
                topic="baocao.submissions",
                partition=0,
                offset=len(self.items),
                timestamp=0,
                timestamp_type=0,
                key=key.encode(),
                value=value,
                checksum=None,
                serialized_key_size=len(key),
                serialized_value_size=len(value or b""),
                headers=headers,
            )
        )

    def event(self, spec, data, *, at: datetime | None = None, header: bool = True, old: bool = False) -> bytes:
        event, key = make_event(spec, data, source="/baocao/test", province="30", time=at)
        value = json.dumps(event.model_dump(mode="json"), ensure_ascii=False).encode()
        self.add(value, key=key, event_type=spec.type if header else None, old=old)
        return value

    def again(self, value: bytes) -> None:
        """The relay sends a record again after a crash: same event, same bytes."""
        self.add(value, key="30", event_type=json.loads(value)["type"])


def submission(unit: str, period: str, version: int, sid: uuid.UUID, figures: dict[str, int]) -> SubmissionV1:
    return SubmissionV1(
        submission_id=sid,
        province="30",
        unit=unit,
        plan_id=PLAN.id,
        period=period,
        version=version,
        values={c: figures.get(c, 0) for c in CODES},
        narratives={"T1": f"{unit} v{version}"},
        received_at=AT + timedelta(days=version, minutes=len(unit)),
        first_received_at=AT,
        submitted_by=f"rep-{unit.lower()}",
    )


def history() -> list[ConsumerRecord]:
    r = Records()
    r.event(PROVINCE_UPSERTED, HAI_DUONG.province)
    for code in PLAN.units:
        r.event(UNIT_UPSERTED, UnitV1(province="30", code=code, name=f"Đơn vị {code}", kind="member"))
    r.event(PLAN_UPSERTED, PLAN)
    sids = {(u, p): uuid.uuid4() for u in PLAN.units for p in ("2019-06", "2019-07")}
    june, july = "2019-06", "2019-07"
    # June: every unit's version 1, CA's twice (once right after, once much later); BTG's version 2 first.
    ca = r.event(SUBMISSION_RECEIVED, submission("CA", june, 1, sids["CA", june], {"t1_sessions": 3}))
    r.again(ca)
    r.event(SUBMISSION_AMENDED, submission("BTG", june, 2, sids["BTG", june], {"t1_sessions": 20}))
    for unit in PLAN.units[1:]:
        r.event(SUBMISSION_RECEIVED, submission(unit, june, 1, sids[unit, june], {"t1_sessions": 1}), header=False)
    r.event(UNIT_UPSERTED, UnitV1(province="30", code="BTG", name="Ban Tuyên giáo (đổi tên)", kind="member"))
    # June approved at the revision it had (1 + 2 + 5 versions 1); SNV's amendment then reverts it.
    approved = ReportStatusV1(
        province="30", plan_id=PLAN.id, period=june, status="approved", revision=8, at=AT + timedelta(days=5), by="op"
    )
    r.event(REPORT_APPROVED, approved, at=approved.at)
    r.event(SUBMISSION_AMENDED, submission("SNV", june, 2, sids["SNV", june], {"t1_sessions": 4}))
    r.event(SUBMISSION_AMENDED, submission("STP", june, 2, sids["STP", june], {"t5_articles": 9}))
    r.event(SUBMISSION_AMENDED, submission("SNV", june, 3, sids["SNV", june], {"t1_sessions": 5}), header=False)
    r.again(ca)
    # July approved at a revision no submission below outgrows: no revert, however they are applied.
    july_ok = approved.model_copy(update={"period": july, "revision": 40, "at": AT + timedelta(days=30)})
    r.event(REPORT_APPROVED, july_ok, at=july_ok.at)
    for unit in PLAN.units:
        old = unit in ("CA", "STP")  # relayed before the binding was followed
        r.event(SUBMISSION_RECEIVED, submission(unit, july, 1, sids[unit, july], {"t2_campaigns": 2}), old=old)
    r.event(SUBMISSION_AMENDED, submission("CA", july, 2, sids["CA", july], {"t2_campaigns": 7}))
    r.event(SUBMISSION_AMENDED, submission("CA", july, 2, sids["CA", july], {"t2_campaigns": 8}))  # equal version
    obligation = ObligationV1(
        province="30", plan_id=PLAN.id, period=june, unit="SYT", unit_name="Sở Y tế", due_at=AT, status="late"
    )
    r.event(OBLIGATION_UPDATED, obligation)
    r.event(OBLIGATION_UPDATED, obligation.model_copy(update={"status": "on_time", "closed": True}))
    r.event(OBLIGATION_UPDATED, obligation.model_copy(update={"status": "missing"}))  # after the final word
    sngv = obligation.model_copy(update={"unit": "SNGV", "unit_name": "Sở Ngoại vụ", "status": "pending"})
    r.event(OBLIGATION_UPDATED, sngv)
    r.event(OBLIGATION_UPDATED, sngv.model_copy(update={"status": "late", "late_by_s": 3600}), header=False)
    # Poison and strangers: skipped, counted, and the rest of their batch still applied.
    r.add(b"{not json", event_type=SUBMISSION_RECEIVED.type)
    r.add(None)
    broken = json.loads(r.event(SUBMISSION_RECEIVED, submission("SYT", july, 3, uuid.uuid4(), {})))
    r.items.pop()
    broken["id"], broken["data"]["version"] = str(uuid.uuid4()), 0
    r.add(json.dumps(broken).encode(), event_type=SUBMISSION_RECEIVED.type)
    stranger = dict(broken, id=str(uuid.uuid4()), type="vn.baocao.notification.sent.v1")
    r.add(json.dumps(stranger).encode(), event_type=stranger["type"])
    r.event(SUBMISSION_AMENDED, submission("SYT", july, 2, sids["SYT", july], {"t3_updates_sent": 1}))
    return r.items


async def new_database(postgres):
    url = await create_database(postgres, "replay")
    await upgrade_database(MIGRATIONS, url)
    return make_engine(url, pool_size=2)


async def dump(engine) -> dict[str, list]:
    """Every row of the projection, the inbox and the outbox, in a fixed order, without what a run
    makes up on its own (row ids, clock times of the insert, the id of a newly made event)."""
    found = {}
    async with engine.connect() as conn:
        for table in PROJECTION:
            drop = {"processed_at"} if table == "inbox" else set()
            rows = [
                {k: v for k, v in r._mapping.items() if k not in drop}
                for r in await conn.execute(text(f"SELECT * FROM {table}"))
            ]
            found[table] = sorted(rows, key=repr)
        outbox = await conn.execute(text("SELECT topic, key, event_type, payload - 'id' AS payload FROM outbox"))
        found["outbox"] = sorted((dict(r._mapping) for r in outbox), key=repr)
    return found


async def one_by_one(engine, records) -> list[bool | None]:
    maker = make_sessionmaker(engine)
    results = []
    for record in records:
        async with maker() as session, session.begin():
            results.append(await _apply(session, record, HANDLERS, orm.inbox, GROUP))
    return results


async def in_batches(engine, records, sizes: list[int]) -> list[bool | None]:
    maker = make_sessionmaker(engine)
    results, start = [], 0
    for size in sizes:
        batch = [parse_record(r, HANDLERS) for r in records[start : start + size]]
        results += await apply_batch(maker, batch, HANDLERS, orm.inbox, GROUP)
        start += size
    assert start >= len(records)
    return results


async def test_a_batched_replay_leaves_the_state_of_one_record_at_a_time(postgres):
    records = history()
    reference = await new_database(postgres)
    rng = random.Random(11)
    poison_at = next(i for i, r in enumerate(records) if r.value == b"{not json")
    splits = {
        "one batch": [len(records)],  # falls back to record by record: it holds the poison
        "all before the poison, then the rest": [poison_at, len(records)],
        "threes": [3] * (len(records) // 3 + 1),
        "random": [rng.randint(1, 9) for _ in range(len(records))],
    }
    try:
        want_results = await one_by_one(reference, records)
        want = await dump(reference)
        assert want_results.count(None) == 3, "not JSON, tombstone, version 0 and nothing else refused"
        assert want_results.count(False) == 3, "CA's two re-sends and the type nobody here handles"
        assert any(row["event_type"] == "vn.baocao.report.reverted.v1" for row in want["outbox"])
        async with make_sessionmaker(reference)() as session:
            uow = ConsolidationUnitOfWork(session)
            june = await reports.current(uow, address=ReportAddress("30", "2019-06", PLAN.id), now=AT)
            # Read when July is open (on 10 June it is not: a period not open has no report).
            july_open = AT + timedelta(days=30)
            july = await reports.current(uow, address=ReportAddress("30", "2019-07", PLAN.id), now=july_open)
        assert june.status == "draft" and "SNV" in june.status_note, "SNV's amendment after the approval reverts it"
        assert june.totals["t1_sessions"] == 3 + 20 + 5 + 0 + 1 + 1 and june.revision == 1 + 1 + 2 + 3 + 2 + 1 + 1
        assert july.status == "approved" and july.totals["t2_campaigns"] == 7 + 2 * 4 + 0
        assert {u.unit: u.unit_name for u in june.units}["BTG"] == "Ban Tuyên giáo (đổi tên)"
        assert {(o["unit"], o["status"], o["final"]) for o in want["obligations"]} == {
            ("SYT", "on_time", True),
            ("SNGV", "late", False),
        }, "nothing not final after a final word; otherwise the last word"
        for name, sizes in splits.items():
            engine = await new_database(postgres)
            try:
                assert await in_batches(engine, records, sizes) == want_results, name
                got = await dump(engine)
                for table in want:
                    assert got[table] == want[table], f"{table} differs when applied as {name}"
            finally:
                await engine.dispose()
    finally:
        await reference.dispose()


async def test_a_clean_batch_of_submissions_takes_a_few_statements_not_some_per_event(postgres):
    """The point of batching: 300 submissions (some duplicated) into an empty report in one
    transaction of a handful of statements, where the record-by-record path needs several each."""
    r = Records()
    for n in range(300):
        unit = f"U{n % 120:03d}"
        r.event(SUBMISSION_RECEIVED, submission(unit, "2019-08", 1 + n // 120, uuid.uuid4(), {"t1_sessions": n}))
    r.again(r.items[5].value)
    engine = await new_database(postgres)
    async with engine.connect():
        pass  # the dialect's own first queries are not the batch's
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        results = await in_batches(engine, r.items, [len(r.items)])
        assert results.count(True) == 300 and results.count(False) == 1
        assert len([s for s in statements if not s.startswith(("BEGIN", "COMMIT"))]) <= 4, statements
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT count(*), sum(version) FROM unit_reports"))).one()
        assert tuple(rows) == (120, 60 * 3 + 60 * 2), "each unit's highest version"
    finally:
        await engine.dispose()
