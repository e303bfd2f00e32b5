"""The idempotent Kafka producer every relay and dead-letter path uses."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError


def make_producer(bootstrap_servers: str, *, client_id: str) -> AIOKafkaProducer:
    """acks=all + idempotence: a retried send is written once, in order, per partition."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        request_timeout_ms=30_000,
    )


async def ensure_topic(bootstrap_servers: str, name: str, *, partitions: int, replication_factor: int = 1) -> bool:
    """Create one topic if it does not exist yet; True when this call created it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        if name in await admin.list_topics():
            return False
        try:
            await admin.create_topics([NewTopic(name, partitions, replication_factor)])
        except TopicAlreadyExistsError:
            return False
        return True
    finally:
        await admin.close()
