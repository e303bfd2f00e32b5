"""supervisord for the local stack: its config file, starting the daemon, and talking to it.

One supervisord per BAOCAO_HOME runs every program (postgres, kafka, the services) in the
foreground, so it knows their pids; its pidfile, socket, config and logs stay under BAOCAO_HOME.
"""

import hashlib
import os
import re
import shlex
import subprocess
import sys
import tempfile
import xmlrpc.client
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from supervisor.xmlrpc import SupervisorTransport

from .procs import describe_exit, wait_until

SOCKET_PATH_MAX = 100  # AF_UNIX paths must fit in 108 bytes

# supervisord's states of a program (supervisor.states.ProcessStates).
RUNNING = "RUNNING"
STARTING = "STARTING"  # spawned, not yet up for startsecs
FAILED_STATES = frozenset({"EXITED", "FATAL", "BACKOFF", "UNKNOWN"})


class SupervisorError(RuntimeError):
    """supervisord could not be started or reached, or refused a request."""


@dataclass
class Program:
    """One [program:x] section."""

    name: str
    command: Sequence[str]
    log_file: Path
    directory: Path
    environment: Mapping[str, str] = field(default_factory=dict)
    user: str | None = None
    priority: int = 100
    autorestart: str = "true"  # "true", "false" or "unexpected"
    stopsignal: str = "TERM"
    stopwaitsecs: int = 15
    stopasgroup: bool = True
    exitcodes: str = "0"  # exit statuses that count as expected
    # Programs of one group stop together (supervisord signals a group's programs at once, and one
    # group after another): the brokers of a cluster, which one by one would wait for a lost quorum.
    group: str | None = None

    @property
    def namespec(self) -> str:
        """How supervisord's XML-RPC names it: "name", or "group:name" inside a group."""
        return f"{self.group}:{self.name}" if self.group else self.name


@dataclass(frozen=True)
class SupervisorPaths:
    home: Path

    @property
    def config(self) -> Path:
        return self.home / "supervisord.conf"

    @property
    def pidfile(self) -> Path:
        return self.home / "run" / "supervisord.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "supervisord.log"

    @property
    def socket(self) -> Path:
        """`<home>/run/supervisor.sock`, or a short path under the temp folder when that is too long."""
        path = self.home / "run" / "supervisor.sock"
        if len(str(path)) <= SOCKET_PATH_MAX:
            return path
        digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"baocao-{digest}" / "supervisor.sock"


# ------------------------------------------------------------------------------------- config

_UNSAFE = re.compile(r"[\n\r]|\s[;#]")


def _conf_value(value: str, what: str) -> str:
    """A value as supervisord's config parser reads it back: `%` doubled (interpolation); no line
    breaks and no " ;" or " #" (the parser would take them for comments)."""
    if _UNSAFE.search(value):
        raise SupervisorError(f"{what} cannot go into supervisord.conf: {value!r}")
    return value.replace("%", "%%")


def _env_value(key: str, value: str) -> str:
    """Quote one environment value for supervisord's `environment=` (a non-POSIX shlex: no escapes,
    a quoted token ends at the same quote, and quote characters at either end are stripped)."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        raise SupervisorError(f"not an environment variable name: {key!r}")
    quote = "'" if '"' in value else '"'
    if quote in value or (value and (value[0] in "'\"" or value[-1] in "'\"")):
        raise SupervisorError(f"{key}={value!r} cannot be passed through supervisord")
    return f"{key}={quote}{_conf_value(value, key)}{quote}"


def render_config(paths: SupervisorPaths, programs: Sequence[Program], *, identifier: str) -> str:
    """The text of supervisord.conf for `programs` (none starts by itself: `up` starts them in order)."""
    lines = [
        "; Written by `baocao-stack up`; rewritten at every start.",
        "[unix_http_server]",
        f"file={_conf_value(str(paths.socket), 'socket')}",
        "chmod=0700",
        "",
        "[supervisord]",
        f"logfile={_conf_value(str(paths.log_file), 'log file')}",
        "logfile_maxbytes=10MB",
        "logfile_backups=2",
        f"pidfile={_conf_value(str(paths.pidfile), 'pidfile')}",
        f"childlogdir={_conf_value(str(paths.log_file.parent), 'log folder')}",
        f"directory={_conf_value(str(paths.home), 'home')}",
        f"identifier={_conf_value(identifier, 'identifier')}",
        "nodaemon=false",
        "loglevel=info",
        "minfds=4096",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{_conf_value(str(paths.socket), 'socket')}",
        "",
    ]
    for program in programs:
        lines += [
            f"[program:{program.name}]",
            f"command={_conf_value(shlex.join(program.command), program.name + ' command')}",
            f"directory={_conf_value(str(program.directory), 'directory')}",
            "autostart=false",
            f"autorestart={program.autorestart}",
            # A program that exits within startsecs is retried (startretries) and then left FATAL,
            # instead of restarting forever when, say, its migrations fail.
            "startsecs=5",
            "startretries=3",
            f"priority={program.priority}",
            f"stopsignal={program.stopsignal}",
            f"stopwaitsecs={program.stopwaitsecs}",
            f"exitcodes={program.exitcodes}",
            f"stopasgroup={'true' if program.stopasgroup else 'false'}",
            "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={_conf_value(str(program.log_file), 'log file')}",
            "stdout_logfile_maxbytes=50MB",
            "stdout_logfile_backups=2",
        ]
        if program.user:
            lines.append(f"user={program.user}")
        if program.environment:
            pairs = ",".join(_env_value(k, v) for k, v in program.environment.items())
            lines.append(f"environment={pairs}")
        lines.append("")
    groups: dict[str, list[Program]] = {}
    for program in programs:
        if program.group:
            groups.setdefault(program.group, []).append(program)
    for group, members in groups.items():
        lines += [
            f"[group:{group}]",
            f"programs={','.join(member.name for member in members)}",
            f"priority={min(member.priority for member in members)}",
            "",
        ]
    return "\n".join(lines)


def write_config(paths: SupervisorPaths, programs: Sequence[Program]) -> Path:
    paths.config.parent.mkdir(parents=True, exist_ok=True)
    paths.pidfile.parent.mkdir(parents=True, exist_ok=True)
    paths.log_file.parent.mkdir(parents=True, exist_ok=True)
    paths.socket.parent.mkdir(parents=True, exist_ok=True)
    identifier = "baocao-" + hashlib.sha256(str(paths.home).encode()).hexdigest()[:8]
    paths.config.write_text(render_config(paths, programs, identifier=identifier))
    return paths.config


# ------------------------------------------------------------------------------------ daemon


def rpc(paths: SupervisorPaths) -> xmlrpc.client.ServerProxy:
    """An XML-RPC proxy to supervisord over its Unix socket (what supervisorctl uses)."""
    transport = SupervisorTransport(None, None, f"unix://{paths.socket}")
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def read_pid(paths: SupervisorPaths) -> int | None:
    """The pid in supervisord's pidfile if that process is alive and is our supervisord."""
    try:
        pid = int(paths.pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    import psutil

    try:
        proc = psutil.Process(pid)
        cmdline = " ".join(proc.cmdline())
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
    except psutil.Error:
        return None
    if "supervisord" not in cmdline or str(paths.config) not in cmdline:
        return None  # the pid was reused by something else
    return pid


def is_answering(paths: SupervisorPaths) -> bool:
    try:
        return rpc(paths).supervisor.getState()["statename"] == "RUNNING"
    except (OSError, xmlrpc.client.Error):
        return False


def start_daemon(paths: SupervisorPaths, *, timeout: float = 20) -> int:
    """Run supervisord (it daemonizes itself); wait until it answers. Returns its pid."""
    result = subprocess.run(
        [sys.executable, "-m", "supervisor.supervisord", "-c", str(paths.config)],
        capture_output=True,
        text=True,
        check=False,
        cwd=paths.home,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    if result.returncode != 0:
        raise SupervisorError(f"supervisord refused to start:\n{result.stdout}{result.stderr}")
    if not wait_until(lambda: is_answering(paths) and read_pid(paths) is not None, timeout):
        raise SupervisorError(describe_exit(paths.log_file, f"supervisord did not answer within {timeout:.0f}s"))
    pid = read_pid(paths)
    assert pid is not None
    return pid


def process_info(paths: SupervisorPaths) -> dict[str, dict]:
    """supervisord's view of every program: name -> {statename, pid, stdout_logfile, ...}."""
    return {info["name"]: info for info in rpc(paths).supervisor.getAllProcessInfo()}


def start_program(paths: SupervisorPaths, name: str) -> None:
    try:
        rpc(paths).supervisor.startProcess(name, False)
    except xmlrpc.client.Fault as fault:
        raise SupervisorError(f"supervisord could not start {name}: {fault.faultString}") from None


def program_pid(paths: SupervisorPaths, name: str, timeout: float = 10) -> int:
    """The pid of a program once supervisord has spawned it."""
    found: dict[str, int] = {}

    def spawned() -> bool:
        info = rpc(paths).supervisor.getProcessInfo(name)
        if info["statename"] in FAILED_STATES:
            what = f"{name} could not start ({info['spawnerr'] or info['statename']})"
            raise SupervisorError(describe_exit(Path(info["stdout_logfile"]), what))
        if info["pid"]:
            found["pid"] = info["pid"]
            return True
        return False

    if not wait_until(spawned, timeout):
        raise SupervisorError(f"supervisord did not spawn {name} within {timeout:.0f}s")
    return found["pid"]


def request_shutdown(paths: SupervisorPaths) -> bool:
    """Ask supervisord to stop every program and exit. False when it does not answer."""
    try:
        rpc(paths).supervisor.shutdown()
    except (OSError, xmlrpc.client.Error):
        return False
    return True
