"""The four services as real processes, for tests that use nothing but their HTTP APIs (e2e and faults).

`await services.start(at=...)` runs intake, deadlines, consolidation and notify with `python -m <service>` on
free loopback ports, each on a fresh database of the given PostgreSQL and on the given Kafka,
all reading one file clock (BAOCAO_CLOCK=file) that the test moves with `stack.set_clock(...)`.
notify mails an aiosmtpd server run here (`stack.mailbox`). Logs go to `<home>/logs/<name>.log`.
consolidation signs published reports with a throwaway key (`<home>/signing`, the same for every province,
its certificate named for Hải Dương's issuing body); `stack.signing_ca()` is the CA that validates it.

For fault tests: `kill(name)` SIGKILLs one process (a crash), `restart(name)` starts it again on its
database and port, `start_instance(service, name)` runs one more instance of a service on the same
database (another port), `stop_instance(name)` stops it with SIGTERM. Every process is stopped by its
pid in `stop()`.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509

from baocao_shared.clock import write_clock_file
from baocao_stack.ports import free_port, free_ports
from baocao_stack.procs import Proc, describe_exit
from baocao_testing.fixtures import create_database
from baocao_testing.kit import SmtpMailbox, fresh_group_prefix
from baocao_testing.signing import PROVINCE as SIGNING_PROVINCE
from baocao_testing.signing import DemoSigning, throwaway_signing

SERVICES = ("intake", "deadlines", "consolidation", "notify")
READY_TIMEOUT_S = 120  # four interpreters importing and migrating at once on two busy cores
STOP_TIMEOUT_S = 15  # then SIGKILL
# Small real intervals: the file clock stands still, so these only bound how soon an effect follows a step.
TUNING = {
    "all": {"BAOCAO_OUTBOX_POLL_INTERVAL_S": "0.2"},
    "deadlines": {"BAOCAO_SCHEDULER_TICK_S": "0.2"},
    "notify": {"BAOCAO_SENDER_TICK_S": "0.1", "BAOCAO_RETRY_INITIAL_S": "0.5", "BAOCAO_SMTP_HOST": "127.0.0.1"},
}


@dataclass
class Stack:
    urls: dict[str, str]
    clock_file: Path
    mailbox: SmtpMailbox
    env: dict[str, dict[str, str]]
    logs: Path
    signing: DemoSigning

    def signing_ca(self) -> asn1_x509.Certificate:
        """The CA of consolidation's signing key, as pyHanko's ValidationContext(trust_roots=[...]) takes it."""
        _, _, der = asn1_pem.unarmor(self.signing.ca.read_bytes())
        return asn1_x509.Certificate.load(der)

    def set_clock(self, at: datetime) -> None:
        """Every service reads this instant from its next `now()` on."""
        write_clock_file(self.clock_file, at)

    def intake_cli(self, *args: str) -> str:
        """`baocao-intake ARGS` against intake's database, as an operator runs it on the server."""
        done = subprocess.run(
            [sys.executable, "-m", "intake.cli", *args],
            env=self.env["intake"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"baocao-intake {' '.join(args)}: {done.stderr[-2000:]}"
        return done.stdout


@dataclass
class Services:
    postgres: object
    kafka: object
    home: Path
    procs: dict[str, Proc] = field(default_factory=dict)
    smtp: Controller | None = None
    stack: Stack | None = None
    _envs: dict[str, dict[str, str]] = field(default_factory=dict)  # by process name
    _modules: dict[str, str] = field(default_factory=dict)  # process name -> service module

    async def start(
        self,
        *,
        at: datetime,
        env: dict[str, dict[str, str]] | None = None,
        intake_setup: list[list[str]] = (),
        consumer_group_prefix: str | None = None,
    ) -> Stack:
        """Start the four services with the clock at `at`; `env` adds settings per service name. Their consumer
        groups are `consumer_group_prefix`'s, by default new ones that start at the end of their topics.

        `intake_setup` lists `baocao-intake` commands run on intake's database first, as an operator
        prepares a server (the first admin account comes from `accounts seed-demo`)."""
        clock_file, logs = self.home / "clock", self.home / "logs"
        consumer_group_prefix = consumer_group_prefix or await fresh_group_prefix(self.kafka.bootstrap, tag="e2e")
        write_clock_file(clock_file, at)
        *ports, smtp_port = free_ports(len(SERVICES) + 1)
        mailbox = SmtpMailbox()
        self.smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
        self.smtp.start()
        urls = {name: f"http://127.0.0.1:{port}" for name, port in zip(SERVICES, ports, strict=True)}
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("BAOCAO_") and k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")
        }
        common = {
            "BAOCAO_ENV": "test",
            "BAOCAO_HOME": str(self.home),  # intake's development signing key
            "BAOCAO_HTTP_HOST": "127.0.0.1",
            "BAOCAO_KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap,
            # the broker may be the session's: groups of this run's own
            "BAOCAO_CONSUMER_GROUP_PREFIX": consumer_group_prefix,
            "BAOCAO_SERVICE_URLS": json.dumps(urls),
            "BAOCAO_CLOCK": "file",
            "BAOCAO_CLOCK_FILE": str(clock_file),
            "PYTHONUNBUFFERED": "1",
            **TUNING["all"],
        }
        signing = throwaway_signing(self.home / "signing")  # kept across starts in this home
        signing_env = {
            # one key for every test province (their files copy Hải Dương's), as BAOCAO_SIGNING_PKCS12 allows
            "BAOCAO_SIGNING_PKCS12": str(signing.pkcs12(SIGNING_PROVINCE)),
            "BAOCAO_SIGNING_PASSPHRASE_FILE": str(signing.passphrase_file),
            "BAOCAO_SIGNING_TRUST_ROOTS": str(signing.ca),
        }
        envs = {}
        for name, port in zip(SERVICES, ports, strict=True):
            envs[name] = {
                **inherited,
                **common,
                "BAOCAO_HTTP_PORT": str(port),
                # empty: each service migrates its own at start, as it does in production
                "BAOCAO_DATABASE_URL": await create_database(self.postgres, name, migrated=False),
                **({"BAOCAO_SMTP_PORT": str(smtp_port)} if name == "notify" else {}),
                **(signing_env if name == "consolidation" else {}),
                **TUNING.get(name, {}),
                **(env or {}).get(name, {}),
            }
        self.stack = stack = Stack(
            urls=urls, clock_file=clock_file, mailbox=mailbox, env=envs, logs=logs, signing=signing
        )
        for command in intake_setup:
            await asyncio.to_thread(stack.intake_cli, *command)
        for name in SERVICES:
            self._spawn(name, envs[name])
        await asyncio.gather(*(self._ready(name, urls[name]) for name in SERVICES))
        return stack

    def log_file(self, name: str) -> Path:
        return self.home / "logs" / f"{name}.log"

    def _spawn(self, name: str, env: dict[str, str], module: str | None = None) -> None:
        self._envs[name], self._modules[name] = env, module or self._modules.get(name, name)
        self.procs[name] = Proc.spawn(
            [sys.executable, "-m", self._modules[name]],
            log_file=self.log_file(name),
            env=env,
            cwd=self.home,
        )

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._envs[name]['BAOCAO_HTTP_PORT']}"

    async def _ready(self, name: str, url: str | None = None) -> None:
        await until_ready(url or self.url(name), self.procs[name], self.log_file(name), name=name)

    def kill(self, name: str) -> None:
        """SIGKILL one process (and what it spawned): a crash."""
        self.procs[name].kill_tree()

    async def restart(self, name: str) -> None:
        """Start a process again with its settings (database, port), after `kill` or `stop_instance`."""
        if self.procs[name].is_alive():
            self.procs[name].stop(signal.SIGTERM, STOP_TIMEOUT_S)
        self._spawn(name, self._envs[name])
        await self._ready(name)

    async def start_instance(self, service: str, name: str, env: dict[str, str] | None = None) -> str:
        """One more process of `service` on the same database and broker (unless `env` says otherwise), on another
        port; returns its URL."""
        settings = {**self._envs[service], "BAOCAO_HTTP_PORT": str(free_port()), **(env or {})}
        self._spawn(name, settings, module=service)
        await self._ready(name)
        return self.url(name)

    def stop_instance(self, name: str) -> None:
        """SIGTERM one process by pid (a graceful leave), SIGKILL after the bound."""
        self.procs[name].stop(signal.SIGTERM, STOP_TIMEOUT_S)

    def stop(self) -> None:
        """SIGTERM to each service we started, by pid; SIGKILL what still runs after the bound."""
        for proc in self.procs.values():
            proc.send(signal.SIGTERM)
            proc.signal_tree(signal.SIGCONT)
        for proc in self.procs.values():
            if not proc.wait(STOP_TIMEOUT_S):
                proc.kill_tree()
        if self.smtp is not None:
            self.smtp.stop()


async def until_ready(url: str, proc: Proc, log: Path, *, name: str, timeout: float = READY_TIMEOUT_S) -> None:
    """Poll the service's /readyz (its database and Kafka answer) within `timeout`; a process that died fails at
    once, with the end of its log."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        while time.monotonic() < deadline:
            if not proc.is_alive():
                raise AssertionError(describe_exit(log, f"{name} exited while starting"))
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            await asyncio.sleep(0.2)
    raise AssertionError(describe_exit(log, f"{name} was not ready within {timeout:g}s"))
