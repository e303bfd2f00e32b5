"""Kafka admin calls the stack and the tests make: wait for a broker or a cluster with an admin call, never a
fixed sleep (`wait_kafka_ready`, `wait_cluster_ready`); create the topics with their settings (`ensure_topics`) and
bring existing ones to the archival retention (`reconcile_retention`); and find the active controller of a KRaft
quorum (`quorum_leader`, DescribeQuorum, which aiokafka lacks)."""

import asyncio
import contextlib
import time
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, for_code
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import CompactArray, CompactString, Int16, Int32, Int64, Schema, TaggedFields

from baocao_shared.events.topics import DLQ_PREFIX, FOREVER, TopicSpec, archived, fact_topics
from baocao_shared.messaging.topic_config import reconcile_topic_configs

from .kafka import KafkaBroker
from .kafka_jars import KafkaStartError
from .procs import describe_exit

TOPIC_ALREADY_EXISTS = 36  # the CreateTopics error code of a topic that is there already


async def wait_cluster_ready(brokers: list[KafkaBroker], timeout: float = 120) -> None:
    """Until each broker answers and sees all of them registered (a dead one fails at once)."""
    await asyncio.gather(*(wait_kafka_ready(broker, timeout, brokers=len(brokers)) for broker in brokers))


# -------------------------------------------------------------------------------------- admin


async def wait_kafka_ready(bootstrap: "str | KafkaBroker", timeout: float = 90, *, brokers: int = 1) -> None:
    """Retry an admin call (describe cluster) until `brokers` brokers answer. Given a KafkaBroker,
    fail at once, with the tail of its log, when its process exits."""
    broker = bootstrap if isinstance(bootstrap, KafkaBroker) else None
    address = broker.bootstrap if broker else str(bootstrap)
    deadline = time.monotonic() + timeout
    last_error: object = "no answer yet"
    while True:
        if broker is not None and not broker.is_alive():
            raise KafkaStartError(describe_exit(broker.log_file, f"Kafka at {address} (pid {broker.pid}) exited"))
        admin = AIOKafkaAdminClient(bootstrap_servers=address, request_timeout_ms=5000)
        try:
            await _tcp_probe(address)  # cheap, and spares the log aiokafka's connection errors
            await admin.start()
            cluster = await admin.describe_cluster()
            seen = len(cluster.get("brokers", []))
            if seen >= brokers:
                return
            last_error = f"{seen} of {brokers} brokers registered"
        except (TimeoutError, KafkaError, OSError) as err:
            last_error = err
        finally:
            await admin.close()
        if time.monotonic() >= deadline:
            message = f"Kafka at {address} not ready after {timeout:.0f}s ({last_error!r})"
            if broker is not None:
                message = describe_exit(broker.log_file, message)
            raise KafkaStartError(message)
        await asyncio.sleep(0.25)  # poll interval between admin attempts


async def _tcp_probe(bootstrap: str) -> None:
    """Raise OSError unless one of the bootstrap servers accepts a TCP connection."""
    error: OSError = OSError(f"no address in {bootstrap!r}")
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout=2)
        except (TimeoutError, OSError) as err:
            error = err if isinstance(err, OSError) else OSError(f"{address}: timed out")
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return
    raise error


async def ensure_topics(
    bootstrap: str,
    *,
    partitions: int,
    replication_factor: int = 1,
    topics: Iterable[TopicSpec] | None = None,
    retention_ms: int = FOREVER,
    timeout: float = 30,
) -> list[str]:
    """Create every topic of `topics` (default: baocao_shared.events.topics.TOPICS, kept for the archival period
    `retention_ms`) that is missing, with its config; leave existing ones alone (`reconcile_retention` brings them
    to the archival period). Returns the names created."""
    specs = list(fact_topics(retention_ms) if topics is None else topics)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [NewTopic(spec.name, partitions, replication_factor, topic_configs=dict(spec.config)) for spec in missing],
            timeout_ms=int(timeout * 1000),
        )
        created = []
        for topic, code, *message in response.topic_errors:
            if code == 0:
                created.append(topic)
            elif code != TOPIC_ALREADY_EXISTS:  # created meanwhile by someone else: fine
                raise KafkaStartError(f"creating topic {topic} failed: {for_code(code).__name__} {message}")
        await _wait_for_leaders(admin, [spec.name for spec in missing], timeout)
        return created
    finally:
        await admin.close()


async def reconcile_retention(
    bootstrap: str, *, retention_ms: int = FOREVER, topics: Iterable[TopicSpec] | None = None
) -> list[str]:
    """Give every existing topic of `topics` (default: TOPICS) and every dead-letter topic the archival period
    `retention_ms` (-1: forever), keeping their other settings. Returns the names of the topics altered."""
    names = [spec.name for spec in (fact_topics(retention_ms) if topics is None else topics)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [name for name in names if name in existing]
        wanted += sorted(name for name in existing if name.startswith(DLQ_PREFIX) and name not in wanted)
        return await reconcile_topic_configs(admin, {name: archived(retention_ms) for name in wanted})
    finally:
        await admin.close()


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str], timeout: float) -> None:
    """Topic creation returns before every partition has a leader; wait until they do."""
    deadline = time.monotonic() + timeout
    while True:
        described = await admin.describe_topics(names)
        if all(
            topic["error_code"] == 0
            and topic["partitions"]
            and all(p["error_code"] == 0 and p["leader"] >= 0 for p in topic["partitions"])
            for topic in described
        ):
            return
        if time.monotonic() >= deadline:
            raise KafkaStartError(f"topics {names} have no leaders after {timeout:.0f}s")
        await asyncio.sleep(0.1)


# ------------------------------------------------------------------------- the controller quorum
# aiokafka has no DescribeQuorum (KIP-595), and in KRaft the "controller" a broker names in its metadata
# is any live broker. Version 0 of the request, which a broker forwards to the active controller.


class _DescribeQuorumResponse_v0(Response):
    API_KEY = 55
    API_VERSION = 0
    _REPLICA = (("replica_id", Int32), ("log_end_offset", Int64), ("tags", TaggedFields))
    SCHEMA = Schema(
        ("error_code", Int16),
        (
            "topics",
            CompactArray(
                ("topic_name", CompactString("utf-8")),
                (
                    "partitions",
                    CompactArray(
                        ("partition_index", Int32),
                        ("error_code", Int16),
                        ("leader_id", Int32),
                        ("leader_epoch", Int32),
                        ("high_watermark", Int64),
                        ("current_voters", CompactArray(*_REPLICA)),
                        ("observers", CompactArray(*_REPLICA)),
                        ("tags", TaggedFields),
                    ),
                ),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _DescribeQuorumRequest_v0(RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 55
    API_VERSION = 0
    RESPONSE_TYPE = _DescribeQuorumResponse_v0
    SCHEMA = Schema(
        (
            "topics",
            CompactArray(
                ("topic_name", CompactString("utf-8")),
                ("partitions", CompactArray(("partition_index", Int32), ("tags", TaggedFields))),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _DescribeQuorumRequest(Request[_DescribeQuorumRequest_v0]):
    API_KEY = 55
    ALLOW_UNKNOWN_API_VERSION = True

    def build(self, request_struct_class: type[_DescribeQuorumRequest_v0]) -> _DescribeQuorumRequest_v0:
        return request_struct_class([("__cluster_metadata", [(0, {})], {})], {})


async def quorum_leader(bootstrap: str) -> tuple[int, int]:
    """The active controller of a KRaft cluster (the leader of its metadata quorum) and its epoch, as a
    broker of `bootstrap` learns it from the controllers."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        client = admin._client
        node = client.get_random_node()
        if node is None or not await client.ready(node):
            raise KafkaStartError(f"no broker of {bootstrap} answers")
        response = await client.send(node, _DescribeQuorumRequest())
    finally:
        await admin.close()
    if response.error_code:
        raise KafkaStartError(f"DescribeQuorum failed: {for_code(response.error_code).__name__}")
    [topic] = response.topics
    [partition] = topic[1]
    _, error_code, leader_id, leader_epoch, *_ = partition
    if error_code or leader_id < 0:
        raise KafkaStartError(f"the metadata quorum has no leader ({for_code(error_code).__name__})")
    return leader_id, leader_epoch
