"""Apache Kafka 4.x in KRaft mode, run from Maven Central jars (baocao_stack.kafka_jars): write
`server.properties` and format the storage once (`prepare_kafka`, `prepare_cluster`), then run a broker
(`start_kafka`, or supervisord with `kafka_command`) or a cluster (`start_cluster`). Waiting for them and creating
the topics is baocao_stack.kafka_admin's.
"""

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .kafka_config import KafkaCluster, KafkaNode, cluster_id_of, new_cluster_id, server_properties, write_properties
from .kafka_jars import HOST, KafkaStartError, ensure_kafka_jars, libs_dir
from .paths import KAFKA_LOG4J
from .procs import Proc, ServerProcess


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
    write_properties(config, props)
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
