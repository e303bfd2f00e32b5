"""`baocao-stack up|down|status|clean|backup|restore`: the local stack behind `make up`, `make down`, ..."""

import dataclasses
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from . import backup as backups
from . import restore as restores
from . import running, stack
from .backup_kafka import KafkaBackupError
from .kafka_jars import KafkaStartError
from .ports import PortTakenError
from .postgres import PostgresStartError
from .settings import SERVICES, SettingsError, StackSettings
from .supervisor import SupervisorError

ENVIRONMENT_HELP = """
Settings (environment): BAOCAO_HOME (state folder, default .local in the repository),
BAOCAO_KAFKA_PORT (9092), BAOCAO_KAFKA_CONTROLLER_PORT (Kafka port + 1), BAOCAO_PG_PORT (5432),
BAOCAO_PORT_BASE (8000: intake +1, deadlines +2, consolidation +3, notify +4, the mail sink's page
+5), BAOCAO_SMTP_SINK_PORT (port base + 25: the mail sink's SMTP, where notify sends),
BAOCAO_PARTITIONS (3), BAOCAO_BROKERS (1; `up --brokers N` wins over it). With N brokers, node i
(1..N) listens on BAOCAO_KAFKA_PORT + 2(i-1) and its controller on BAOCAO_KAFKA_CONTROLLER_PORT +
2(i-1): by default 9092/9093, 9094/9095, 9096/9097 for three; every port is checked free first.
A cluster of N replicates each topic min(3, N) times (N for consumer offsets), with
min.insync.replicas=2 from three brokers on; its data is in kafka/cluster-N/broker-i and the
services get every broker in BAOCAO_KAFKA_BOOTSTRAP_SERVERS. Passed to every service:
BAOCAO_HOME (absolute), BAOCAO_CLOCK,
BAOCAO_CLOCK_START, BAOCAO_CLOCK_EPOCH (set to now once when BAOCAO_CLOCK=simulated and it is
unset), BAOCAO_CLOCK_SPEED, BAOCAO_ENV; to deadlines BAOCAO_SCHEDULER_TICK_S (0.1 with a
simulated clock unless set). The demo accounts' password: BAOCAO_DEMO_PASSWORD (baocao-demo).
"""

app = typer.Typer(
    help="Baocao's local stack: PostgreSQL, Kafka (KRaft) and the four services as processes under supervisord."
    + ENVIRONMENT_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Piped or under `make` without a terminal, rich would wrap at 80 columns; log lines read better long.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
KNOWN_ERRORS = (
    KafkaStartError,
    PostgresStartError,
    SupervisorError,
    PortTakenError,
    SettingsError,
    stack.StackError,
    backups.BackupError,
    KafkaBackupError,
)


def _settings() -> StackSettings:
    try:
        return StackSettings.from_env()
    except SettingsError as err:
        console.print(escape(str(err)), style="red")
        raise typer.Exit(2) from None


def _parse_services(value: str) -> list[str]:
    value = value.strip().lower()
    if value in ("all", ""):
        return list(SERVICES)
    if value == "none":
        return []
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in SERVICES]
    if unknown:
        raise typer.BadParameter(f"unknown {unknown}; choose from {', '.join(SERVICES)}, all or none")
    return [name for name in SERVICES if name in names]  # always in start order


def _parse_modules(values: list[str]) -> dict[str, str]:
    modules = {}
    for value in values:
        name, sep, module = value.partition("=")
        if not sep or name not in SERVICES or not module:
            raise typer.BadParameter(f"expected SERVICE=MODULE with SERVICE in {', '.join(SERVICES)}: {value!r}")
        modules[name] = module
    return modules


def _run(action) -> None:
    try:
        code = action()
    except KNOWN_ERRORS as err:
        console.print(escape(str(err)), style="red")
        code = 1
    raise typer.Exit(code)


@app.command()
def up(
    services: Annotated[str, typer.Option(help="Services to start: comma-separated names, 'all' or 'none'.")] = "all",
    module: Annotated[
        list[str],
        typer.Option(help="Run `python -m MODULE` for SERVICE=MODULE (a stand-in service).", hidden=True),
    ] = [],  # noqa: B006 - typer reads the default, never mutates it
    brokers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Kafka brokers: 1, or a KRaft cluster of N on loopback (default BAOCAO_BROKERS, else 1).",
        ),
    ] = None,
    ready_timeout: Annotated[float, typer.Option(help="Seconds each service has to answer /readyz.")] = 90.0,
    keep_on_failure: Annotated[bool, typer.Option(help="Leave processes running when up fails.")] = False,
    demo: Annotated[
        bool,
        typer.Option(help="With intake, load deploy/provinces/*.yaml and the demo accounts (never in production)."),
    ] = True,
    month: Annotated[
        bool,
        typer.Option(
            "--month",
            help="The demo month: every service on a simulated clock (BAOCAO_CLOCK_SPEED, default 3600) that starts "
            "shortly before the demo plan's next reminder, so its reminders, deadline, overdue mails and escalation "
            "come within minutes.",
        ),
    ] = False,
) -> None:
    """Start PostgreSQL and Kafka, create databases and topics, start the services, print the table."""
    settings = _settings()
    if brokers is not None:
        settings = dataclasses.replace(settings, brokers=brokers)
        try:
            settings.check_cluster()
        except SettingsError as err:
            console.print(escape(str(err)), style="red")
            raise typer.Exit(2) from None
    options = stack.UpOptions(
        services=_parse_services(services),
        modules=_parse_modules(module),
        ready_timeout=ready_timeout,
        keep_on_failure=keep_on_failure,
        demo=demo,
        month=month,
    )
    _run(lambda: stack.up(settings, options, console))


@app.command()
def down() -> None:
    """Stop everything `up` started (by pid); keep the data."""
    _run(lambda: running.down(_settings().home, console))


@app.command()
def status() -> None:
    """Print the components with address, pid, state and log (exit 1 if the stack is not up)."""
    _run(lambda: running.status(_settings().home, console))


@app.command()
def clean() -> None:
    """`down`, then delete BAOCAO_HOME (data, logs, Kafka jars)."""
    _run(lambda: running.clean(_settings().home, console))


@app.command()
def backup(
    folder: Annotated[Path, typer.Argument(help="A new (or empty) folder for the backup.")],
    online: Annotated[
        bool,
        typer.Option(help="Leave the services running (each piece a snapshot of itself, not one state of all)."),
    ] = False,
) -> None:
    """Back up the running stack: pg_dump of every service database, every topic's records with their keys, headers,
    timestamps and offsets, the consumer groups' offsets, a manifest with each file's sha256. The services are
    stopped meanwhile and started again."""
    _run(lambda: backups.backup(_settings(), folder, console, online=online))


@app.command()
def restore(folder: Annotated[Path, typer.Argument(help="A folder written by `baocao-stack backup`.")]) -> None:
    """Restore a backup into an empty stack up without services (`make clean && make up SERVICES=none DEMO=0`), then
    stop it: `make up DEMO=0` serves the restored data."""
    _run(lambda: restores.restore(_settings(), folder, console))


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
