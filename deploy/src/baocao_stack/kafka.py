"""Apache Kafka 4.x in KRaft mode, from Maven Central jars.

Fetch the jars once (`ensure_kafka_jars`), write `server.properties` and format the storage once
(`prepare_kafka`), run the broker (`start_kafka`, or supervisord with `kafka_command`), wait for it
with an admin call (`wait_kafka_ready`) and create the topics (`ensure_topics`).
"""

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, for_code
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import CompactArray, CompactString, Int16, Int32, Int64, Schema, TaggedFields

from baocao_shared.events.topics import TOPICS, TopicSpec

from .paths import KAFKA_LOG4J, KAFKA_POM
from .procs import Proc, ServerProcess, describe_exit

HOST = "127.0.0.1"
POM_MARKER = ".pom.sha256"
PROGRESS_EVERY = 5.0  # seconds between progress lines while Maven downloads
TOPIC_ALREADY_EXISTS = 36


class KafkaStartError(RuntimeError):
    """Kafka could not be fetched, formatted, started or reached."""


# ---------------------------------------------------------------------------------------- jars


def libs_dir(home: Path) -> Path:
    return Path(home) / "kafka" / "libs"


def _digest(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def _is_cached(libs: Path, digest: str) -> bool:
    marker = libs / POM_MARKER
    return marker.is_file() and marker.read_text().strip() == digest and any(libs.glob("*.jar"))


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (two test workers must not run Maven into one folder)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_kafka_jars(home: Path, *, say: Callable[[str], None] = print, pom: Path = KAFKA_POM) -> Path:
    """Fill `<home>/kafka/libs` with the broker's jars (once per pom version); return that folder."""
    libs = libs_dir(home)
    digest = _digest(pom)
    if _is_cached(libs, digest):
        say(f"using cached Kafka jars in {libs}")
        return libs
    libs.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(libs.parent / ".libs.lock"):
        if _is_cached(libs, digest):  # another process fetched them while we waited
            say(f"using cached Kafka jars in {libs}")
            return libs
        _fetch_jars(pom, libs, digest, say)
    return libs


def _fetch_jars(pom: Path, libs: Path, digest: str, say: Callable[[str], None]) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaStartError(
            "Maven (`mvn`) is not on PATH; it fetches the Kafka jars. "
            "Install it (Debian/Ubuntu: apt-get install maven) and run again."
        )
    staging = libs.parent / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    output = libs.parent / "mvn.log"
    reason = "the pom changed" if (libs / POM_MARKER).exists() else "first run"
    say(
        f"fetching Kafka jars from Maven Central ({reason}; about a minute on a cold machine); "
        f"Maven's output goes to {output}"
    )
    args = [
        mvn, "-B", "-f", str(pom), "dependency:copy-dependencies",
        "-DincludeScope=runtime", f"-DoutputDirectory={staging}",
    ]  # fmt: skip
    started = time.monotonic()
    with output.open("wb") as out:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        try:
            while True:
                try:
                    proc.wait(timeout=PROGRESS_EVERY)
                    break
                except subprocess.TimeoutExpired:
                    say(_maven_progress(output, time.monotonic() - started))
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait()
    jars = sorted(staging.glob("*.jar")) if staging.is_dir() else []
    if proc.returncode != 0 or not jars:
        raise KafkaStartError(describe_exit(output, f"Maven failed to fetch the Kafka jars (exit {proc.returncode})"))
    (staging / POM_MARKER).write_text(digest + "\n")
    if libs.is_symlink() or libs.is_file():
        libs.unlink()
    elif libs.exists():
        shutil.rmtree(libs)
    staging.rename(libs)
    say(f"{len(jars)} Kafka jars ready in {libs} ({time.monotonic() - started:.0f}s)")


_DOWNLOADED = re.compile(r"Downloaded from \S+: (\S+) \(([\d.]+) (B|kB|MB)")
_UNITS = {"B": 1e-6, "kB": 1e-3, "MB": 1.0}


def _maven_progress(output: Path, elapsed: float) -> str:
    """One line about Maven's downloads so far, read from its output."""
    found = _DOWNLOADED.findall(output.read_text(errors="replace"))
    if not found:
        return f"  ... resolving dependencies ({elapsed:.0f}s)"
    megabytes = sum(float(size) * _UNITS[unit] for _, size, unit in found)
    latest = found[-1][0].rsplit("/", 1)[-1]
    return f"  ... {len(found)} files ({megabytes:.1f} MB) downloaded, latest {latest} ({elapsed:.0f}s)"


# ------------------------------------------------------------------------------ configuration


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


def _write_properties(path: Path, props: Mapping[str, str]) -> None:
    lines = ["# Written by baocao_stack.kafka; rewritten at every start."]
    lines += [f"{key}={value}" for key, value in props.items()]
    path.write_text("\n".join(lines) + "\n")


def _java() -> str:
    java = shutil.which("java")
    if java is None and os.environ.get("JAVA_HOME"):
        candidate = Path(os.environ["JAVA_HOME"]) / "bin" / "java"
        java = str(candidate) if candidate.exists() else None
    if java is None:
        raise KafkaStartError("`java` (JDK 17 or later) is not on PATH; Kafka needs it.")
    return java


def kafka_command(libs: Path, config: Path, *, heap: str = "512m") -> list[str]:
    """The command line of a broker in the foreground (for start_kafka and for supervisord)."""
    return [
        _java(),
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={KAFKA_LOG4J}",
        "-cp",
        f"{libs}/*",  # java expands the wildcard itself; no shell involved
        "kafka.Kafka",
        str(config),
    ]


def _is_formatted(log_dirs: Path) -> bool:
    return (log_dirs / "meta.properties").exists()


def _cluster_id(data_dir: Path, wanted: str | None) -> str:
    path = data_dir / "cluster.id"
    if path.exists():
        kept = path.read_text().strip()
        if wanted and wanted != kept:
            raise KafkaStartError(f"{data_dir} belongs to cluster {kept}, not {wanted}")
        return kept
    cluster_id = wanted or new_cluster_id()
    path.write_text(cluster_id + "\n")
    return cluster_id


def prepare_kafka(
    libs: Path,
    *,
    port: int,
    controller_port: int,
    data_dir: Path,
    node_id: int = 1,
    partitions: int = 3,
    quorum_voters: str | None = None,
    cluster_id: str | None = None,
    extra_config: Mapping[str, str] | None = None,
) -> Path:
    """Write `<data_dir>/server.properties`; format the storage the first time. Returns the config."""
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_dirs = data_dir / "kraft"
    config = data_dir / "server.properties"
    props = server_properties(
        node_id=node_id,
        port=port,
        controller_port=controller_port,
        log_dirs=log_dirs,
        partitions=partitions,
        quorum_voters=quorum_voters,
        extra=extra_config,
    )
    _write_properties(config, props)
    cluster = _cluster_id(data_dir, cluster_id)
    if not _is_formatted(log_dirs):
        # A one-shot tool: the JIT's first tier and the serial collector start it in ~60% of the CPU time.
        args = [
            _java(), "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            f"-Dlog4j2.configurationFile={KAFKA_LOG4J}",
            "-cp", f"{libs}/*", "kafka.tools.StorageTool", "format",
            "-t", cluster, "-c", str(config), "-g",
        ]  # fmt: skip
        if not quorum_voters:
            args.insert(args.index("format") + 1, "--standalone")
        result = subprocess.run(args, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not _is_formatted(log_dirs):
            raise KafkaStartError(
                f"formatting Kafka storage in {log_dirs} failed (exit {result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
    return config


def prepare_cluster(
    libs: Path, cluster: KafkaCluster, data_dirs: Mapping[int, Path], *, partitions: int = 3
) -> dict[int, Path]:
    """`prepare_kafka` for every node of `cluster` (node id -> its data folder) at once, as each format
    is a JVM of its own, with one cluster id. Returns each node's config."""
    cluster_id = cluster_id_of(data_dirs.values()) if cluster.size > 1 else None

    def prepare(node: KafkaNode) -> Path:
        return prepare_kafka(
            libs,
            port=node.port,
            controller_port=node.controller_port,
            data_dir=data_dirs[node.node_id],
            node_id=node.node_id,
            partitions=partitions,
            quorum_voters=cluster.quorum_voters,
            cluster_id=cluster_id,
            extra_config=cluster.broker_config(),
        )

    with ThreadPoolExecutor(max_workers=cluster.size) as pool:
        configs = list(pool.map(prepare, cluster.nodes))
    return {node.node_id: config for node, config in zip(cluster.nodes, configs, strict=True)}


# ------------------------------------------------------------------------------------ process


class KafkaBroker(ServerProcess):
    """A running broker: one we started (`start_kafka`) or one supervisord runs (`attach`)."""

    STOP_SIGNAL, STOP_TIMEOUT_S = signal.SIGTERM, 20  # a controlled shutdown
    StartError = KafkaStartError

    def __init__(
        self,
        *,
        bootstrap: str,
        proc: Proc,
        log_file: Path,
        data_dir: Path | None = None,
        node_id: int = 1,
        command: list[str] | None = None,
    ):
        super().__init__(proc=proc, log_file=log_file, command=command)
        self.bootstrap = bootstrap
        self.data_dir = data_dir
        self.node_id = node_id

    @classmethod
    def attach(cls, pid: int, *, bootstrap: str, log_file: Path) -> "KafkaBroker":
        """Watch a broker another process (supervisord) started; it cannot be restarted from here."""
        return cls(bootstrap=bootstrap, proc=Proc(pid), log_file=log_file)

    def __repr__(self) -> str:
        return f"KafkaBroker(bootstrap={self.bootstrap!r}, pid={self.pid}, node_id={self.node_id})"

    def _spawn(self, command: list[str]) -> Proc:
        return Proc.spawn(command, log_file=self.log_file, cwd=self.data_dir)


def stop_brokers(brokers: Iterable[KafkaBroker], timeout: float = 30) -> None:
    """Stop the brokers of a cluster together: SIGTERM to all, then wait. One by one, the last
    ones would wait out their timeout for a controller quorum that is already gone."""
    brokers = list(brokers)
    for broker in brokers:
        broker._proc.send(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for broker in brokers:
        broker.stop(timeout=max(0.5, deadline - time.monotonic()))


def start_kafka(
    home: Path,
    *,
    port: int,
    controller_port: int,
    data_dir: Path,
    log_file: Path,
    node_id: int = 1,
    heap: str = "512m",
    partitions: int = 3,
    quorum_voters: str | None = None,
    cluster_id: str | None = None,
    extra_config: Mapping[str, str] | None = None,
) -> KafkaBroker:
    """Start a KRaft broker+controller on 127.0.0.1 with the jars of `<home>/kafka/libs`.
    Calling it again with the same `data_dir` reuses the data. Await `wait_kafka_ready` next."""
    libs = libs_dir(home)
    if not any(libs.glob("*.jar")):
        libs = ensure_kafka_jars(home)
    data_dir = Path(data_dir).resolve()
    config = prepare_kafka(
        libs,
        port=port,
        controller_port=controller_port,
        data_dir=data_dir,
        node_id=node_id,
        partitions=partitions,
        quorum_voters=quorum_voters,
        cluster_id=cluster_id,
        extra_config=extra_config,
    )
    return _launch(libs, config, port=port, data_dir=data_dir, log_file=log_file, node_id=node_id, heap=heap)


def _launch(libs: Path, config: Path, *, port: int, data_dir: Path, log_file: Path, node_id: int, heap: str):
    command = kafka_command(libs, config, heap=heap)
    proc = Proc.spawn(command, log_file=Path(log_file), cwd=data_dir)
    return KafkaBroker(
        bootstrap=f"{HOST}:{port}",
        proc=proc,
        log_file=log_file,
        data_dir=data_dir,
        node_id=node_id,
        command=command,
    )


def start_cluster(
    home: Path,
    cluster: KafkaCluster,
    *,
    root: Path,
    heap: str = "512m",
    partitions: int = 3,
) -> list[KafkaBroker]:
    """Start every node of `cluster`, node i on `<root>/broker-<i>` (log `<root>/broker-<i>.log`), with
    one cluster id. Calling it again with the same `root` reuses the data. Await `wait_cluster_ready`."""
    libs = libs_dir(home)
    if not any(libs.glob("*.jar")):
        libs = ensure_kafka_jars(home)
    data_dirs = {node.node_id: (Path(root) / f"broker-{node.node_id}").resolve() for node in cluster.nodes}
    configs = prepare_cluster(libs, cluster, data_dirs, partitions=partitions)
    brokers: list[KafkaBroker] = []
    try:
        for node in cluster.nodes:
            log_file = Path(root) / f"broker-{node.node_id}.log"
            brokers.append(
                _launch(
                    libs,
                    configs[node.node_id],
                    port=node.port,
                    data_dir=data_dirs[node.node_id],
                    log_file=log_file,
                    node_id=node.node_id,
                    heap=heap,
                )
            )
    except BaseException:
        stop_brokers(brokers)
        raise
    return brokers


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
    topics: Iterable[TopicSpec] = TOPICS,
    timeout: float = 30,
) -> list[str]:
    """Create every topic of `topics` (default: baocao_shared.events.topics.TOPICS) that is missing,
    with its config; leave existing ones alone. Returns the names created."""
    specs = list(topics)
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
