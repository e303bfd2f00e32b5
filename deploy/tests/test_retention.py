"""Retention as a decision: the topics that carry facts keep them for the archival period (default forever,
retention.ms=-1), read back from the real broker of the test session.

The broker runs with `log.retention.hours=168`, as `make up`'s does: a topic made without a setting of its own
keeps records 7 days. Each test makes its own topics (a unique prefix on the real names) so that the session's
shared topics are left alone.
"""

import uuid
from dataclasses import replace

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from baocao_shared.events.topics import RETENTION, TOPICS, TopicSpec, dead_letter_topic, fact_topics
from baocao_shared.messaging.topic_config import topic_configs
from baocao_stack.kafka_admin import ensure_topics, reconcile_retention

pytestmark = pytest.mark.integration
SEVEN_DAYS_MS = str(7 * 24 * 3600 * 1000)


def renamed(specs, tag: str) -> list[TopicSpec]:
    return [replace(spec, name=f"{tag}.{spec.name}") for spec in specs]


async def read_configs(bootstrap: str, names: list[str]) -> dict[str, dict[str, str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        found = await topic_configs(admin, names)
    finally:
        await admin.close()
    return {name: {key: value for key, (value, _source) in configs.items()} for name, configs in found.items()}


async def create_the_old_way(bootstrap: str, specs: list[TopicSpec]) -> None:
    """As releases before the archival period made them: their own settings, no retention of their own."""
    old = [replace(spec, config={k: v for k, v in spec.config.items() if k != RETENTION}) for spec in specs]
    assert sorted(await ensure_topics(bootstrap, partitions=1, topics=old)) == sorted(spec.name for spec in specs)


async def test_existing_topics_are_brought_to_the_archival_period_keeping_their_other_settings(kafka) -> None:
    tag = f"retention-{uuid.uuid4().hex[:8]}"
    facts = renamed(TOPICS, tag)
    dead_letters = dead_letter_topic(tag)  # baocao.dlq.<tag>, as a service of that group makes it
    await create_the_old_way(kafka.bootstrap, [*facts, replace(dead_letters, config={})])
    names = [spec.name for spec in facts] + [dead_letters.name]
    before = await read_configs(kafka.bootstrap, names)
    assert {name: configs[RETENTION] for name, configs in before.items()} == dict.fromkeys(names, SEVEN_DAYS_MS)

    altered = await reconcile_retention(kafka.bootstrap, topics=facts)
    assert set(names) <= set(altered)

    after = await read_configs(kafka.bootstrap, names)
    print({name: configs[RETENTION] for name, configs in after.items()})
    assert {name: configs[RETENTION] for name, configs in after.items()} == dict.fromkeys(names, "-1")
    # AlterConfigs replaces a topic's whole set of settings: the ones it had of its own are sent again.
    assert after[f"{tag}.baocao.catalog"]["cleanup.policy"] == "compact"
    assert after[f"{tag}.baocao.catalog"]["min.compaction.lag.ms"] == "0"
    assert after[f"{tag}.baocao.reports"]["max.message.bytes"] == str(16 * 1024 * 1024)
    assert await reconcile_retention(kafka.bootstrap, topics=facts) == [], "a second start finds them in place"

    # A shorter archival period is a setting too (a deployment that must delete after, say, ten years).
    ten_years_ms = 10 * 365 * 24 * 3600 * 1000
    await reconcile_retention(kafka.bootstrap, topics=fact_topics(ten_years_ms), retention_ms=ten_years_ms)
    # (fact_topics names the session's own topics: read back only this test's dead letters and those.)
    shorter = await read_configs(kafka.bootstrap, [dead_letters.name, *(spec.name for spec in TOPICS)])
    assert {configs[RETENTION] for configs in shorter.values()} == {str(ten_years_ms)}
    await reconcile_retention(kafka.bootstrap)  # back to forever for the rest of the session
    assert {c[RETENTION] for c in (await read_configs(kafka.bootstrap, [t.name for t in TOPICS])).values()} == {"-1"}


async def test_a_fresh_stack_creates_every_fact_topic_kept_forever(kafka) -> None:
    tag = f"retention-{uuid.uuid4().hex[:8]}"
    facts = renamed(fact_topics(), tag)
    created = await ensure_topics(kafka.bootstrap, partitions=1, topics=facts)
    assert sorted(created) == sorted(spec.name for spec in facts)
    configs = await read_configs(kafka.bootstrap, [spec.name for spec in facts])
    assert {name: c[RETENTION] for name, c in configs.items()} == {spec.name: "-1" for spec in facts}
    # And the session's own topics, made by the fixture's ensure_topics as `make up` makes them:
    session = await read_configs(kafka.bootstrap, [spec.name for spec in TOPICS])
    print({name: c[RETENTION] for name, c in session.items()})
    assert {name: c[RETENTION] for name, c in session.items()} == {spec.name: "-1" for spec in TOPICS}
