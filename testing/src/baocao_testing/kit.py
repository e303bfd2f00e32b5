"""Helpers the integration and end-to-end tests share: bounded waits, reading a topic whole, consumer groups
of a test's own."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import CoordinationType
from aiokafka.errors import KafkaError, for_code
from aiokafka.protocol.commit import OffsetCommitRequest

from baocao_shared.messaging.history import read_history

# make faults (BAOCAO_FAULTS_LONG=1): the long fault cases, each fault three times, and the backup drill
FAULTS_LONG = os.environ.get("BAOCAO_FAULTS_LONG", "") not in ("", "0", "no", "false")


async def wait_until(
    check: Callable[[], Awaitable[object]], *, timeout: float = 30, interval: float = 0.1, what: str = "condition"
) -> object:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """The next offset of each partition: read_topic(..., since=this) then sees only newer records."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        return {tp.partition: offset for tp, offset in (await consumer.end_offsets(tps)).items()} if tps else {}
    finally:
        await consumer.stop()


async def read_topic(bootstrap: str, topic: str, *, timeout: float = 10, since: dict[int, int] | None = None) -> list:
    """Every record currently on `topic`, from the beginning of each partition (or `since`) to its end."""
    start = {TopicPartition(topic, partition): offset for partition, offset in (since or {}).items()}
    records: list = []

    async def read() -> None:
        async with contextlib.aclosing(read_history(bootstrap, [topic], since=start)) as batches:
            async for _, batch in batches:
                records.extend(batch)

    try:
        await asyncio.wait_for(read(), timeout)
    except TimeoutError:
        raise AssertionError(f"could not read {topic} to its end within {timeout}s") from None
    return records


def submission_record(
    unit: str, version: int, submission_id: uuid.UUID, *, plan_id: str, first_received_at, received_at
) -> tuple[bytes, bytes, list]:
    """A submission record of province 30, period 2019-06 as intake's outbox relay sends it (key, value, headers):
    received at version 1, amended after, with `t1_sessions` = the version."""
    from baocao_shared.events import make_event
    from baocao_shared.events.submissions import SUBMISSION_AMENDED, SUBMISSION_RECEIVED, SubmissionV1
    from baocao_shared.messaging.headers import record_headers

    spec = SUBMISSION_RECEIVED if version == 1 else SUBMISSION_AMENDED
    data = SubmissionV1(
        submission_id=submission_id,
        province="30",
        unit=unit,
        plan_id=plan_id,
        period="2019-06",
        version=version,
        values={"t1_sessions": version},
        narratives={},
        received_at=received_at,
        first_received_at=first_received_at,
    )
    event, key = make_event(spec, data, source="/baocao/intake", province="30")
    return (
        key.encode(),
        json.dumps(event.model_dump(mode="json"), ensure_ascii=False).encode(),
        record_headers(spec.type),
    )


def consumed_count(group: str, outcome: str) -> float:
    """How many records the consumer group has consumed with this outcome (applied, duplicate, ...) in this process."""
    from baocao_shared.metrics import EVENTS_CONSUMED

    return EVENTS_CONSUMED.labels(group, outcome)._value.get()


async def poison_between(
    producer, bootstrap: str, topic: str, group: str, good: list[tuple[bytes, bytes, list]]
) -> tuple[str, list]:
    """Send a poison record (the first good record with a new id and version 0, which the schema refuses) between
    the first two `good` records (key, value, headers), so one poll fetches them together; wait for the poison on
    the group's dead-letter topic. Returns the poison's event id and the dead letters read."""
    from baocao_shared.events.topics import dlq_topic

    key, value, headers = good[0]
    poison = json.loads(value)
    poison["id"], poison["data"]["version"] = str(uuid.uuid4()), 0
    for record in [good[1], (key, json.dumps(poison).encode(), headers), *good[2:]]:
        await producer.send(topic, value=record[1], key=record[0], headers=record[2])
    await producer.flush()
    dead = await wait_until(
        lambda: read_topic(bootstrap, dlq_topic(group)), timeout=60, what="the poison's dead letter"
    )
    return poison["id"], dead


async def new_topic(bootstrap: str, *, partitions: int = 1, prefix: str = "test") -> str:
    """A fresh topic with a unique name, so tests never see each other's records."""
    name = f"{prefix}.{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()
    return name


def service_groups() -> dict[str, list[str]]:
    """Each service's consumer group (before any prefix) and the topics it reads, from the services' own specs."""
    from consolidation.consumers import CONSUMER as consolidation
    from deadlines.consumers import CONSUMER as deadlines
    from intake.consumers import CONSUMER as intake
    from notify.config import Settings as NotifySettings
    from notify.consumers import consumer as notify

    specs = [intake, deadlines, consolidation, notify(NotifySettings())]
    return {spec.group_id: list(spec.topics) for spec in specs}


async def fresh_group_prefix(bootstrap: str, *, tag: str = "t") -> str:
    """A consumer-group prefix of one's own (`BAOCAO_CONSUMER_GROUP_PREFIX`), its services' groups starting at
    the end of their topics as they are now: an app started with it reads what is published from now on, not
    the session's history (every earlier test's records, thousands by the end of the suite, each applied again
    in every new group). The `group_prefix` fixture is this for one test."""
    prefix = f"{tag}{uuid.uuid4().hex[:8]}-"
    await start_groups_at_end(bootstrap, {prefix + group: topics for group, topics in service_groups().items()})
    return prefix


async def start_groups_at_end(bootstrap: str, groups: Mapping[str, Sequence[str]], *, timeout: float = 30) -> None:
    """Commit, for each new group, the current end offset of every partition of its topics (as a consumer of
    the group that had read them all would): its first member starts there instead of at the beginning.
    Topics that do not exist yet are left alone (the group reads them from their beginning)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        if any(consumer.partitions_for_topic(topic) is None for topics in groups.values() for topic in topics):
            await consumer._client.force_metadata_update()  # the first metadata may predate a topic
        tps = {
            TopicPartition(topic, p)
            for topics in groups.values()
            for topic in topics
            for p in consumer.partitions_for_topic(topic) or ()
        }
        ends = await consumer.end_offsets(sorted(tps)) if tps else {}
        commits = {
            group: [
                (topic, [(tp.partition, offset, "") for tp, offset in sorted(ends.items()) if tp.topic == topic])
                for topic in topics
                if any(tp.topic == topic for tp in ends)
            ]
            for group, topics in groups.items()
        }
        await asyncio.gather(
            *(_commit(consumer._client, group, offsets, timeout) for group, offsets in commits.items() if offsets)
        )
    finally:
        await consumer.stop()


async def _commit(client, group: str, offsets: list, timeout: float) -> None:
    """One OffsetCommit outside any generation (as for a group nobody has joined), retried while the broker's
    group coordinator is still being elected or loading (a fresh broker creates __consumer_offsets first)."""
    request = OffsetCommitRequest(
        group, OffsetCommitRequest.DEFAULT_GENERATION_ID, "", OffsetCommitRequest.DEFAULT_RETENTION_TIME, offsets
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            coordinator = await client.coordinator_lookup(CoordinationType.GROUP, group)
            response = await client.send(coordinator, request)
            errors = {code for _, partitions in response.topics for _, code in partitions if code}
            if not errors:
                return
            error: Exception = for_code(min(errors))(f"committing the start offsets of {group}")
        except KafkaError as exc:
            error = exc
        if not getattr(error, "retriable", False) or time.monotonic() > deadline:
            raise AssertionError(f"could not start consumer group {group} at the end of its topics: {error!r}")
        await asyncio.sleep(0.1)


class TokenMint:
    """Signs test tokens the way intake does (EdDSA, iss/aud/exp), for services that only verify them."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        self._key = Ed25519PrivateKey.generate()

    def verifier(self):
        from baocao_shared.auth import JwtVerifier

        return JwtVerifier.from_public_key(self._key.public_key())

    def token(self, role: str, province: str | None = None, unit: str | None = None, *, ttl_s: int = 3600) -> str:
        import jwt

        from baocao_shared.auth import ALGORITHM, AUDIENCE, ISSUER
        from baocao_shared.principal import Principal, Role

        subject = "-".join(filter(None, ["test", role, province, unit]))
        claims = Principal(subject=subject, role=Role(role), province=province, unit=unit).claims()
        now = int(time.time())
        return jwt.encode(
            {**claims, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + ttl_s}, self._key, algorithm=ALGORITHM
        )

    def headers(self, role: str, province: str | None = None, unit: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, province, unit)}"}


@contextlib.contextmanager
def served(app, port: int, name: str, **config):
    """Serve an ASGI app with uvicorn on 127.0.0.1:`port` in a thread, for a browser to reach; yields its URL.
    `config` adds uvicorn.Config settings (e.g. access_log=False, as baocao_shared.runtime.serve runs)."""
    import threading

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, **config))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    try:
        for _ in range(300):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.1)
        assert server.started, f"{name} did not start within 30 s"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


class SmtpMailbox:
    """An aiosmtpd handler that keeps every accepted message, for tests that run a real SMTP server.

        mailbox = SmtpMailbox()
        server = aiosmtpd.controller.Controller(mailbox, hostname="127.0.0.1", port=free_port())

    `refuse` names recipients answered with a permanent 550, as a mail server does for an unknown mailbox.
    """

    def __init__(self, *, refuse: frozenset[str] = frozenset()) -> None:
        self.messages: list = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            message["X-Envelope-To"] = rcpt
            self.messages.append(message)
        return "250 Message accepted"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["X-Envelope-To"] == address]

    @staticmethod
    def text_of(message) -> str:
        return message.get_body(("plain",)).get_content()
