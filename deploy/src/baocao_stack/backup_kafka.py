"""The Kafka half of `baocao-stack backup` and `restore`: topics with their records, configs and partition counts, and
the consumer groups' committed offsets.

A topic-partition is exported to one JSON-lines file, one record a line, in offset order: its offset, timestamp and
timestamp type, key, value (base64; null stays null, a tombstone) and headers. It is read up to the end offset taken
when the export starts, so records written meanwhile are left out, never half of a batch.

On a fresh broker the records go back into the same partition, in order, with their keys, headers and timestamps;
their offsets start again at 0 (and have no gaps where compaction or a truncated log start had left some). Each
group's committed offset is translated: to the new offset of the first record at or after the old one, so that a
service resumes exactly where it stopped, neither replaying nor skipping.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import for_code
from aiokafka.structs import OffsetAndMetadata

from baocao_shared.events.topics import MAX_RECORD_BYTES

DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs' config_source of a setting made on the topic itself
FETCH_BYTES = MAX_RECORD_BYTES + 1024 * 1024  # one record as large as a producer may send, with its framing
NO_PROGRESS_S = 60  # an export that reads nothing new for this long fails rather than waits forever

Say = Callable[[str], None]


class KafkaBackupError(RuntimeError):
    """A topic could not be exported or restored as it was."""


@dataclass
class PartitionDump:
    partition: int
    file: str  # relative to the backup folder
    records: int
    log_start: int  # the first offset the broker still had
    end_offset: int  # the end offset taken at the start of the export: records below it are in the file
    first_offset: int | None = None
    last_offset: int | None = None


@dataclass
class TopicDump:
    name: str
    configs: dict[str, str]  # the settings made on the topic (not the broker's defaults)
    replication_factor: int
    partitions: list[PartitionDump] = field(default_factory=list)


@dataclass
class GroupOffsets:
    group: str
    offsets: list[tuple[str, int, int, str]]  # topic, partition, committed offset, metadata


def _admin(bootstrap: str) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)


def user_topics(names: Iterable[str]) -> list[str]:
    """Every topic but Kafka's own (__consumer_offsets, __cluster_metadata...)."""
    return sorted(name for name in names if not name.startswith("__"))


async def topic_configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    """Each topic's settings made on the topic (retention, compaction, record size), not the defaults."""
    if not names:
        return {}
    responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name) for name in names])
    found: dict[str, dict[str, str]] = {}
    for response in responses:
        for error_code, message, _type, name, entries in response.resources:
            if error_code:
                raise KafkaBackupError(f"describing topic {name}: {for_code(error_code).__name__} {message}")
            found[name] = {entry[0]: entry[1] for entry in entries if _set_on_topic(entry) and entry[1] is not None}
    return found


def _set_on_topic(entry: tuple) -> bool:
    """DescribeConfigs v0 says is_default (a bool), later versions config_source."""
    return entry[3] == DYNAMIC_TOPIC_CONFIG if type(entry[3]) is int else not entry[3]


# ------------------------------------------------------------------------------------ export


async def export_topics(bootstrap: str, folder: Path, say: Say) -> tuple[list[TopicDump], list[GroupOffsets]]:
    """Every user topic into `folder/kafka/<topic>-<partition>.jsonl`, then every consumer group's committed
    offsets. The end offsets are taken first, for every partition at once."""
    admin = _admin(bootstrap)
    await admin.start()
    try:
        names = user_topics(await admin.list_topics())
        described = {topic["topic"]: topic for topic in await admin.describe_topics(names)} if names else {}
        configs = await topic_configs(admin, names)
        groups = await _group_offsets(admin)
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=FETCH_BYTES,
        fetch_max_bytes=FETCH_BYTES,
        request_timeout_ms=60000,
    )
    await consumer.start()
    try:
        tps = [
            TopicPartition(name, p["partition"])
            for name in names
            for p in sorted(described[name]["partitions"], key=lambda p: p["partition"])
        ]
        starts = await consumer.beginning_offsets(tps) if tps else {}
        ends = await consumer.end_offsets(tps) if tps else {}
        say(f"kafka: {len(names)} topics, {len(tps)} partitions, {sum(ends.values()) - sum(starts.values())} offsets")
        (folder / "kafka").mkdir(parents=True, exist_ok=True)
        dumps = []
        for name in names:
            partitions = described[name]["partitions"]
            dump = TopicDump(name, configs.get(name, {}), replication_factor=len(partitions[0]["replicas"]))
            for tp in (tp for tp in tps if tp.topic == name):
                part = await _export_partition(consumer, tp, starts[tp], ends[tp], folder)
                dump.partitions.append(part)
            say(f"  {name}: {sum(p.records for p in dump.partitions)} records in {len(dump.partitions)} partitions")
            dumps.append(dump)
    finally:
        await consumer.stop()
    return dumps, groups


async def _export_partition(
    consumer: AIOKafkaConsumer, tp: TopicPartition, start: int, end: int, folder: Path
) -> PartitionDump:
    relative = f"kafka/{tp.topic}-{tp.partition}.jsonl"
    part = PartitionDump(tp.partition, relative, records=0, log_start=start, end_offset=end)
    with (folder / relative).open("w", encoding="utf-8") as out:
        if end <= start:
            return part
        consumer.assign([tp])
        consumer.seek(tp, start)
        last_progress = time.monotonic()
        while await consumer.position(tp) < end:
            batches = await consumer.getmany(tp, timeout_ms=1000)
            for record in batches.get(tp, []):
                if record.offset >= end:
                    break
                out.write(json.dumps(_record_json(record), separators=(",", ":")) + "\n")
                part.records += 1
                part.first_offset = record.offset if part.first_offset is None else part.first_offset
                part.last_offset = record.offset
                last_progress = time.monotonic()
            if time.monotonic() - last_progress > NO_PROGRESS_S:
                what = f"{tp.topic}-{tp.partition}: no progress towards offset {end}"
                raise KafkaBackupError(f"{what} for {NO_PROGRESS_S}s")
    return part


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def _record_json(record) -> dict:
    return {
        "offset": record.offset,
        "timestamp": record.timestamp,
        "timestamp_type": record.timestamp_type,  # 0 CreateTime, 1 LogAppendTime
        "key": _b64(record.key),
        "value": _b64(record.value),
        "headers": [[name, _b64(value)] for name, value in record.headers],
    }


async def _group_offsets(admin: AIOKafkaAdminClient) -> list[GroupOffsets]:
    groups = []
    for group_id, *_ in sorted(await admin.list_consumer_groups()):
        committed = await admin.list_consumer_group_offsets(group_id)
        offsets = sorted(
            (tp.topic, tp.partition, meta.offset, meta.metadata or "")
            for tp, meta in committed.items()
            if meta.offset >= 0
        )
        groups.append(GroupOffsets(group_id, offsets))
    return groups


# ----------------------------------------------------------------------------------- restore


async def kafka_is_empty(bootstrap: str) -> list[str]:
    """What makes the broker's data not empty: a user topic with any record, or any consumer group."""
    admin = _admin(bootstrap)
    await admin.start()
    try:
        names = user_topics(await admin.list_topics())
        groups = [group for group, *_ in await admin.list_consumer_groups()]
    finally:
        await admin.close()
    found = [f"consumer group {group}" for group in sorted(groups)]
    if names:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = {name: consumer.partitions_for_topic(name) or set() for name in names}
            if not all(partitions.values()):
                await consumer._client.force_metadata_update()
                partitions = {name: consumer.partitions_for_topic(name) or set() for name in names}
            tps = [TopicPartition(name, p) for name, ps in partitions.items() for p in ps]
            ends = await consumer.end_offsets(tps) if tps else {}
        finally:
            await consumer.stop()
        found += [
            f"topic {name} ({n} records)"
            for name in names
            if (n := sum(ends.get(TopicPartition(name, p), 0) for p in partitions[name]))
        ]
    return found


async def recreate_topics(bootstrap: str, topics: list[TopicDump], *, replication_factor: int, say: Say) -> None:
    """Each topic with the backup's partition count and settings: created when missing; an existing (empty) topic
    with another partition count is deleted and created again, and its settings are set to the backup's."""
    admin = _admin(bootstrap)
    await admin.start()
    try:
        names = user_topics(await admin.list_topics())
        existing = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)} if names else {}
        wrong = [t.name for t in topics if t.name in existing and existing[t.name] != len(t.partitions)]
        if wrong:
            await admin.delete_topics(wrong)
            await _wait(lambda: _absent(admin, wrong), f"topics {wrong} to be deleted")
        missing = [t for t in topics if t.name not in existing or t.name in wrong]
        if missing:
            response = await admin.create_topics(
                [NewTopic(t.name, len(t.partitions), replication_factor, topic_configs=t.configs) for t in missing],
                timeout_ms=30000,
            )
            for name, code, *message in response.topic_errors:
                if code:
                    raise KafkaBackupError(f"creating topic {name}: {for_code(code).__name__} {message}")
        kept = [t for t in topics if t not in missing]
        if kept:
            await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, t.name, t.configs) for t in kept])
        await _wait(lambda: _have_leaders(admin, [t.name for t in topics]), "every partition to have a leader")
        say(
            f"  topics: {len(missing)} created ({len(wrong)} of them again, with the backup's partition count), "
            f"{len(kept)} given the backup's settings"
        )
    finally:
        await admin.close()


async def _absent(admin: AIOKafkaAdminClient, names: list[str]) -> bool:
    return not set(names) & set(await admin.list_topics())


async def _have_leaders(admin: AIOKafkaAdminClient, names: list[str]) -> bool:
    described = await admin.describe_topics(names)
    return all(t["error_code"] == 0 and t["partitions"] and all(_led(p) for p in t["partitions"]) for t in described)


def _led(partition: dict) -> bool:
    return partition["error_code"] == 0 and partition["leader"] >= 0


async def _wait(check, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise KafkaBackupError(f"waited {timeout:.0f}s for {what}")
        await asyncio.sleep(0.2)  # poll interval of an admin call


def read_records(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


async def produce_records(bootstrap: str, folder: Path, topics: list[TopicDump], say: Say) -> dict[str, list[int]]:
    """Every exported record back into its partition, in order. Returns each partition's old offsets in the order
    written, so the record at old offset `old[i]` is now at offset i ("<topic>-<partition>" -> old offsets)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,  # no duplicate, and order kept within a partition across retries
        max_request_size=FETCH_BYTES,
        linger_ms=5,
        request_timeout_ms=60000,
    )
    await producer.start()
    written: dict[str, list[int]] = {}
    try:
        for topic in topics:
            count = 0
            for part in topic.partitions:
                old = written[f"{topic.name}-{part.partition}"] = []
                sent = []
                for record in read_records(folder / part.file):
                    sent.append(
                        await producer.send(
                            topic.name,
                            value=_unb64(record["value"]),
                            key=_unb64(record["key"]),
                            partition=part.partition,
                            timestamp_ms=record["timestamp"],
                            headers=[(name, _unb64(value)) for name, value in record["headers"]],
                        )
                    )
                    old.append(record["offset"])
                for i, metadata in enumerate(await asyncio.gather(*sent)):
                    if metadata.offset != i:  # a fresh partition numbers from 0
                        raise KafkaBackupError(
                            f"{topic.name}-{part.partition}: record {i} landed at offset {metadata.offset}; "
                            "was the partition empty?"
                        )
                count += len(sent)
            say(f"  {topic.name}: {count} records into {len(topic.partitions)} partitions")
    finally:
        await producer.stop()
    return written


def translate(committed: int, old_offsets: list[int]) -> int:
    """A committed offset (the next record a group reads) on the restored partition: the new offset of the first
    record at or after it; past the last record, the new end."""
    return bisect.bisect_left(old_offsets, committed)


def offset_runs(old_offsets: list[int]) -> list[list[int]]:
    """The mapping old -> new as runs [old start, new start, length] of consecutive offsets (short to keep)."""
    runs: list[list[int]] = []
    for new, old in enumerate(old_offsets):
        if runs and runs[-1][0] + runs[-1][2] == old:
            runs[-1][2] += 1
        else:
            runs.append([old, new, 1])
    return runs


async def restore_groups(
    bootstrap: str, groups: list[GroupOffsets], written: dict[str, list[int]], say: Say
) -> list[dict]:
    """Commit each group's offsets, translated to the restored partitions. Returns what was committed."""
    done = []
    for group in groups:
        offsets = {}
        for topic, partition, committed, metadata in group.offsets:
            old = written.get(f"{topic}-{partition}")
            if old is None:
                continue  # a topic that was not backed up (Kafka's own)
            offsets[TopicPartition(topic, partition)] = OffsetAndMetadata(translate(committed, old), metadata)
            done.append({"group": group.group, "topic": topic, "partition": partition, "old": committed,
                         "new": offsets[TopicPartition(topic, partition)].offset})  # fmt: skip
        if not offsets:
            continue
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group.group, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign(list(offsets))  # a manual assignment commits as the empty group, without joining it
            await consumer.commit(offsets)
        finally:
            await consumer.stop()
    say(f"  consumer groups: {len({d['group'] for d in done})} restored, {len(done)} committed offsets translated")
    return done
