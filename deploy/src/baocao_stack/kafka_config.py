"""A KRaft node's configuration: its server.properties (`server_properties`), and a cluster's nodes and their
ports (`KafkaNode`, `KafkaCluster`), with the cluster id every node's storage is formatted with."""

import base64
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .kafka_jars import HOST


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (like `random-uuid`)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def server_properties(
    *,
    node_id: int,
    port: int,
    controller_port: int,
    log_dirs: Path,
    partitions: int = 3,
    quorum_voters: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The broker+controller settings. Without `quorum_voters` it is a standalone (one-node) quorum;
    for a cluster pass e.g. "1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097" and the same
    `cluster_id` to every node, and raise the replication factors through `extra`."""
    props = {
        "process.roles": "broker,controller",
        "node.id": str(node_id),
        "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(log_dirs),
        "num.partitions": str(partitions),
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "10",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "true",
        "log.segment.bytes": str(16 * 1024 * 1024),
        "log.retention.hours": "168",
        "log.retention.check.interval.ms": "60000",
        "num.recovery.threads.per.data.dir": "2",
        "controlled.shutdown.enable": "true",
        # A broker restarted after a crash cannot register until its old session expires (the
        # default 9 s); a short session makes restarts in fault tests quick.
        "broker.session.timeout.ms": "3000",
        "broker.heartbeat.interval.ms": "500",
    }
    if quorum_voters:
        props["controller.quorum.voters"] = quorum_voters
    else:
        props["controller.quorum.bootstrap.servers"] = f"{HOST}:{controller_port}"
    props.update(extra or {})
    return props


@dataclass(frozen=True)
class KafkaNode:
    """One node of a cluster: a broker and a controller in one process."""

    node_id: int
    port: int
    controller_port: int

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"


@dataclass(frozen=True)
class KafkaCluster:
    """The nodes of a KRaft cluster on loopback and how it replicates. Every node is broker and
    controller, and all of them vote in the controller quorum. One node is a standalone quorum with
    replication factor 1; N nodes replicate every topic min(3, N) times and, from 3 nodes on, accept
    a write once 2 replicas hold it (min.insync.replicas=2), so one broker may be down."""

    nodes: tuple[KafkaNode, ...]

    def __post_init__(self) -> None:
        if not self.nodes:
            raise ValueError("a Kafka cluster needs at least one node")
        ports = [p for node in self.nodes for p in (node.port, node.controller_port)]
        taken_twice = sorted({p for p in ports if ports.count(p) > 1})
        if taken_twice:
            raise ValueError(f"Kafka nodes would share port(s) {taken_twice}")
        if len({node.node_id for node in self.nodes}) != len(self.nodes):
            raise ValueError("Kafka node ids must be distinct")

    @classmethod
    def on_ports(cls, pairs: Iterable[tuple[int, int]]) -> "KafkaCluster":
        """Nodes 1..N on the given (port, controller port) pairs, e.g. free ones for a test."""
        return cls(tuple(KafkaNode(i, port, cport) for i, (port, cport) in enumerate(pairs, start=1)))

    @classmethod
    def from_base(cls, brokers: int, *, port: int, controller_port: int) -> "KafkaCluster":
        """The stack's scheme: node i (1..N) listens on `port` + 2(i-1) and its controller on
        `controller_port` + 2(i-1); with the defaults 9092/9093, 9094/9095, 9096/9097."""
        if brokers < 1:
            raise ValueError("the number of Kafka brokers must be at least 1")
        return cls.on_ports((port + 2 * i, controller_port + 2 * i) for i in range(brokers))

    @property
    def size(self) -> int:
        return len(self.nodes)

    @property
    def bootstrap(self) -> str:
        """Every broker, comma-separated: a client still finds the cluster when one of them is down."""
        return ",".join(node.address for node in self.nodes)

    @property
    def quorum_voters(self) -> str | None:
        """`controller.quorum.voters` of a cluster; None for one node (a standalone quorum)."""
        if self.size == 1:
            return None
        return ",".join(f"{node.node_id}@{HOST}:{node.controller_port}" for node in self.nodes)

    @property
    def replication_factor(self) -> int:
        return min(3, self.size)

    @property
    def min_insync_replicas(self) -> int:
        return 2 if self.size >= 3 else 1

    def broker_config(self) -> dict[str, str]:
        """What every node adds to `server_properties`: the replication of topics and internal topics."""
        if self.size == 1:
            return {}
        size, isr = str(self.size), str(self.min_insync_replicas)
        return {
            "default.replication.factor": str(self.replication_factor),
            "min.insync.replicas": isr,
            "offsets.topic.replication.factor": size,
            "transaction.state.log.replication.factor": size,
            "transaction.state.log.min.isr": isr,
            "share.coordinator.state.topic.replication.factor": size,
            "share.coordinator.state.topic.min.isr": isr,
        }


def cluster_id_of(data_dirs: Iterable[Path]) -> str:
    """The cluster id a node's data folder already holds (they must all agree), or a new one."""
    for data_dir in data_dirs:
        path = Path(data_dir) / "cluster.id"
        if path.exists():
            return path.read_text().strip()
    return new_cluster_id()


def write_properties(path: Path, props: Mapping[str, str]) -> None:
    lines = ["# Written by baocao_stack.kafka; rewritten at every start."]
    lines += [f"{key}={value}" for key, value in props.items()]
    path.write_text("\n".join(lines) + "\n")
