"""The fault suite's own world: a Kafka broker, a PostgreSQL and the four services, started once per test module.

The broker and the server are this directory's alone (not the session's shared ones), so a case may SIGKILL,
SIGSTOP and restart them. test_scaleout.py runs a second world of its own on a 3-broker KRaft cluster
(`fault_cluster`, started with the same KafkaCluster as `make up BROKERS=3`), on the same PostgreSQL.
One synthetic province is loaded once per world; each case takes the next monthly period of its plan (the
file clock only moves forward), so cases share the processes but not their figures.

A case (see `FaultCase`): a steady submission load to intake's API runs while the fault happens; the clock
moves past the period's first reminder instant during the fault; then `reconcile()` polls, with a deadline,
until every accepted submission shows exactly once, as its latest accepted version, in consolidation's totals
and in deadlines' compliance, and every unit that never submitted has its reminder sent and in the mailbox.
Duplicate reminders and mails are counted. Figures go to artifacts/faults/<case>.json and one printed line.

BAOCAO_FAULTS_LONG=1 (make faults) runs the long version: more units, a higher rate, each fault three times, and
every case. Without it (make test) the load is short and one case of each fault class runs: a crash of one service,
the broker's, PostgreSQL's restart, duplicate and out-of-order delivery, a poison event, a rebalance, and the
3-broker cluster's scale-out smoke; the cases marked `faults_long` (another service's crash, the broker paused
past the session timeout, two relays and schedulers at once, a broker of the cluster killed) are deselected.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from baocao_stack.kafka_config import KafkaCluster
from baocao_stack.procs import tail
from baocao_testing.fixtures import KafkaHandle, PostgresHandle, running_postgres, stack_home
from baocao_testing.kit import fresh_group_prefix
from baocao_testing.processes import Services
from tests.faults.scale import CLUSTER_BROKERS, local, period_of
from tests.faults.world import ClusterHandle, World

# ------------------------------------------------------------------------------------------ infrastructure


@pytest.fixture(scope="session")
def fault_postgres():
    """The fault suite's own PostgreSQL on a free loopback port (each world makes its own databases on it)."""
    with running_postgres("baocao-faults-pg-") as handle:
        yield handle


# The single-broker world serves test_faults.py and the cluster's world test_scaleout.py: module-scoped, each
# stops when its module is done instead of idling beside the other on the two cores.
@pytest.fixture(scope="module")
def fault_infra(fault_postgres, tmp_path_factory: pytest.TempPathFactory):
    """A broker and a PostgreSQL of the fault suite's own, on free loopback ports."""
    from baocao_stack.kafka import start_kafka
    from baocao_stack.kafka_admin import ensure_topics, wait_kafka_ready
    from baocao_stack.kafka_jars import ensure_kafka_jars
    from baocao_stack.ports import free_ports

    home = stack_home()
    ensure_kafka_jars(home)
    root = tmp_path_factory.mktemp("faults-infra")
    port, controller_port = free_ports(2)
    broker = start_kafka(
        home, port=port, controller_port=controller_port, data_dir=root / "kafka", log_file=root / "kafka.log"
    )
    try:
        asyncio.run(wait_kafka_ready(broker, timeout=120))
        asyncio.run(ensure_topics(broker.bootstrap, partitions=3))
        yield KafkaHandle(broker.bootstrap, broker), fault_postgres
    finally:
        broker.kill()  # its data goes with the module: no controlled shutdown of every partition to wait for


@pytest.fixture(scope="module")
def fault_cluster(tmp_path_factory: pytest.TempPathFactory):
    """Three brokers on free loopback ports, configured as `make up BROKERS=3` configures them (KafkaCluster):
    one controller quorum of all three, topics replicated 3 times, min.insync.replicas=2."""
    from baocao_stack.kafka import start_cluster
    from baocao_stack.kafka_admin import ensure_topics, wait_cluster_ready
    from baocao_stack.kafka_jars import ensure_kafka_jars
    from baocao_stack.ports import free_ports

    home = stack_home()
    ensure_kafka_jars(home)
    ports = free_ports(2 * CLUSTER_BROKERS)
    cluster = KafkaCluster.on_ports(zip(ports[::2], ports[1::2], strict=True))
    brokers = start_cluster(home, cluster, root=tmp_path_factory.mktemp("faults-cluster"))
    try:
        asyncio.run(wait_cluster_ready(brokers, timeout=180))
        replicas = cluster.replication_factor
        asyncio.run(ensure_topics(cluster.bootstrap, partitions=3, replication_factor=replicas))
        yield ClusterHandle(cluster, brokers)
    finally:
        for broker in brokers:  # their data goes with the module: no controlled shutdown (11 s) to wait for
            broker.kill()


@contextlib.asynccontextmanager
async def running_world(kafka, postgres: PostgresHandle, home: Path, request: pytest.FixtureRequest):
    """The four services on `kafka` (a broker or a cluster) and `postgres`, with the synthetic province loaded."""
    services = Services(postgres=postgres, kafka=kafka, home=home)
    world = None
    try:
        prefix = await fresh_group_prefix(kafka.bootstrap, tag="f")
        stack = await services.start(at=local(period_of(0), 10, 9), consumer_group_prefix=prefix)
        world = World(services=services, stack=stack, kafka=kafka, postgres=postgres)
        await world.load_province()
        yield world
    finally:
        if world is not None:
            await world.close()
        services.stop()
        if request.session.testsfailed:
            for name in services.procs:
                print(f"----- last lines of {name}.log -----\n{tail(services.log_file(name), 30)}")


@pytest.fixture(scope="module")
async def fault_world(fault_infra, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    kafka, postgres = fault_infra
    async with running_world(kafka, postgres, tmp_path_factory.mktemp("faults-services"), request) as world:
        yield world


@pytest.fixture(scope="module")
async def cluster_world(
    fault_cluster, fault_postgres, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
):
    """The services on the 3-broker cluster, with every broker in their bootstrap list."""
    home = tmp_path_factory.mktemp("faults-cluster-services")
    async with running_world(fault_cluster, fault_postgres, home, request) as world:
        yield world


@pytest.fixture
async def fault_case(fault_world, request):
    case = await fault_world.next_case(request.node.name)
    yield case


@pytest.fixture
async def cluster_case(cluster_world, request):
    case = await cluster_world.next_case(request.node.name)
    yield case
