"""deploy/k8s, continued (test_k8s.py has the schemas and each service): the Ingress in the path layout of
deploy/proxy/Caddyfile, the Strimzi overlay's topics, and the init container's topic script run against the real
broker of the test session."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from baocao_shared.events.topics import RETENTION, TOPICS, TopicSpec, dead_letter_topic, dlq_topic
from tests.contract.k8s_manifests import (
    BASE,
    STRIMZI,
    config_map,
    env_value,
    find,
    partitions,
    pod_spec,
    render,
)
from tests.contract.test_compose import SERVICES
from tests.contract.test_proxy import PER_SERVICE, app_paths

# --- The Ingress: the path layout of deploy/proxy/Caddyfile ---------------------------------------


def ingress_rules(base: list[dict[str, Any]]) -> tuple[str, list[tuple[str, str, str]]]:
    """(host, [(path, pathType, service name)])."""
    [ingress] = [d for d in base if d["kind"] == "Ingress"]
    [rule] = ingress["spec"]["rules"]
    paths = [(p["path"], p["pathType"], p["backend"]["service"]["name"]) for p in rule["http"]["paths"]]
    return rule["host"], paths


def routed_to(path: str, paths: list[tuple[str, str, str]]) -> str | None:
    """Kubernetes Ingress matching: Exact, or Prefix by whole path elements; the longest match wins and
    Exact beats Prefix at equal length. None: no rule, so the controller's default backend (404)."""
    best: tuple[int, int, str] | None = None
    for rule_path, kind, backend in paths:
        if kind == "Exact":
            matched = path == rule_path
        else:
            assert kind == "Prefix", f"pathType {kind} is implementation-specific"
            elements = [e for e in rule_path.split("/") if e]
            matched = [e for e in path.split("/") if e][: len(elements)] == elements
        if matched:
            rank = (len(rule_path.rstrip("/")), kind == "Exact", backend)
            best = max(best, rank) if best else rank
    return best[2] if best else None


@pytest.mark.parametrize("name", SERVICES)
def test_every_page_and_api_of_a_service_reaches_it_through_the_ingress(base, name: str, tmp_path: Path) -> None:
    _, paths = ingress_rules(base)
    public = [p for p in app_paths(name, tmp_path) if not PER_SERVICE.match(p) and not (p == "/" and name != "intake")]
    assert len(public) > 3, public
    elsewhere = {p: routed_to(p, paths) for p in public if routed_to(p, paths) != f"baocao-{name}"}
    assert elsewhere == {}, f"{name}'s paths that the Ingress sends elsewhere (or nowhere)"
    if name == "intake":
        assert routed_to("/static/baocao.css", paths) == "baocao-intake", "the shared stylesheet"


@pytest.mark.parametrize(
    "path",
    ["/docs", "/openapi.json", "/redoc", "/metrics", "/readyz", "/healthz", "/v1/ops/pipeline", "/v1/ops/dlq/x/replay"],
)
def test_docs_metrics_probes_and_operations_stay_inside_the_cluster(base, path: str) -> None:
    _, paths = ingress_rules(base)
    assert routed_to(path, paths) is None


def test_ingress_backends_exist_and_links_point_at_its_https_origin(base) -> None:
    [ingress] = [d for d in base if d["kind"] == "Ingress"]
    host, _ = ingress_rules(base)
    for entry in ingress["spec"]["rules"][0]["http"]["paths"]:
        backend = entry["backend"]["service"]
        svc = find(base, "Service", backend["name"])
        assert backend["port"]["name"] in [p["name"] for p in svc["spec"]["ports"]]
    assert [host] in [tls["hosts"] for tls in ingress["spec"]["tls"]], "TLS for the host"
    public_urls = json.loads(config_map(base, "baocao-config")["BAOCAO_PUBLIC_URLS"])
    # https: the services then mark their cookies Secure (TLS ends at the Ingress).
    assert public_urls == {name: f"https://{host}" for name in SERVICES}


# --- The Strimzi overlay ---------------------------------------------------------------------------


def test_strimzi_overlay_declares_every_topic_as_the_services_need_it(base) -> None:
    """Checked by this test's reading of Strimzi's KafkaTopic (spec.topicName, partitions, replicas,
    config), not by Strimzi's CRD schema, which kubernetes-validate does not ship."""
    documents = render(STRIMZI)
    topics = [d for d in documents if d["kind"] == "KafkaTopic"]
    others = [d for d in documents if d["kind"] != "KafkaTopic"]
    assert sorted(map(json.dumps, others)) == sorted(map(json.dumps, base)), "the overlay adds topics only"
    groups = [importlib.import_module(f"{name}.consumers").GROUP for name in SERVICES]
    wanted = {spec.name: spec for spec in TOPICS} | {dlq_topic(g): dead_letter_topic(g) for g in groups}
    declared = {t["spec"]["topicName"]: t for t in topics}
    assert sorted(declared) == sorted(wanted)
    bootstrap = config_map(base, "baocao-config")["BAOCAO_KAFKA_BOOTSTRAP_SERVERS"]
    replicas = int(config_map(base, "baocao-topics")["TOPIC_REPLICATION_FACTOR"])
    for name, topic in declared.items():
        spec = topic["spec"]
        assert set(spec) <= {"topicName", "partitions", "replicas", "config"}, f"{name}: {sorted(spec)}"
        assert spec["partitions"] == partitions(base) and spec["replicas"] == replicas
        assert {k: str(v) for k, v in (spec.get("config") or {}).items()} == wanted[name].config
        cluster = topic["metadata"]["labels"]["strimzi.io/cluster"]
        assert bootstrap.startswith(f"{cluster}-kafka-bootstrap"), "the topics belong to the cluster the services use"


def test_every_topic_is_kept_for_the_one_archival_period(base) -> None:
    """BAOCAO_TOPIC_RETENTION_MS (forever by default) is what the init container sets on every topic and what
    each Strimzi KafkaTopic declares, dead letters included: no topic falls back to the broker's 7 days."""
    period = config_map(base, "baocao-config")["BAOCAO_TOPIC_RETENTION_MS"]
    assert period == "-1", "the default archival period is forever"
    declared = {
        d["spec"]["topicName"]: d["spec"].get("config") or {} for d in render(STRIMZI) if d["kind"] == "KafkaTopic"
    }
    assert declared and {name: str(config.get(RETENTION)) for name, config in declared.items()} == dict.fromkeys(
        declared, period
    )


# --- The init container's script, against the real broker of the test session --------------------


def load_script() -> Any:
    spec = importlib.util.spec_from_file_location("ensure_topics", BASE / "ensure_topics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def describe(bootstrap: str, names: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}
    finally:
        await admin.close()


@pytest.mark.integration
async def test_script_creates_missing_topics_with_their_config_once(kafka) -> None:
    script = load_script()
    tag = uuid.uuid4().hex[:8]
    specs = [
        TopicSpec(f"k8s-test.{tag}.compacted", "", "", {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}),
        TopicSpec(f"k8s-test.{tag}.plain", "", ""),
    ]
    created, problems = await script.ensure_topics(kafka.bootstrap, specs, partitions=2, replication_factor=1)
    assert sorted(created) == sorted(s.name for s in specs) and problems == []
    assert await describe(kafka.bootstrap, [s.name for s in specs]) == {s.name: 2 for s in specs}
    again = await script.ensure_topics(kafka.bootstrap, specs, partitions=2, replication_factor=1)
    assert again == ([], []), "a second pod finds everything in place"


@pytest.mark.integration
async def test_script_names_an_existing_topic_whose_config_would_lose_data(kafka) -> None:
    script = load_script()
    name = f"k8s-test.{uuid.uuid4().hex[:8]}.auto-created"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1)])  # as a broker's auto-creation would: not compacted
    finally:
        await admin.close()
    spec = TopicSpec(name, "", "", {"cleanup.policy": "compact"})
    created, problems = await script.ensure_topics(kafka.bootstrap, [spec], partitions=3, replication_factor=1)
    assert created == []
    assert len(problems) == 1 and f"topic {name} has cleanup.policy=delete" in problems[0]


@pytest.mark.integration
async def test_script_gives_an_existing_topic_the_archival_period_and_keeps_its_settings(kafka) -> None:
    script = load_script()
    tag = uuid.uuid4().hex[:8]
    name = f"k8s-test.{tag}.made-by-an-older-release"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:  # compacted, under the broker's 7-day retention
        await admin.create_topics([NewTopic(name, 1, 1, topic_configs={"cleanup.policy": "compact"})])
    finally:
        await admin.close()
    spec = TopicSpec(name, "", "", {"cleanup.policy": "compact", RETENTION: "-1"})
    retained: list[str] = []
    created, problems = await script.ensure_topics(
        kafka.bootstrap, [spec], partitions=1, replication_factor=1, retained=retained
    )
    assert (created, problems, retained) == ([], [], [name])
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    finally:
        await admin.close()
    configs = {entry[0]: entry[1] for entry in response.resources[0][4]}
    assert (configs[RETENTION], configs["cleanup.policy"]) == ("-1", "compact")
    retained.clear()
    assert await script.ensure_topics(kafka.bootstrap, [spec], partitions=1, replication_factor=1, retained=retained)
    assert retained == [], "the next pod finds it in place"


@pytest.mark.integration
def test_the_init_container_command_readies_the_real_topics(base, kafka) -> None:
    """The intake pod's init container, as the manifest runs it, with two values changed for the test
    broker: its address, and one replica (it is one broker). The session fixture has already created
    the five topics the way the local stack does, so this finds them correct and creates the group's
    dead-letter topic (a unique group, to leave the shared broker's real ones alone)."""
    [init] = pod_spec(base, "intake")["initContainers"]
    env = {var["name"]: env_value(base, var) for var in init["env"]}
    group = f"k8s-test-{uuid.uuid4().hex[:8]}"
    env |= {"BAOCAO_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap, "TOPIC_REPLICATION_FACTOR": "1", "DLQ_GROUPS": group}
    result = subprocess.run(
        [sys.executable, str(BASE / "ensure_topics.py")],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("BAOCAO_")}, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"created topic {dlq_topic(group)} (3 partitions, 1 replicas)"]
    counts = asyncio.run(describe(kafka.bootstrap, [dlq_topic(group), *(t.name for t in TOPICS)]))
    assert counts[dlq_topic(group)] == partitions(base)
    assert all(count >= 1 for count in counts.values())
