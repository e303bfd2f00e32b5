"""The idempotent Kafka producer every relay and dead-letter path uses."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from baocao_shared.events.topics import MAX_RECORD_BYTES


def make_producer(bootstrap_servers: str, *, client_id: str) -> AIOKafkaProducer:
    """acks=all + idempotence: a retried send is written once, in order, per partition."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        request_timeout_ms=30_000,
        max_request_size=MAX_RECORD_BYTES,  # baocao.reports allows it (a frozen document's bytes)
    )


async def ensure_topic(
    bootstrap_servers: str,
    name: str,
    *,
    partitions: int,
    replication_factor: int | None = None,
    config: dict[str, str] | None = None,
) -> bool:
    """Create one topic if it does not exist yet; True when this call created it. Unless given, its
    replication factor is the cluster's default.replication.factor, as for a topic the broker creates
    (a dead-letter topic kept on one broker of a cluster is lost with that broker's disk). `config`: the topic's
    settings (e.g. its retention), given at creation only."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        if name in await admin.list_topics():
            return False
        replicas = replication_factor or await default_replication_factor(admin)
        try:
            await admin.create_topics([NewTopic(name, partitions, replicas, topic_configs=dict(config or {}))])
        except TopicAlreadyExistsError:
            return False
        return True
    finally:
        await admin.close()


async def default_replication_factor(admin: AIOKafkaAdminClient) -> int:
    """The cluster's default.replication.factor as one of its brokers states it (1 when it does not).
    aiokafka speaks CreateTopics up to v3, which cannot ask for the broker's default with -1."""
    cluster = await admin.describe_cluster()
    broker = min(b["node_id"] for b in cluster["brokers"])
    resource = ConfigResource(ConfigResourceType.BROKER, str(broker), {"default.replication.factor": None})
    [response] = await admin.describe_configs([resource])
    for entry in response.resources[0][4]:
        if entry[0] == "default.replication.factor" and entry[1]:
            return int(entry[1])
    return 1
