"""Bring existing topics' settings to what their specs say (today: the archival retention).

A topic's settings are given when it is created; a topic made earlier (by an older release, under the broker's
7-day default, or by a broker's auto-creation) keeps its own until someone changes them. `reconcile_topic_configs`
is that someone, run at every start-up by `make up` (baocao_stack.kafka_admin) and by the k8s `topics` init
container (deploy/k8s/base/ensure_topics.py).

aiokafka (0.14) has no IncrementalAlterConfigs (KIP-339), only the older AlterConfigs, which replaces a
topic's whole set of dynamic settings: a key the request leaves out goes back to the broker's default. So each
alteration sends every setting the topic has of its own (config source DYNAMIC_TOPIC_CONFIG, read with
DescribeConfigs just before) with the wanted ones changed. Two admins doing this on the same topic at once could
lose each other's change; the keys here are Baocao's own, and both writers want the same values.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs (v1+) config_source of a setting the topic has of its own


class TopicConfigError(RuntimeError):
    """The broker refused to describe or alter a topic's settings."""


async def topic_configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, tuple[str, int]]]:
    """Every setting of each topic, as {topic: {key: (value, config source)}}."""
    if not names:
        return {}
    found: dict[str, dict[str, tuple[str, int]]] = {}
    responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name) for name in names])
    for response in responses:
        for error_code, error_message, _type, name, entries, *_ in response.resources:
            if error_code:
                raise TopicConfigError(f"describing topic {name} failed: error {error_code} {error_message}")
            found[name] = {entry[0]: (entry[1], entry[3]) for entry in entries}
    return found


async def reconcile_topic_configs(admin: AIOKafkaAdminClient, wanted: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Give each existing topic of `wanted` ({topic: {key: value}}) those values, keeping its other settings of
    its own. Returns the names of the topics altered (none when every value is already in place)."""
    current = await topic_configs(admin, list(wanted))
    changes: list[ConfigResource] = []
    for name, settings in wanted.items():
        configs = current.get(name, {})
        if all(configs.get(key, (None, 0))[0] == value for key, value in settings.items()):
            continue
        own = {k: v for k, (v, source) in configs.items() if source == DYNAMIC_TOPIC_CONFIG and v is not None}
        changes.append(ConfigResource(ConfigResourceType.TOPIC, name, configs={**own, **settings}))
    if not changes:
        return []
    altered: list[str] = []
    for response in await admin.alter_configs(changes):
        for error_code, error_message, _type, name in response.resources:
            if error_code:
                raise TopicConfigError(f"altering topic {name} failed: error {error_code} {error_message}")
            altered.append(name)
    return altered
