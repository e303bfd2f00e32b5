"""Reading topics as history: every partition from its beginning (or a given offset) to the end it had when
the reading began, with no consumer group, so nothing is committed and nobody else's position moves.

The rebuild of a projection (messaging.replay), the test kits' `read_topic` and the replay benchmark's
baseline all read this way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord


async def read_history(
    bootstrap_servers: str,
    topics: Sequence[str],
    *,
    since: Mapping[TopicPartition, int] | None = None,
    max_records: int = 500,
) -> AsyncIterator[tuple[TopicPartition, list[ConsumerRecord]]]:
    """Each fetched batch of one partition, in the partition's order, until every partition of `topics` is
    read up to the end it had at the start (a topic that does not exist reads as empty)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None, max_poll_records=max_records
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        if not partitions:
            return
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        for tp, offset in (since or {}).items():
            if tp in partitions:
                consumer.seek(tp, offset)
        ends = await consumer.end_offsets(partitions)
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                kept = [r for r in records if r.offset < ends[tp]]
                if kept:
                    yield tp, kept
    finally:
        await consumer.stop()
