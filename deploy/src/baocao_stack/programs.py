"""The programs supervisord runs for a stack (PostgreSQL, the Kafka nodes, the services, the mail sink), in the
order `up` starts them, and where each answers."""

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import supervisor as sv
from .kafka import kafka_command
from .paths import REPO_ROOT
from .postgres import postgres_command, run_as_user
from .settings import KAFKA, MAILSINK, StackSettings

POSTGRES = "postgres"


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


def address(settings: StackSettings, name: str) -> str:
    """Where a program of the stack answers, as `up` and `status` print it."""
    if name == "postgres":
        return f"127.0.0.1:{settings.pg_port}"
    if name in (kafka := settings.kafka_programs):
        node = kafka[name]
        return f"{node.address} (controller {node.controller_port})" if settings.brokers > 1 else node.address
    if name == MAILSINK:
        return f"{settings.mail_url} (SMTP 127.0.0.1:{settings.smtp_sink_port})"
    return settings.service_url(name)
