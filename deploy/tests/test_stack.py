"""The launcher itself, with real processes: PostgreSQL, Kafka, supervisord and the CLI."""

import asyncio
import json
import os
import shlex
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import psutil
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from rich.console import Console
from supervisor.options import ServerOptions

from baocao_shared.events.topics import CATALOG, SUBMISSIONS, TOPICS
from baocao_stack import supervisor as sv
from baocao_stack.demo import DemoOutcome, print_how_to, seed_demo
from baocao_stack.kafka import start_kafka
from baocao_stack.kafka_admin import ensure_topics, wait_kafka_ready
from baocao_stack.kafka_jars import ensure_kafka_jars
from baocao_stack.paths import DEFAULT_HOME
from baocao_stack.ports import PortTakenError, check_port_free, free_port, free_ports
from baocao_stack.postgres import ensure_databases, start_postgres, wait_postgres_ready
from baocao_stack.programs import build_programs
from baocao_stack.settings import SERVICES, StackSettings
from deploy.tests.stack_cli import stack_cli


def shared_home() -> Path:
    """Where the Kafka jars are cached for every test run (the same folder `make up` uses)."""
    return Path(os.environ.get("BAOCAO_HOME") or DEFAULT_HOME).resolve()


@pytest.fixture(scope="module")
def kafka_libs() -> Path:
    return ensure_kafka_jars(shared_home())


# ------------------------------------------------------------------------------------- ports


def test_a_taken_port_is_refused_with_the_setting_that_moves_it():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(PortTakenError) as raised:
            check_port_free(port, "BAOCAO_KAFKA_PORT")
    assert str(raised.value) == f"port {port} is taken; set BAOCAO_KAFKA_PORT to another port"
    check_port_free(free_port(), "BAOCAO_PG_PORT")  # a free one passes


def test_free_ports_are_distinct_and_bindable():
    ports = free_ports(5)
    assert len(set(ports)) == 5
    for port in ports:
        check_port_free(port, "BAOCAO_PG_PORT")


# ---------------------------------------------------------------------------------- postgres


@pytest.mark.stack
async def test_postgres_keeps_its_data_across_a_restart(own_tmp):
    server = start_postgres(data_dir=own_tmp / "pg", port=free_port(), log_file=own_tmp / "pg.log")
    try:
        await wait_postgres_ready(server, timeout=30)
        assert await ensure_databases(server, ["intake", "deadlines"]) == ["intake", "deadlines"]
        assert await ensure_databases(server, ["intake"]) == []

        conn = await asyncpg.connect(server.url("intake", driver="postgresql"))
        await conn.execute("CREATE TABLE note (body text); INSERT INTO note VALUES ('kept')")
        await conn.close()

        pid = server.pid
        server.stop()
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        initialised_at = (own_tmp / "pg" / "PG_VERSION").stat().st_mtime

        server.restart()
        await wait_postgres_ready(server, timeout=30)
        assert server.pid != pid
        assert (own_tmp / "pg" / "PG_VERSION").stat().st_mtime == initialised_at  # no second initdb
        conn = await asyncpg.connect(server.url("intake", driver="postgresql"))
        assert await conn.fetchval("SELECT body FROM note") == "kept"
        await conn.close()
        assert server.url("intake") == f"postgresql+asyncpg://postgres@127.0.0.1:{server.port}/intake"
    finally:
        server.stop()
    assert not server.is_alive()


# ------------------------------------------------------------------------------------- kafka


def test_jars_are_fetched_once(kafka_libs):
    said: list[str] = []
    assert ensure_kafka_jars(shared_home(), say=said.append) == kafka_libs
    assert said == [f"using cached Kafka jars in {kafka_libs}"]
    names = {jar.name for jar in kafka_libs.glob("*.jar")}
    assert any(name.startswith("kafka_2.13-") for name in names)
    assert any(name.startswith("log4j-slf4j-impl-") for name in names)  # slf4j 1.7 binding


@pytest.mark.stack
async def test_kafka_creates_topics_and_carries_a_record(tmp_path, kafka_libs):
    port, controller_port = free_ports(2)
    broker = start_kafka(
        shared_home(),
        port=port,
        controller_port=controller_port,
        data_dir=tmp_path / "kafka",
        log_file=tmp_path / "kafka.log",
    )
    try:
        await wait_kafka_ready(broker, timeout=90)
        created = await ensure_topics(broker.bootstrap, partitions=3)
        assert sorted(created) == sorted(spec.name for spec in TOPICS)
        assert await ensure_topics(broker.bootstrap, partitions=3) == []  # existing ones are left alone

        admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
        await admin.start()
        try:
            [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, CATALOG)])
            configs = {entry[0]: entry[1] for entry in response.resources[0][4]}
            assert configs["cleanup.policy"] == "compact"
            [described] = await admin.describe_topics([SUBMISSIONS])
            assert len(described["partitions"]) == 3
        finally:
            await admin.close()

        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            sent = await producer.send_and_wait(SUBMISSIONS, b"hello", key=b"30.CA")
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            tp = TopicPartition(SUBMISSIONS, sent.partition)
            consumer.assign([tp])
            consumer.seek(tp, sent.offset)
            record = await consumer.getone()
            assert (record.key, record.value) == (b"30.CA", b"hello")
        finally:
            await consumer.stop()

        pid = broker.pid
        broker.stop()
        assert not broker.is_alive()
        assert not psutil.pid_exists(pid)
    finally:
        broker.stop()
    log = (tmp_path / "kafka.log").read_text()
    assert "SLF4J" not in log  # the log4j binding was found: no "Failed to load class" warning
    assert "Kafka Server started" in log or "KafkaRaftServer" in log or "BrokerServer" in log


# ------------------------------------------------------------------------ supervisord config


def test_supervisord_config_gives_each_service_its_ports_and_the_shared_clock(tmp_path):
    environ = {
        "BAOCAO_HOME": str(tmp_path / "home"),
        "BAOCAO_KAFKA_PORT": "19092",
        "BAOCAO_PG_PORT": "15432",
        "BAOCAO_PORT_BASE": "18000",
        "BAOCAO_PARTITIONS": "6",
        "BAOCAO_CLOCK": "simulated",
        "BAOCAO_CLOCK_START": "2019-06-01T00:00:00+07:00",
        "BAOCAO_CLOCK_SPEED": "86400",
        "BAOCAO_ENV": "development",
    }
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    settings = StackSettings.from_env(environ, now=now)
    assert settings.controller_port == 19093
    assert settings.passthrough["BAOCAO_CLOCK_EPOCH"] == now.isoformat()  # fixed once for all services

    paths = sv.SupervisorPaths(settings.home)
    programs = build_programs(settings, libs=tmp_path / "libs", services=list(SERVICES), modules={"notify": "stand_in"})
    sv.write_config(paths, programs)

    options = ServerOptions()  # read it back the way supervisord does
    options.realize(args=["-c", str(paths.config)])
    configs = {pc.name: pc for group in options.process_group_configs for pc in group.process_configs}
    assert set(configs) == {"postgres", "kafka", *SERVICES, "mailsink"}  # the mail sink comes with notify
    # supervisord stops in reverse priority: the services first, then Kafka, PostgreSQL last
    assert configs["postgres"].priority < configs["kafka"].priority < configs["intake"].priority
    assert options.pidfile == str(settings.home / "run" / "supervisord.pid")

    assert "-p 15432 -h 127.0.0.1" in configs["postgres"].command
    assert configs["postgres"].stopsignal == 2  # SIGINT: fast shutdown
    assert "kafka.Kafka" in configs["kafka"].command
    assert configs["kafka"].stdout_logfile == str(settings.home / "logs" / "kafka.log")

    for offset, name in enumerate(SERVICES, start=1):
        env = configs[name].environment
        assert env["BAOCAO_HTTP_HOST"] == "127.0.0.1"
        assert env["BAOCAO_HTTP_PORT"] == str(18000 + offset)
        assert env["BAOCAO_DATABASE_URL"] == f"postgresql+asyncpg://postgres@127.0.0.1:15432/{name}"
        assert env["BAOCAO_KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:19092"
        assert env["BAOCAO_TOPIC_PARTITIONS"] == "6"
        assert env["BAOCAO_CLOCK"] == "simulated"
        assert env["BAOCAO_CLOCK_START"] == "2019-06-01T00:00:00+07:00"
        assert env["BAOCAO_CLOCK_EPOCH"] == now.isoformat()
        assert env["BAOCAO_CLOCK_SPEED"] == "86400"
        assert env["BAOCAO_ENV"] == "development"
        assert json.loads(env["BAOCAO_SERVICE_URLS"]) == {
            "intake": "http://127.0.0.1:18001",
            "deadlines": "http://127.0.0.1:18002",
            "consolidation": "http://127.0.0.1:18003",
            "notify": "http://127.0.0.1:18004",
        }
        assert configs[name].autorestart is not False
    # consolidation signs with the demo keys `up` makes; the passphrase stays in its file, out of the config
    signing = configs["consolidation"].environment
    assert signing["BAOCAO_SIGNING_PKCS12"] == str(settings.home / "signing" / "{province}.p12")
    assert signing["BAOCAO_SIGNING_PASSPHRASE_FILE"] == str(settings.home / "signing" / "passphrase")
    assert signing["BAOCAO_SIGNING_TRUST_ROOTS"] == str(settings.home / "signing" / "ca.pem")
    assert "BAOCAO_SIGNING_PASSPHRASE" not in signing and "BAOCAO_SIGNING_PKCS12" not in configs["intake"].environment
    assert shlex.split(configs["notify"].command)[1:] == ["-m", "stand_in"]
    assert shlex.split(configs["intake"].command) == [sys.executable, "-m", "intake"]

    # notify's email goes to the mail sink: SMTP on base+25, its page on base+5, its Maildir in the home
    assert (configs["notify"].environment["BAOCAO_SMTP_HOST"], configs["notify"].environment["BAOCAO_SMTP_PORT"]) == (
        "127.0.0.1",
        "18025",
    )
    sink = configs["mailsink"]
    assert shlex.split(sink.command) == [sys.executable, "-m", "baocao_stack.mailsink"]
    assert sink.priority < configs["notify"].priority  # stopped after notify
    assert sink.environment["BAOCAO_SMTP_SINK_PORT"] == "18025"
    assert sink.environment["BAOCAO_HTTP_PORT"] == "18005"
    assert sink.environment["BAOCAO_MAIL_DIR"] == str(settings.home / "mail")
    assert sink.environment["BAOCAO_CLOCK_EPOCH"] == now.isoformat()
    without_notify = build_programs(settings, libs=tmp_path / "libs", services=["intake"])
    assert "mailsink" not in {program.name for program in without_notify}
    moved = StackSettings.from_env({**environ, "BAOCAO_SMTP_SINK_PORT": "2525"}, now=now)
    assert moved.service_env("notify")["BAOCAO_SMTP_PORT"] == moved.mailsink_env()["BAOCAO_SMTP_SINK_PORT"] == "2525"
    assert StackSettings.from_json(moved.to_json()) == moved  # kept in stack.json


def test_awkward_environment_values_survive_supervisord(tmp_path):
    values = {"PERCENT": "100%", "COMMA": "a,b", "JSON": '{"a":"b,c"}', "SPACES": "x y", "EMPTY": ""}
    paths = sv.SupervisorPaths(tmp_path)
    program = sv.Program("p", ["true"], log_file=tmp_path / "p.log", directory=tmp_path, environment=values)
    sv.write_config(paths, [program])
    options = ServerOptions()
    options.realize(args=["-c", str(paths.config)])
    [config] = options.process_group_configs[0].process_configs
    assert config.environment == values


# --------------------------------------------------------------------------------------- CLI


@pytest.mark.stack
def test_up_then_down_leaves_no_process_behind(own_tmp, kafka_libs):
    home = own_tmp / "home"
    (home / "kafka").mkdir(parents=True)
    (home / "kafka" / "libs").symlink_to(kafka_libs)  # reuse the cached jars
    kafka_port, controller_port, pg_port, base = free_ports(4)
    env = {
        **os.environ,
        "BAOCAO_HOME": str(home),
        "BAOCAO_KAFKA_PORT": str(kafka_port),
        "BAOCAO_KAFKA_CONTROLLER_PORT": str(controller_port),
        "BAOCAO_PG_PORT": str(pg_port),
        "BAOCAO_PORT_BASE": str(base),
    }
    try:
        started = time.monotonic()
        up = stack_cli("up", "--services", "none", env=env)
        if up.returncode != 0:
            pytest.fail(f"up failed:\n{up.stdout}\n{up.stderr}", pytrace=False)
        assert "using cached Kafka jars" in up.stdout
        assert time.monotonic() - started < 90

        state = json.loads((home / "run" / "stack.json").read_text())
        pids = {name: entry["pid"] for name, entry in state["pids"].items()}
        assert set(pids) == {"supervisord", "postgres", "kafka"}
        family = [psutil.Process(pid) for pid in pids.values()]
        family += psutil.Process(pids["supervisord"]).children(recursive=True)
        assert all(proc.is_running() for proc in family)

        again = stack_cli("up", "--services", "none", env=env)
        assert again.returncode == 0 and "already up" in again.stdout
        status = stack_cli("status", env=env)
        assert status.returncode == 0
        assert f"127.0.0.1:{kafka_port}" in status.stdout and f"127.0.0.1:{pg_port}" in status.stdout

        down = stack_cli("down", env=env)
        if down.returncode != 0:
            pytest.fail(f"down failed:\n{down.stdout}\n{down.stderr}", pytrace=False)
        _, alive = psutil.wait_procs(family, timeout=5)
        assert alive == [], f"left behind: {alive}"
        assert "nothing running" in stack_cli("down", env=env).stdout
        assert (home / "postgres" / "data" / "PG_VERSION").exists()  # data kept
    finally:
        stack_cli("down", env=env)


# ------------------------------------------------------------------------------ environment

ENV_DUMP = """
import json, os, time
print("ENV " + json.dumps(dict(os.environ)), flush=True)
time.sleep(600)
"""


@pytest.mark.stack
def test_services_get_the_absolute_home_and_deadlines_a_fast_tick_under_a_simulated_clock(tmp_path, monkeypatch):
    """Through a real supervisord: each program prints the environment it was given."""
    (tmp_path / "stand_in").mkdir()
    (tmp_path / "stand_in" / "envdump.py").write_text(ENV_DUMP)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "stand_in"))  # supervisord and its programs inherit it
    monkeypatch.delenv("BAOCAO_SCHEDULER_TICK_S", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = StackSettings.from_env(
        {"BAOCAO_HOME": "home", "BAOCAO_CLOCK": "simulated", "BAOCAO_CLOCK_SPEED": "86400"}
    )
    assert settings.home == tmp_path / "home"  # relative in the environment, absolute for the services
    services = ["intake", "deadlines"]
    programs = [
        program
        for program in build_programs(
            settings, libs=tmp_path / "libs", services=services, modules=dict.fromkeys(services, "envdump")
        )
        if program.name in services
    ]
    paths = sv.SupervisorPaths(settings.home)
    sv.write_config(paths, programs)
    pid = sv.start_daemon(paths)
    try:
        for name in services:
            sv.start_program(paths, name)
        envs: dict[str, dict] = {}
        deadline = time.monotonic() + 30
        while len(envs) < len(services) and time.monotonic() < deadline:
            for name in services:
                log = settings.log_file(name)
                for line in log.read_text().splitlines() if log.exists() else []:
                    if line.startswith("ENV "):
                        envs[name] = json.loads(line.removeprefix("ENV "))
            time.sleep(0.1)
    finally:
        sv.request_shutdown(paths)
        psutil.wait_procs([psutil.Process(pid)], timeout=30)
    assert set(envs) == set(services), f"no environment printed; logs in {settings.logs_dir}"
    for name in services:
        assert envs[name]["BAOCAO_HOME"] == str(tmp_path / "home")
        assert envs[name]["BAOCAO_CLOCK"] == "simulated"
    assert envs["deadlines"]["BAOCAO_SCHEDULER_TICK_S"] == "0.1"  # 2.4 simulated hours per tick at 86400
    assert "BAOCAO_SCHEDULER_TICK_S" not in envs["intake"]

    system = StackSettings.from_env({"BAOCAO_HOME": str(tmp_path / "home")})
    assert "BAOCAO_SCHEDULER_TICK_S" not in system.service_env("deadlines")  # deadlines keeps its own default
    by_hand = StackSettings.from_env({"BAOCAO_CLOCK": "simulated", "BAOCAO_SCHEDULER_TICK_S": "0.5"})
    assert by_hand.service_env("deadlines")["BAOCAO_SCHEDULER_TICK_S"] == "0.5"  # set by hand, it wins


# -------------------------------------------------------------------------------------- demo


def _recording_console() -> Console:
    return Console(record=True, width=200, highlight=False, color_system=None)


@pytest.mark.stack
async def test_demo_loads_the_provinces_and_accounts_once(own_tmp):
    """intake's admin CLI against a real PostgreSQL (no Kafka: the catalogue waits in intake's outbox)."""
    server = start_postgres(data_dir=own_tmp / "pg", port=free_port(), log_file=own_tmp / "pg.log")
    try:
        await wait_postgres_ready(server, timeout=30)
        await ensure_databases(server, ["intake"])
        settings = StackSettings(home=own_tmp / "home", pg_port=server.port)
        steps: list[str] = []
        console = _recording_console()
        first = await asyncio.to_thread(seed_demo, settings, console, steps.append)
        assert first.seeded and first.created > 0
        # Hải Dương, Hải Phòng (DEMO DATA) and the three generated provinces (DEMO DATA)
        assert first.operators == ["op-30", "op-31", "op-46", "op-75", "op-92"]
        assert first.reporters == ["31-CA", "31-UBND-X-NS"] and first.reporter_count >= 2  # in force today
        assert "nothing changed" not in console.export_text()

        console = _recording_console()
        again = await asyncio.to_thread(seed_demo, settings, console, steps.append)
        output = console.export_text()
        assert "nothing changed (the catalogue was loaded before)" in output
        assert "nothing changed (every demo account exists)" in output
        assert (again.created, again.reporter_count) == (0, first.reporter_count)
        assert steps[0].endswith("province file(s) from deploy/provinces") and steps[1] == "demo: accounts"
        assert "hd-467-2019" in output  # the past months, or that they were there already

        # After a MONTH=1 run the past months are left alone: they are what that run saw go by.
        settings.home.mkdir(parents=True, exist_ok=True)
        (settings.home / "simulated-clock.json").write_text('{"reached": "2027-01-27T00:00:00+00:00"}')
        console = _recording_console()
        await asyncio.to_thread(seed_demo, settings, console, steps.append)
        output = console.export_text()
        assert "skipped: this data has lived through simulated months (up to 2027-01-27)" in output
        assert "hd-467-2019" not in output
    finally:
        server.stop()


def test_demo_is_refused_in_production_and_how_to_says_so(tmp_path):
    settings = StackSettings(home=tmp_path, passthrough={"BAOCAO_ENV": "production"})
    console = _recording_console()
    outcome = seed_demo(settings, console, lambda step: None)  # refused before any subprocess or database
    assert not outcome.seeded
    assert "not seeded: BAOCAO_ENV=production refuses the demo accounts" in console.export_text()
    print_how_to(settings, ["intake", "notify"], outcome, console)
    text = console.export_text()
    assert "no demo: BAOCAO_ENV=production refuses the demo accounts" in text
    assert "password" not in text


def test_how_to_try_it_names_the_form_the_accounts_and_the_docs(tmp_path, monkeypatch):
    monkeypatch.delenv("BAOCAO_DEMO_PASSWORD", raising=False)
    settings = StackSettings(home=tmp_path, port_base=18000)
    demo = DemoOutcome(
        seeded=True, created=32, operators=["op-30"], reporters=["30-CA", "30-UBND-NS"], reporter_count=29
    )
    assert DemoOutcome.from_json(json.loads(json.dumps(demo.to_json()))) == demo  # kept in stack.json
    console = _recording_console()
    print_how_to(settings, list(SERVICES), demo, console)
    lines = [line.rstrip() for line in console.export_text().splitlines()]
    assert lines[1:6] == [
        "How to try it",
        "  web form   http://127.0.0.1:18001/dang-nhap",
        "  password   baocao-demo",
        "  accounts   admin, national, op-30",
        "  reporters  <province>-<unit>, e.g. 30-CA, 30-UBND-NS (29 reporter accounts)",
    ]
    assert "  API docs   intake         http://127.0.0.1:18001/docs" in lines
    assert "             notify         http://127.0.0.1:18004/docs" in lines
    assert (
        f"  mail       http://127.0.0.1:18005  (every mail notify sends lands here; folder {tmp_path / 'mail'})"
    ) in lines
    assert f"  logs       {tmp_path / 'logs'}" in lines
    # Then the walk-through, each step with its address and the account to use.
    steps = lines[lines.index("What to try (in a browser, with the password above)") + 1 :]
    assert [line.split()[0] for line in steps] == ["1.", "2.", "3.", "4.", "5.", "6.", "7.", "8."]
    assert steps[0].startswith("  1. http://127.0.0.1:18001/dang-nhap as 30-CA:")
    assert "http://127.0.0.1:18002/tien-do?province=30" in steps[1] and "op-30" in steps[1]
    assert "http://127.0.0.1:18004/thong-bao as op-30" in steps[6] and "http://127.0.0.1:18005" in steps[6]
    assert steps[3].startswith("  4. http://127.0.0.1:18001/bao-cao/nhap-ho as op-30:")
    assert steps[4].startswith("  5. as national: http://127.0.0.1:18002/tien-do/quoc-gia")
    assert "(Trả lại)" in steps[5]
    assert steps[7].startswith("  8. as admin: http://127.0.0.1:18002/he-thong")
