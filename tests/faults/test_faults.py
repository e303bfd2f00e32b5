"""Issue 8's fault suite: each case applies one fault to real processes under a steady submission load,
then reconciles (see conftest.py and case.py): every submission that got a 201 appears once, as its latest accepted
version, in consolidation's totals and in deadlines' compliance; every unit that never submitted gets its
reminder mail; duplicate reminders and mails are counted and printed.

`make test` runs one case of each fault class once at a small load: a service killed (deadlines), the broker
killed, PostgreSQL restarted, events delivered twice and out of order, a poison event, a rebalance. The cases
marked `faults_long` (the other services killed, the broker paused past the session timeout, two relays and two
schedulers at once) run only under `make faults` (BAOCAO_FAULTS_LONG=1), which runs every case, each fault three
times under a longer, faster load. Every wait is bounded; every case stops by itself.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaProducer

from baocao_shared.events import topics
from baocao_stack.kafka_admin import wait_kafka_ready
from baocao_stack.postgres import wait_postgres_ready
from baocao_testing.kit import end_offsets, read_topic, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.timeout(900)]
LONG_ONLY = pytest.mark.faults_long  # make faults only (see the module's docstring)
BROKER_PAUSE_S = 14  # longer than the consumers' session timeout (10 s): the broker evicts them
GROUPS = ("deadlines", "consolidation")  # the consumer groups of baocao.submissions
SLOW_PACE = 0.25  # of the load's rate, while the rebalance case's second instances start (slow on a busy machine)
POSTGRES_DOWN_S = 6  # longer than a consumer's retries of one event (3 attempts, about a second)


async def kill_and_restart(case, service: str, *, reminder_while_down: bool = False) -> None:
    await case.wait_accepted(5)
    case.world.services.kill(service)
    if reminder_while_down:
        case.reminder_instant()
    await case.world.services.restart(service)


@pytest.mark.parametrize(
    "service",
    [
        pytest.param("intake", marks=LONG_ONLY),
        "deadlines",  # make test's crash: a consumer and the scheduler, the reminder instant passing while it is down
        pytest.param("consolidation", marks=LONG_ONLY),
        pytest.param("notify", marks=LONG_ONLY),
    ],
)
async def test_sigkill_each_service_mid_load_then_restart(fault_case, service):
    """make test kills deadlines; make faults each of the four services."""
    case = fault_case

    async def fault():
        if service == "notify":
            case.reminder_instant()  # notify dies while it mails the round
            await case.wait_accepted(3)
        await kill_and_restart(case, service, reminder_while_down=service == "deadlines")

    await case.run(fault)
    await case.reconcile()
    case.assert_nothing_lost()


async def test_sigkill_the_broker_then_restart(fault_case):
    case = fault_case
    broker = case.world.kafka.broker

    async def fault():
        await case.wait_accepted(5)
        await asyncio.to_thread(broker.kill)
        await case.wait_accepted(10)  # intake keeps accepting: its outbox holds the events
        case.reminder_instant()
        await asyncio.to_thread(broker.restart)
        await wait_kafka_ready(broker, timeout=120)

    await case.run(fault)
    await case.reconcile()
    case.assert_nothing_lost()


@LONG_ONLY
async def test_sigstop_the_broker_past_the_session_timeout_then_sigcont(fault_case):
    """make faults only: make test's broker failure is the SIGKILL above."""
    case = fault_case
    broker = case.world.kafka.broker

    async def fault():
        await case.wait_accepted(5)
        broker.pause()
        try:
            case.reminder_instant()
            await asyncio.sleep(BROKER_PAUSE_S)  # the fault's length: the broker hangs this long
        finally:
            broker.resume()
        await wait_kafka_ready(broker, timeout=120)

    await case.run(fault)
    await case.reconcile()
    case.assert_nothing_lost()


async def test_restart_postgresql_mid_load(fault_case):
    case = fault_case
    server = case.world.postgres.server

    bootstrap = case.world.kafka.bootstrap
    before = {g: await end_offsets(bootstrap, topics.dlq_topic(f"{case.world.prefix}{g}")) for g in GROUPS}

    async def fault():
        await case.wait_accepted(5)
        case.reminder_instant()
        published = _this_period(await read_topic(bootstrap, topics.SUBMISSIONS), case)
        await asyncio.to_thread(server.stop)
        # Kafka redelivers events after a rebalance: consumers meet these while their database is down.
        await _produce(bootstrap, [(r.key, r.value) for r, _ in published])
        await asyncio.sleep(POSTGRES_DOWN_S)  # the fault's length: a restart that takes a while
        await asyncio.to_thread(server.restart)
        await wait_postgres_ready(server, timeout=60)
        case.notes["redelivered_while_down"] = len(published)

    await case.run(fault)
    await case.reconcile()
    case.assert_nothing_lost()
    for group in GROUPS:
        dlq = topics.dlq_topic(f"{case.world.prefix}{group}")
        dead = await read_topic(bootstrap, dlq, since=before[group])
        case.record(**{f"dlq_{group}": len(dead)})
    print(f"dead-lettered during the outage: {case.notes}")
    assert not any(case.notes[f"dlq_{g}"] for g in GROUPS), f"valid events dead-lettered by the outage: {case.notes}"


async def _produce(bootstrap: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topics.SUBMISSIONS, value, key=key)
    finally:
        await producer.stop()


def _this_period(records, case) -> list:
    mine = []
    for record in records:
        try:
            event = json.loads(record.value)
        except ValueError:
            continue
        data = event.get("data", {})
        if data.get("province") == "77" and data.get("period") == case.period:
            mine.append((record, event))
    return mine


async def test_events_delivered_twice_and_out_of_order(fault_case):
    case = fault_case
    bootstrap = case.world.kafka.bootstrap

    async def fault():
        async def amendments_published():
            found = _this_period(await read_topic(bootstrap, topics.SUBMISSIONS), case)
            return [e for _, e in found if e["data"]["version"] > 1] and found

        found = await wait_until(amendments_published, timeout=120, interval=1, what="an amendment on the topic")
        first_versions = [(r, e) for r, e in found if e["data"]["version"] == 1]
        amended = {e["data"]["unit"] for _, e in found if e["data"]["version"] > 1}
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            for record, _ in case.shuffled(found):  # every event again, the same ids, in another order
                await producer.send_and_wait(topics.SUBMISSIONS, record.value, key=record.key)
            older = 0
            for record, event in first_versions:  # a version 1 after its version 2, as a new event
                if event["data"]["unit"] in amended:
                    copy = {**event, "id": str(uuid.uuid4())}
                    await producer.send_and_wait(topics.SUBMISSIONS, json.dumps(copy).encode(), key=record.key)
                    older += 1
        finally:
            await producer.stop()
        case.notes.update(copies_sent=len(found), older_versions_sent=older)
        case.reminder_instant()

    await case.run(fault)
    await case.reconcile()
    case.assert_nothing_lost()
    assert case.notes["older_versions_sent"] > 0


async def test_a_poison_event_goes_to_each_groups_dead_letters(fault_case):
    case = fault_case
    bootstrap = case.world.kafka.bootstrap
    prefix = case.world.prefix
    tag = uuid.uuid4().hex

    async def fault():
        async def one_published():
            return _this_period(await read_topic(bootstrap, topics.SUBMISSIONS), case)

        [(record, event), *_] = await wait_until(one_published, timeout=120, interval=1, what="a submission event")
        not_json = f"not an event {tag}".encode()
        bad_data = json.dumps({**event, "id": str(uuid.uuid4()), "data": {"poison": tag}}).encode()
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            for value in (not_json, bad_data):
                await producer.send_and_wait(topics.SUBMISSIONS, value, key=record.key)
        finally:
            await producer.stop()
        case.reminder_instant()
        await case.wait_accepted(10)  # the partitions keep moving past the poison

    await case.run(fault)
    await case.reconcile()
    case.assert_nothing_lost()
    for group in GROUPS:
        dlq = topics.dlq_topic(f"{prefix}{group}")

        async def dead_lettered(dlq=dlq):
            return [r for r in await read_topic(bootstrap, dlq) if tag.encode() in r.value]

        found = await wait_until(dead_lettered, timeout=60, interval=1, what=f"the poison in {dlq}")
        case.record(**{f"dlq_{group}": len(found)})
        assert len(found) >= 2, f"{dlq}: {len(found)} of the 2 poison records"


async def test_rebalance_a_second_consolidation_and_deadlines_mid_load(fault_case):
    case = fault_case
    services = case.world.services
    partitions = sorted(await end_offsets(case.world.kafka.bootstrap, topics.SUBMISSIONS))
    assert len(partitions) > 1, f"{topics.SUBMISSIONS} has {len(partitions)} partition(s): nothing to split"
    left = 0  # submissions and amendments accepted when the second instances left

    async def fault():
        await case.wait_accepted(5)
        case.pace = SLOW_PACE  # the load goes on slowly while the processes start: they join while it runs
        try:
            await asyncio.gather(
                services.start_instance("consolidation", "consolidation-2"),
                services.start_instance("deadlines", "deadlines-2"),
            )
            case.notes["with_second_instances"] = await _partitions_held_by(case, 2, partitions)
            case.notes["split_seen_at"] = case.elapsed()
            case.pace = 1.0
            joined = case.accepted_so_far()
            case.reminder_instant()
            await case.wait_accepted(10)
        finally:
            await asyncio.to_thread(services.stop_instance, "consolidation-2")
            await asyncio.to_thread(services.stop_instance, "deadlines-2")
        nonlocal left
        left = case.accepted_so_far()
        case.notes["accepted_while_two_members"] = left - joined
        case.notes["after_they_left"] = await _partitions_held_by(case, 1, partitions)
        case.notes["one_member_again_at"] = case.elapsed()

    await case.run(fault)
    case.notes["accepted_after_they_left"] = case.accepted_so_far() - left
    await case.reconcile()
    case.assert_nothing_lost()


async def _partitions_held_by(case, members: int, partitions: list[int]) -> dict:
    """Until each group of baocao.submissions is stable with `members` members, each holding some of its
    partitions and together all of them once (bounded); returns, per group, its members' partitions."""

    seen: dict = {}

    async def split():
        seen.update({group: await case.world.holders(group, topics.SUBMISSIONS) for group in GROUPS})
        for state, held in seen.values():
            shared_out = sorted(p for member in held for p in member) == partitions  # all of them, once each
            if state != "Stable" or len(held) != members or not all(held) or not shared_out:
                return False
        return {group: {"members": len(held), "partitions": held} for group, (_, held) in seen.items()}

    try:
        return await wait_until(split, timeout=60, interval=0.5, what=f"{members} member(s) sharing {partitions}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the broker last described (state, partitions per member) {seen}") from None


@LONG_ONLY
async def test_two_relays_and_two_schedulers_at_once(fault_case):
    """make faults only: make test's case of concurrent instances is the rebalance above."""
    case = fault_case
    services = case.world.services
    second_intake, _ = await asyncio.gather(
        services.start_instance("intake", "intake-2"), services.start_instance("deadlines", "deadlines-2")
    )
    case.intakes = [case.world.url("intake"), second_intake]

    async def fault():
        await case.wait_accepted(10)
        case.reminder_instant()  # both schedulers see the reminder instant
        await case.wait_accepted(10)

    try:
        await case.run(fault)
        await case.reconcile()
    finally:
        await asyncio.to_thread(services.stop_instance, "intake-2")
        await asyncio.to_thread(services.stop_instance, "deadlines-2")
    case.assert_nothing_lost()
    assert case.figures["duplicate_reminder_deliveries"] == 0, "two schedulers sent one reminder round twice"
