"""A started stack as `down`, `status` and `clean` find it: the state file `up` writes (the settings used, each
pid with its start time, what the demo did), and those three commands."""

import json
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

from . import month as demo_month
from . import supervisor as sv
from .demo import DemoOutcome
from .paths import DEFAULT_HOME
from .programs import address, infra_programs
from .settings import DATABASES, MAILSINK, SERVICES, StackSettings

HOME_MARKER = ".baocao-home"  # `clean` only deletes a folder that `up` made a home
STATE_FILE = "stack.json"


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


def our_processes(state: dict | None) -> list[psutil.Process]:
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


# --------------------------------------------------------------------------------------- down


def down(home: Path, console: Console, *, timeout: float = 120) -> int:
    """Stop supervisord and everything it ran; keep the data."""
    paths = sv.SupervisorPaths(home)
    state = load_state(home)
    pid = sv.read_pid(paths)
    ours = our_processes(state)
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
        shown = f"[{colour}]{state_name}[/{colour}]"
        table.add_row(name, address(settings, name), str(info["pid"] or "-"), shown, info["stdout_logfile"])
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
