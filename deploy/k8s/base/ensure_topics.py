"""Create Baocao's Kafka topics before a service starts: the `topics` init container of every Deployment.

The services create none of the topics they read and write; at start each creates only its own
dead-letter topic. Left alone, a broker that auto-creates topics would make `baocao.catalog` on first
use with the broker's defaults, not compacted. So every pod first runs this script, in its own
service image (which has aiokafka and baocao_shared):

    BAOCAO_KAFKA_BOOTSTRAP_SERVERS=my-cluster-kafka-bootstrap:9092 BAOCAO_TOPIC_PARTITIONS=3 \\
    TOPIC_REPLICATION_FACTOR=3 DLQ_GROUPS=intake python ensure_topics.py

It creates every missing topic of baocao_shared.events.topics.TOPICS with that topic's config, and the
dead-letter topic of each consumer group named in DLQ_GROUPS (comma-separated). Pods may run it at the
same time. It leaves existing topics alone. If an existing topic's config contradicts its spec (for
example a catalog that is not compacted), it names the topic and stops the pod, because the service
would lose data there. Exit status: 0 when every topic is ready, 1 when a topic needs an operator,
2 when Kafka refused a request.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Sequence

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from baocao_shared.events.topics import TOPICS, TopicSpec, dlq_topic

TOPIC_ALREADY_EXISTS = 36


class KafkaRefused(RuntimeError):
    pass


def wanted_topics(dlq_groups: Sequence[str]) -> list[TopicSpec]:
    """The topics the services use, and the dead-letter topic of each group."""
    dead_letters = [
        TopicSpec(dlq_topic(group), key="as on the source topic", description=f"dead letters of group {group}")
        for group in dlq_groups
    ]
    return [*TOPICS, *dead_letters]


async def ensure_topics(
    bootstrap: str,
    topics: Sequence[TopicSpec],
    *,
    partitions: int,
    replication_factor: int,
    timeout_s: float = 30,
) -> tuple[list[str], list[str]]:
    """Create the missing topics; returns (created names, problems with existing topics)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in topics if spec.name not in existing]
        created: list[str] = []
        if missing:
            response = await admin.create_topics(
                [NewTopic(s.name, partitions, replication_factor, topic_configs=dict(s.config)) for s in missing],
                timeout_ms=int(timeout_s * 1000),
            )
            for name, code, *message in response.topic_errors:
                if code == 0:
                    created.append(name)
                elif code != TOPIC_ALREADY_EXISTS:  # another pod created it meanwhile: fine
                    raise KafkaRefused(f"creating topic {name} failed: error {code} {message}")
        # A topic just created may not be known to every broker yet: ask again for a while.
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                problems = await _config_problems(admin, [spec for spec in topics if spec.config])
                break
            except KafkaRefused:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
        await _note_few_partitions(admin, [spec.name for spec in topics], partitions)
        return created, problems
    finally:
        await admin.close()


async def _config_problems(admin: AIOKafkaAdminClient, specs: Sequence[TopicSpec]) -> list[str]:
    """Every config of a spec that its topic does not have (e.g. auto-created, so not compacted)."""
    if not specs:
        return []
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, spec.name, configs=dict(spec.config)) for spec in specs]
    )
    actual: dict[str, dict[str, str]] = {}
    for response in responses:
        for error_code, error_message, _type, name, entries, *_ in response.resources:
            if error_code:
                raise KafkaRefused(f"describing topic {name} failed: error {error_code} {error_message}")
            actual[name] = {entry[0]: entry[1] for entry in entries}
    problems = []
    for spec in specs:
        for key, value in spec.config.items():
            found = actual.get(spec.name, {}).get(key)
            if found != value:
                problems.append(
                    f"topic {spec.name} has {key}={found}, Baocao needs {key}={value} "
                    f"(kafka-configs.sh --alter --entity-type topics --entity-name {spec.name} "
                    f"--add-config {key}={value})"
                )
    return problems


async def _note_few_partitions(admin: AIOKafkaAdminClient, names: Sequence[str], partitions: int) -> None:
    """Fewer partitions than configured is allowed, but say so: instances beyond them sit idle."""
    for topic in await admin.describe_topics(list(names)):
        count = len(topic["partitions"])
        if topic["error_code"] == 0 and count < partitions:
            print(
                f"note: topic {topic['topic']} has {count} partitions, BAOCAO_TOPIC_PARTITIONS={partitions}; "
                f"consumers beyond {count} per group sit idle",
                flush=True,
            )


def main() -> int:
    bootstrap = os.environ["BAOCAO_KAFKA_BOOTSTRAP_SERVERS"]
    partitions = int(os.environ.get("BAOCAO_TOPIC_PARTITIONS", "3"))
    replication_factor = int(os.environ.get("TOPIC_REPLICATION_FACTOR", "3"))
    groups = [g.strip() for g in os.environ.get("DLQ_GROUPS", "").split(",") if g.strip()]
    try:
        created, problems = asyncio.run(
            ensure_topics(
                bootstrap, wanted_topics(groups), partitions=partitions, replication_factor=replication_factor
            )
        )
    except (KafkaRefused, KafkaError, OSError) as exc:
        print(f"error: Kafka at {bootstrap}: {exc!r}", file=sys.stderr, flush=True)
        return 2
    for name in created:
        print(f"created topic {name} ({partitions} partitions, {replication_factor} replicas)", flush=True)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr, flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
