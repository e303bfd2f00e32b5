"""Create Baocao's Kafka topics before a service starts: the `topics` init container of every Deployment.

The services create none of the topics they read and write; at start each creates only its own
dead-letter topic. Left alone, a broker that auto-creates topics would make `baocao.catalog` on first
use with the broker's defaults, not compacted. So every pod first runs this script, in its own
service image (which has aiokafka and baocao_shared):

    BAOCAO_KAFKA_BOOTSTRAP_SERVERS=my-cluster-kafka-bootstrap:9092 BAOCAO_TOPIC_PARTITIONS=3 \\
    BAOCAO_TOPIC_RETENTION_MS=-1 TOPIC_REPLICATION_FACTOR=3 DLQ_GROUPS=intake python ensure_topics.py

It creates every missing topic of baocao_shared.events.topics.TOPICS with that topic's config, and the
dead-letter topic of each consumer group named in DLQ_GROUPS (comma-separated), each kept for the archival
period BAOCAO_TOPIC_RETENTION_MS (-1, the default: forever). Pods may run it at the same time. On an existing
topic it sets the archival period when the topic has another (`retention.ms`, keeping its other settings:
baocao_shared.messaging.topic_config); it changes nothing else. If an existing topic's config contradicts
its spec otherwise (for example a catalog that is not compacted), it names the topic and stops the pod,
because the service would lose data there. Exit status: 0 when every topic is ready, 1 when a topic needs an operator,
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

from baocao_shared.events.topics import FOREVER, RETENTION, TopicSpec, dead_letter_topic, fact_topics
from baocao_shared.messaging.topic_config import TopicConfigError, reconcile_topic_configs

TOPIC_ALREADY_EXISTS = 36


class KafkaRefused(RuntimeError):
    pass


def wanted_topics(dlq_groups: Sequence[str], retention_ms: int = FOREVER) -> list[TopicSpec]:
    """The topics the services use, and the dead-letter topic of each group, kept for the archival period."""
    return [*fact_topics(retention_ms), *(dead_letter_topic(group, retention_ms) for group in dlq_groups)]


async def ensure_topics(
    bootstrap: str,
    topics: Sequence[TopicSpec],
    *,
    partitions: int,
    replication_factor: int,
    timeout_s: float = 30,
    retained: list[str] | None = None,
) -> tuple[list[str], list[str]]:
    """Create the missing topics and give existing ones their archival period (their names appended to
    `retained`); returns (created names, problems with existing topics)."""
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
        # Topics made before (by an older release, or auto-created) get the archival period, and only that.
        retention = {
            spec.name: {RETENTION: spec.config[RETENTION]}
            for spec in topics
            if spec.name in existing and RETENTION in spec.config
        }
        while True:
            try:
                altered = await reconcile_topic_configs(admin, retention)
                if retained is not None:
                    retained.extend(altered)
                retention = {}
                problems = await _config_problems(admin, [spec for spec in topics if spec.config])
                break
            except (KafkaRefused, TopicConfigError):
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
    retention_ms = int(os.environ.get("BAOCAO_TOPIC_RETENTION_MS") or FOREVER)
    groups = [g.strip() for g in os.environ.get("DLQ_GROUPS", "").split(",") if g.strip()]
    retained: list[str] = []
    try:
        created, problems = asyncio.run(
            ensure_topics(
                bootstrap,
                wanted_topics(groups, retention_ms),
                partitions=partitions,
                replication_factor=replication_factor,
                retained=retained,
            )
        )
    except (KafkaRefused, TopicConfigError, KafkaError, OSError) as exc:
        print(f"error: Kafka at {bootstrap}: {exc!r}", file=sys.stderr, flush=True)
        return 2
    for name in created:
        print(f"created topic {name} ({partitions} partitions, {replication_factor} replicas)", flush=True)
    for name in retained:
        print(f"set {RETENTION}={retention_ms} on topic {name}", flush=True)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr, flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
