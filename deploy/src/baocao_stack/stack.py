"""`up`, `down`, `status` and `clean` of the local stack in one BAOCAO_HOME.

`up` prepares the data (initdb, Kafka storage format) itself, then lets supervisord run every
program in the foreground: PostgreSQL and Kafka first, then the services once both answer.
"""

import asyncio
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import month as demo_month
from . import supervisor as sv
from .demo import DemoOutcome, print_how_to, province_files, seed_demo
from .kafka import KafkaBroker, kafka_command, prepare_cluster
from .kafka_admin import ensure_topics, reconcile_retention, wait_kafka_ready
from .kafka_jars import ensure_kafka_jars
from .paths import DEFAULT_HOME, REPO_ROOT
from .ports import PortTakenError, check_port_free, port_is_free
from .postgres import (
    PostgresServer,
    ensure_databases,
    init_data_dir,
    postgres_command,
    run_as_user,
    wait_postgres_ready,
)
from .procs import describe_exit
from .settings import DATABASES, KAFKA, MAILSINK, SERVICES, StackSettings
from .signing import ensure_demo_signing, province_issuing_bodies

HOME_MARKER = ".baocao-home"  # `clean` only deletes a folder that `up` made a home
STATE_FILE = "stack.json"
POSTGRES = "postgres"


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


# ----------------------------------------------------------------------------------- programs


def build_programs(
    settings: StackSettings,
    *,
    libs: Path,
    services: Sequence[str],
    modules: Mapping[str, str] | None = None,
) -> list[sv.Program]:
    """The supervisord programs of a stack: postgres, kafka (or kafka-1 .. kafka-N in the group kafka),
    the chosen services, and the mail sink when notify is among them."""
    modules = modules or {}
    programs = [
        sv.Program(
            name="postgres",
            command=postgres_command(settings.postgres_data, port=settings.pg_port),
            log_file=settings.log_file("postgres"),
            directory=settings.postgres_data,
            user=run_as_user(),
            priority=10,
            autorestart="unexpected",
            stopsignal="INT",  # fast shutdown; TERM would wait for every client to disconnect
            stopwaitsecs=30,
            stopasgroup=False,  # the postmaster stops its own children
        ),
    ]
    for name, node in settings.kafka_programs.items():
        data = settings.kafka_node_data(node)
        programs.append(
            sv.Program(
                name=name,
                command=kafka_command(libs, data / "server.properties"),
                log_file=settings.log_file(name),
                directory=data,
                priority=20,
                autorestart="unexpected",
                stopwaitsecs=30,
                exitcodes="0,143",  # 143: the JVM's exit status after SIGTERM
                group=KAFKA if settings.brokers > 1 else None,  # a cluster's brokers stop together
            )
        )
    for name in services:
        programs.append(
            sv.Program(
                name=name,
                command=[sys.executable, "-m", modules.get(name, name)],
                log_file=settings.log_file(name),
                directory=REPO_ROOT,
                environment=settings.service_env(name),
                priority=100,
                autorestart="true",
            )
        )
    if "notify" in services:
        programs.append(
            sv.Program(
                name=MAILSINK,
                command=[sys.executable, "-m", "baocao_stack.mailsink"],
                log_file=settings.log_file(MAILSINK),
                directory=REPO_ROOT,
                environment=settings.mailsink_env(),
                priority=90,  # stops after notify, so that its last mails still land
                autorestart="true",
            )
        )
    return programs


def infra_programs(settings: StackSettings) -> dict[str, str]:
    """PostgreSQL and each Kafka node: program name -> supervisord's name for it (its namespec)."""
    group = settings.brokers > 1
    return {POSTGRES: POSTGRES, **{name: f"{KAFKA}:{name}" if group else name for name in settings.kafka_programs}}


def programs_to_start(services: Sequence[str]) -> list[str]:
    """The programs `up` starts after PostgreSQL and Kafka: the mail sink first, then the services."""
    return ([MAILSINK] if "notify" in services else []) + list(services)


# -------------------------------------------------------------------------------------- state


def _state_path(home: Path) -> Path:
    return home / "run" / STATE_FILE


def save_state(
    settings: StackSettings,
    *,
    services: Sequence[str],
    pids: Mapping[str, int],
    demo: DemoOutcome | None = None,
    month: demo_month.DemoMonth | None = None,
) -> None:
    """What `status` and `down` need later: the settings used, and each pid with its start time
    (so a reused pid is never mistaken for ours); what the demo step did, and the demo month."""
    entries = {}
    for name, pid in pids.items():
        try:
            entries[name] = {"pid": pid, "create_time": psutil.Process(pid).create_time()}
        except psutil.NoSuchProcess:
            continue
    state = {"settings": settings.to_json(), "services": list(services), "pids": entries}
    if demo is not None:
        state["demo"] = demo.to_json()
    if month is not None:
        state["month"] = month.to_json()
    path = _state_path(settings.home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2))


def load_state(home: Path) -> dict | None:
    try:
        return json.loads(_state_path(home).read_text())
    except (FileNotFoundError, ValueError):
        return None


def _our_processes(state: dict | None) -> list[psutil.Process]:
    """The processes recorded in the state that still run (same pid *and* same start time)."""
    found = []
    for entry in (state or {}).get("pids", {}).values():
        try:
            proc = psutil.Process(entry["pid"])
            if abs(proc.create_time() - entry["create_time"]) < 0.01 and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue
    return found


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
    leftovers = _our_processes(load_state(settings.home))
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
        console.print(f"  {name} ready at {_address(settings, name)} ({time.monotonic() - started:.1f}s)")

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


# --------------------------------------------------------------------------------------- down


def down(home: Path, console: Console, *, timeout: float = 120) -> int:
    """Stop supervisord and everything it ran; keep the data."""
    paths = sv.SupervisorPaths(home)
    state = load_state(home)
    pid = sv.read_pid(paths)
    ours = _our_processes(state)
    if state is not None and home.exists():
        demo_month.remember_clock(StackSettings.from_json(state["settings"]))  # a later month starts after it
    if pid is None:
        if not ours:
            console.print(f"nothing running in {home}")
            return 0
        console.print(f"supervisord is gone, but {len(ours)} process(es) it ran remain; stopping them")
    else:
        try:
            ours.append(psutil.Process(pid))
            ours.extend(psutil.Process(pid).children(recursive=True))
        except psutil.NoSuchProcess:
            pass
    ours = list({proc.pid: proc for proc in ours}.values())
    started = time.monotonic()
    with console.status(f"stopping the stack in {home} (services, then Kafka, then PostgreSQL) ..."):
        if pid is not None and not sv.request_shutdown(paths):
            _signal(ours, "terminate", only=pid)
        if pid is None:
            _signal(ours, "terminate")
        _, alive = psutil.wait_procs(ours, timeout=timeout)
        for proc in alive:
            console.print(f"  [yellow]pid {proc.pid} did not stop; killing it[/yellow]")
            _signal([proc], "kill")
        psutil.wait_procs(alive, timeout=10)
    for stale in (paths.pidfile, paths.socket):
        stale.unlink(missing_ok=True)
    console.print(f"stopped in {time.monotonic() - started:.1f}s; data kept in {home} (`make clean` removes it)")
    return 0


def _signal(procs: Iterable[psutil.Process], how: str, only: int | None = None) -> None:
    for proc in procs:
        if only is not None and proc.pid != only:
            continue
        try:
            getattr(proc, how)()
        except psutil.NoSuchProcess:
            pass


def clean(home: Path, console: Console) -> int:
    """`down`, then delete BAOCAO_HOME (only a folder that `up` made a home, or the default one)."""
    down(home, console)
    if not home.exists():
        console.print(f"{home} does not exist; nothing to remove")
        return 0
    if home != DEFAULT_HOME and not (home / HOME_MARKER).exists():
        console.print(f"[red]refusing to delete {home}: it has no {HOME_MARKER} file from `up`[/red]")
        return 1
    shutil.rmtree(home)
    console.print(f"removed {home}")
    return 0


# ------------------------------------------------------------------------------------- status


def status(home: Path, console: Console, *, docs: bool = True) -> int:
    """Print the table of components (and the API docs unless `docs` is false). 1 when a program of
    a running stack is not RUNNING, else 0."""
    paths = sv.SupervisorPaths(home)
    state = load_state(home)
    pid = sv.read_pid(paths)
    if pid is None or state is None:
        console.print(f"nothing running in {home} (`make up` starts the stack)")
        return 0
    settings = StackSettings.from_json(state["settings"])
    try:
        infos = sv.process_info(paths)
    except OSError as err:
        console.print(f"[red]supervisord (pid {pid}) does not answer: {err}[/red]")
        return 1
    table = Table(title=f"Baocao local stack in {home}")
    for column in ("component", "address", "pid", "state", "log"):
        table.add_column(column, overflow="fold")
    table.add_row("supervisord", f"unix://{paths.socket}", str(pid), "RUNNING", str(paths.log_file))
    order = [*infra_programs(settings), *SERVICES, MAILSINK]
    healthy = True
    for name, info in sorted(infos.items(), key=lambda item: order.index(item[0]) if item[0] in order else 99):
        state_name = info["statename"]
        healthy = healthy and state_name in (sv.RUNNING, sv.STARTING)
        colour = {sv.RUNNING: "green", sv.STARTING: "yellow"}.get(state_name, "red")
        address = _address(settings, name)
        table.add_row(
            name, address, str(info["pid"] or "-"), f"[{colour}]{state_name}[/{colour}]", info["stdout_logfile"]
        )
    console.print(table)
    console.print(f"databases: {settings.database_url('<name>')} with <name> in {', '.join(DATABASES)}")
    services = [name for name in order if name in infos and name in SERVICES]
    if services and docs:
        console.print("API docs:")
        for name in services:
            console.print(f"  {name:<14} {settings.service_url(name)}/docs")
    console.print(f"supervisorctl: uv run supervisorctl -c {paths.config} status")
    if settings.passthrough:
        console.print("passed to services: " + ", ".join(f"{k}={v}" for k, v in settings.passthrough.items()))
    if (simulated := demo_month.simulated_now(settings)) is not None:
        timezone = (state.get("month") or {}).get("timezone", "UTC")
        console.print(f"simulated clock now: {demo_month.local(simulated, timezone)} ({timezone})")
    return 0 if healthy else 1


def _address(settings: StackSettings, name: str) -> str:
    if name == "postgres":
        return f"127.0.0.1:{settings.pg_port}"
    if name in (kafka := settings.kafka_programs):
        node = kafka[name]
        return f"{node.address} (controller {node.controller_port})" if settings.brokers > 1 else node.address
    if name == MAILSINK:
        return f"{settings.mail_url} (SMTP 127.0.0.1:{settings.smtp_sink_port})"
    return settings.service_url(name)
