"""`up` of the local stack in one BAOCAO_HOME (`down`, `status` and `clean` are running.py's; the programs
supervisord runs are programs.py's).

`up` prepares the data (initdb, Kafka storage format) itself, then lets supervisord run every
program in the foreground: PostgreSQL and Kafka first, then the services once both answer.
"""

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rich.console import Console
from rich.markup import escape

from . import month as demo_month
from . import supervisor as sv
from .demo import DemoOutcome, print_how_to, province_files, seed_demo
from .kafka import KafkaBroker, prepare_cluster
from .kafka_admin import ensure_topics, reconcile_retention, wait_kafka_ready
from .kafka_jars import ensure_kafka_jars
from .ports import PortTakenError, check_port_free, port_is_free
from .postgres import (
    PostgresServer,
    ensure_databases,
    init_data_dir,
    wait_postgres_ready,
)
from .procs import describe_exit
from .programs import address, build_programs, infra_programs, programs_to_start
from .running import HOME_MARKER, down, load_state, our_processes, save_state, status
from .settings import DATABASES, MAILSINK, SERVICES, StackSettings
from .signing import ensure_demo_signing, province_issuing_bodies


class StackError(RuntimeError):
    """`up` could not bring the stack up."""


@dataclass
class UpOptions:
    services: Sequence[str] = tuple(SERVICES)
    modules: Mapping[str, str] = field(default_factory=dict)  # service -> python module to run
    ready_timeout: float = 90.0
    keep_on_failure: bool = False
    demo: bool = True  # load the province files and the demo accounts when intake runs
    month: bool = False  # run the demo month: a simulated clock from just before the next reminder


# ----------------------------------------------------------------------------------------- up


def check_ports(settings: StackSettings, services: Iterable[str]) -> None:
    check_port_free(settings.pg_port, "BAOCAO_PG_PORT")
    if settings.brokers == 1:
        check_port_free(settings.kafka_port, "BAOCAO_KAFKA_PORT")
        check_port_free(settings.controller_port, "BAOCAO_KAFKA_CONTROLLER_PORT")
    else:
        broker, controller = "BAOCAO_KAFKA_PORT", "BAOCAO_KAFKA_CONTROLLER_PORT"
        bases = {broker: settings.kafka_port, controller: settings.controller_port}
        for node in settings.kafka_programs.values():
            for port, setting in ((node.port, broker), (node.controller_port, controller)):
                if not port_is_free(port):
                    raise PortTakenError(
                        f"port {port} (Kafka node {node.node_id} of {settings.brokers}) is taken; set {setting} to "
                        f"another base (now {bases[setting]}; node i uses base + 2(i-1))"
                    )
    for name in services:
        port = settings.service_port(name)
        if not port_is_free(port):
            raise PortTakenError(
                f"port {port} ({name}) is taken; set BAOCAO_PORT_BASE to another base "
                f"(now {settings.port_base}; the services use base+1 to base+4)"
            )
    if "notify" in services:
        if not port_is_free(settings.mail_port):
            raise PortTakenError(
                f"port {settings.mail_port} (the mail sink's page) is taken; set BAOCAO_PORT_BASE to another "
                f"base (now {settings.port_base}; the page uses base+5)"
            )
        check_port_free(settings.smtp_sink_port, "BAOCAO_SMTP_SINK_PORT")


def up(settings: StackSettings, options: UpOptions, console: Console) -> int:
    """Bring the stack up; return the exit code."""
    paths = sv.SupervisorPaths(settings.home)
    if sv.read_pid(paths) is not None:
        console.print(f"The stack in {settings.home} is already up (to change what runs: `make down`, then `make up`).")
        code = _status_and_how_to(settings.home, console)
        if options.month and not (load_state(settings.home) or {}).get("month"):
            console.print(
                "[yellow]MONTH=1 is not applied: the clock is fixed when the services start. "
                "`make down`, then `make up MONTH=1`.[/yellow]"
            )
            return 1
        return code
    leftovers = our_processes(load_state(settings.home))
    if leftovers:
        raise StackError(
            f"supervisord of {settings.home} is gone but processes it ran are still there "
            f"(pids {', '.join(str(proc.pid) for proc in leftovers)}); `make down` stops them"
        )

    started = time.monotonic()
    step = _stepper(console, started)
    unknown = [name for name in options.services if name not in SERVICES]
    if unknown:
        raise StackError(f"unknown service(s) {unknown}; choose from {list(SERVICES)}")
    plan = _month_plan(settings) if options.month else None
    check_ports(settings, options.services)
    settings.home.mkdir(parents=True, exist_ok=True)
    (settings.home / HOME_MARKER).touch()
    settings.logs_dir.mkdir(parents=True, exist_ok=True)

    step("Kafka jars")
    libs = ensure_kafka_jars(settings.home, say=lambda line: console.print(f"  {line}"))
    step("PostgreSQL data")
    if init_data_dir(settings.postgres_data):
        console.print(f"  initialised a new cluster in {settings.postgres_data}")
    else:
        console.print(f"  reusing {settings.postgres_data}")
    step("Kafka storage" if settings.brokers == 1 else f"Kafka storage of {settings.brokers} brokers")
    prepare_storage(settings, libs, console)

    month = None
    if plan is not None:
        # Fixed now, when only the services and the demo data are left to start (LEAD_S covers them).
        month = demo_month.choose_month(
            plan,
            epoch=datetime.now(UTC),
            not_before=demo_month.simulated_reached(settings.home),
            speed=demo_month.speed_of(settings),
        )
        settings = demo_month.with_month(settings, month)
        step(f"demo month: period {month.period} of {month.plan_id}")
        console.print(
            f"  simulated clock from {demo_month.local(month.start, month.timezone)} ({month.timezone}), "
            f"{month.speed:g} simulated seconds per real second"
        )
    if "consolidation" in options.services:
        prepare_signing(settings, console, step)
    programs = build_programs(settings, libs=libs, services=options.services, modules=options.modules)
    sv.write_config(paths, programs)
    step("supervisord")
    supervisord_pid = sv.start_daemon(paths)
    pids = {"supervisord": supervisord_pid}
    save_state(settings, services=options.services, pids=pids, month=month)
    console.print(f"  running (pid {supervisord_pid}), config {paths.config}")
    demo = None
    try:
        _bring_up(settings, options, paths, pids, console, step)
        if "intake" in options.services:
            publish = {"deadlines", "consolidation"} <= set(options.services)
            demo = (
                seed_demo(settings, console, step, publish=publish)
                if options.demo
                else DemoOutcome(False, "skipped (DEMO=0)")
            )
    except BaseException as err:
        save_state(settings, services=options.services, pids=pids, month=month)
        if isinstance(err, KeyboardInterrupt):
            console.print("[yellow]interrupted[/yellow]")
        else:
            console.print("[red]up failed:[/red]", escape(str(err)))
        if options.keep_on_failure:
            console.print(f"Left running for a look; `make down` stops it. Logs: {settings.logs_dir}")
        else:
            console.print(f"Stopping what started (logs stay in {settings.logs_dir}) ...")
            down(settings.home, console)
        return 1
    save_state(settings, services=options.services, pids=pids, demo=demo, month=month)
    console.print(f"[green]Stack up in {time.monotonic() - started:.1f}s[/green]")
    return _status_and_how_to(settings.home, console)


def prepare_storage(settings: StackSettings, libs: Path, console: Console) -> None:
    """Write each Kafka node's server.properties; format its storage the first time, all of a
    cluster's nodes at once and with one cluster id."""
    nodes = settings.kafka_programs.values()
    data_dirs = {node.node_id: settings.kafka_node_data(node) for node in nodes}
    formatted_before = {i: (data / "kraft" / "meta.properties").exists() for i, data in data_dirs.items()}
    prepare_cluster(libs, settings.kafka_cluster, data_dirs, partitions=settings.partitions)
    for i, data in data_dirs.items():
        console.print(f"  {'reusing' if formatted_before[i] else 'formatted'} {data}")


def prepare_signing(settings: StackSettings, console: Console, step: Callable[[str], None]) -> None:
    """The demo signing keys of every province file (kept when they exist): consolidation signs the issued
    report with them. Production brings its own keys; the launcher makes none there."""
    if settings.passthrough.get("BAOCAO_ENV") == "production":
        return
    bodies = province_issuing_bodies(province_files())
    step(f"demo signing keys: {', '.join(sorted(bodies)) or 'no province'}")
    made = ensure_demo_signing(settings.signing_dir, bodies)
    console.print(f"  {made.folder} (CA {made.ca.name}, passphrase in {made.passphrase_file.name})")


def _month_plan(settings: StackSettings) -> demo_month.DemoPlan:
    if settings.passthrough.get("BAOCAO_ENV") == "production":
        raise StackError("MONTH=1 runs a simulated clock, which BAOCAO_ENV=production refuses")
    try:
        return demo_month.demo_plan(province_files())
    except demo_month.MonthError as err:
        raise StackError(str(err)) from None


def _status_and_how_to(home: Path, console: Console) -> int:
    """The table, then "How to try it" (which lists the API docs) when services run."""
    state = load_state(home) or {}
    services = state.get("services") or []
    code = status(home, console, docs=not services)
    if services and sv.read_pid(sv.SupervisorPaths(home)) is not None:
        demo = DemoOutcome.from_json(state["demo"]) if state.get("demo") else None
        month = demo_month.DemoMonth.from_json(state["month"]) if state.get("month") else None
        reached = None if month else demo_month.simulated_reached(home)
        print_how_to(StackSettings.from_json(state["settings"]), services, demo, console, month=month, reached=reached)
    return code


def _stepper(console: Console, started: float) -> Callable[[str], None]:
    def step(what: str) -> None:
        console.print(f"[bold cyan]==>[/bold cyan] {what} [dim]({time.monotonic() - started:.1f}s)[/dim]")

    return step


def _bring_up(
    settings: StackSettings,
    options: UpOptions,
    paths: sv.SupervisorPaths,
    pids: dict[str, int],
    console: Console,
    step: Callable[[str], None],
) -> None:
    step(f"starting PostgreSQL on 127.0.0.1:{settings.pg_port} and Kafka on {settings.kafka_bootstrap}")
    for name, namespec in infra_programs(settings).items():
        sv.start_program(paths, namespec)
        pids[name] = sv.program_pid(paths, namespec)
    save_state(settings, services=options.services, pids=pids)
    server = PostgresServer.attach(
        pids["postgres"], port=settings.pg_port, data_dir=settings.postgres_data, log_file=settings.log_file("postgres")
    )
    brokers = [
        KafkaBroker.attach(pids[name], bootstrap=node.address, log_file=settings.log_file(name))
        for name, node in settings.kafka_programs.items()
    ]
    with console.status("waiting for PostgreSQL and Kafka to answer ..."):
        asyncio.run(_infra_ready(server, brokers, console))
    cluster = settings.kafka_cluster
    replicas = f", {cluster.replication_factor} replicas" if cluster.size > 1 else ""
    step(f"databases {', '.join(DATABASES)} and topics ({settings.partitions} partitions{replicas})")
    created_dbs = asyncio.run(ensure_databases(server, DATABASES))
    created_topics = asyncio.run(
        ensure_topics(
            settings.kafka_bootstrap,
            partitions=settings.partitions,
            replication_factor=cluster.replication_factor,
            retention_ms=settings.topic_retention_ms,
        )
    )
    retained = asyncio.run(reconcile_retention(settings.kafka_bootstrap, retention_ms=settings.topic_retention_ms))
    console.print(f"  databases created: {', '.join(created_dbs) or 'none (all existed)'}")
    console.print(f"  topics created: {', '.join(created_topics) or 'none (all existed)'}")
    if retained:
        console.print(f"  retention.ms={settings.topic_retention_ms} set on: {', '.join(retained)}")
    if not options.services:
        return
    names = programs_to_start(options.services)
    step(f"starting {', '.join(names)}")
    for name in names:
        sv.start_program(paths, name)
        pids[name] = sv.program_pid(paths, name)
    save_state(settings, services=options.services, pids=pids)
    with console.status("waiting for every service's /readyz ..."):
        asyncio.run(_services_ready(settings, options, paths, pids, console))


async def _infra_ready(server: PostgresServer, brokers: list[KafkaBroker], console: Console) -> None:
    started = time.monotonic()

    async def one(what: str, waiting) -> None:
        await waiting
        console.print(f"  {what} ready ({time.monotonic() - started:.1f}s)")

    await asyncio.gather(
        one(f"PostgreSQL on port {server.port}", wait_postgres_ready(server, timeout=60)),
        *(
            one(f"Kafka at {broker.bootstrap}", wait_kafka_ready(broker, timeout=120, brokers=len(brokers)))
            for broker in brokers
        ),
    )


async def _services_ready(
    settings: StackSettings,
    options: UpOptions,
    paths: sv.SupervisorPaths,
    pids: Mapping[str, int],
    console: Console,
) -> None:
    started = time.monotonic()

    async def one(name: str) -> None:
        url = settings.mail_url if name == MAILSINK else settings.service_url(name)
        await wait_service_ready(
            paths, name, url, settings.log_file(name), pid=pids[name], timeout=options.ready_timeout
        )
        console.print(f"  {name} ready at {address(settings, name)} ({time.monotonic() - started:.1f}s)")

    await asyncio.gather(*(one(name) for name in programs_to_start(options.services)))


async def wait_service_ready(
    paths: sv.SupervisorPaths, name: str, url: str, log_file: Path, *, pid: int, timeout: float = 90
) -> None:
    """Poll `<url>/readyz` until it answers 200; fail with the log's tail if process `pid` stops
    (supervisord may already have restarted it under another pid). The mail sink's /readyz answers
    200 once its SMTP port greets too."""
    deadline = time.monotonic() + timeout
    last: object = "no answer yet"
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            info = await asyncio.to_thread(lambda: sv.rpc(paths).supervisor.getProcessInfo(name))
            if info["statename"] in sv.FAILED_STATES or info["pid"] != pid:
                what = f"{name} (pid {pid}) exited (supervisord: {info['statename']} {info['description']})"
                raise StackError(describe_exit(log_file, what))
            try:
                response = await client.get(f"{url}/readyz")
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.HTTPError as err:
                last = repr(err)
            if time.monotonic() >= deadline:
                raise StackError(describe_exit(log_file, f"{name} not ready after {timeout:.0f}s (last: {last})"))
            await asyncio.sleep(0.2)  # poll interval
