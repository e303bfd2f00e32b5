"""The local stack's settings, read from the environment (every one has a default)."""

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .kafka_config import KafkaCluster, KafkaNode
from .paths import DEFAULT_HOME

# The four services in start order, with their offset from BAOCAO_PORT_BASE and their module.
SERVICES: dict[str, int] = {"intake": 1, "deadlines": 2, "consolidation": 3, "notify": 4}
DATABASES: tuple[str, ...] = tuple(SERVICES)

# Passed unchanged to every service, so that all of them agree on time and environment.
PASSTHROUGH = (
    "BAOCAO_CLOCK",
    "BAOCAO_CLOCK_START",
    "BAOCAO_CLOCK_EPOCH",
    "BAOCAO_CLOCK_SPEED",
    "BAOCAO_CLOCK_FILE",  # BAOCAO_CLOCK=file (tests: the backup drill walks a month on it)
    "BAOCAO_ENV",
    "BAOCAO_SCHEDULER_TICK_S",  # set by hand, it wins over the one chosen for a simulated clock
)

# With BAOCAO_CLOCK=simulated, deadlines ticks every 0.1 real seconds: 2.4 simulated hours at
# BAOCAO_CLOCK_SPEED=86400 (a day per second), where its default of 1 s would skip a whole day.
SIMULATED_SCHEDULER_TICK_S = "0.1"
DEMO_HISTORY_PERIODS = "2"

# The mail sink (baocao_stack.mailsink) runs beside notify: its page at base+5, SMTP at base+25.
MAILSINK = "mailsink"
MAILSINK_HTTP_OFFSET = 5
MAILSINK_SMTP_OFFSET = 25

KAFKA = "kafka"  # the program of a single broker; a cluster's are kafka-1 .. kafka-N in the group "kafka"


class SettingsError(ValueError):
    """An environment setting has a value we cannot use."""


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None


@dataclass(frozen=True)
class StackSettings:
    home: Path
    kafka_port: int = 9092
    controller_port: int = 9093
    pg_port: int = 5432
    port_base: int = 8000
    partitions: int = 3
    passthrough: dict[str, str] = field(default_factory=dict)
    smtp_sink_port_setting: int | None = None  # BAOCAO_SMTP_SINK_PORT; unset: port_base + 25
    brokers: int = 1  # BAOCAO_BROKERS (make up BROKERS=3): Kafka nodes, see KafkaCluster.from_base
    # BAOCAO_TOPIC_RETENTION_MS: the archival period of every topic (ms; -1, the default: forever), given at
    # creation and reconciled on existing topics at every `make up` (baocao_shared.events.topics says why)
    topic_retention_ms: int = -1

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, now: datetime | None = None) -> "StackSettings":
        """Read BAOCAO_HOME, BAOCAO_KAFKA_PORT, BAOCAO_KAFKA_CONTROLLER_PORT, BAOCAO_PG_PORT,
        BAOCAO_PORT_BASE, BAOCAO_PARTITIONS, BAOCAO_SMTP_SINK_PORT, BAOCAO_BROKERS, BAOCAO_TOPIC_RETENTION_MS and
        the clock variables. With BAOCAO_CLOCK=simulated and no BAOCAO_CLOCK_EPOCH, the epoch is `now`, fixed
        here once for every service."""
        environ = os.environ if environ is None else environ
        home = Path(environ.get("BAOCAO_HOME") or DEFAULT_HOME).expanduser().resolve()
        kafka_port = _int(environ, "BAOCAO_KAFKA_PORT", 9092)
        passthrough = {name: environ[name] for name in PASSTHROUGH if environ.get(name)}
        if passthrough.get("BAOCAO_CLOCK") == "simulated" and "BAOCAO_CLOCK_EPOCH" not in passthrough:
            passthrough["BAOCAO_CLOCK_EPOCH"] = (now or datetime.now(UTC)).isoformat()
        settings = cls(
            home=home,
            kafka_port=kafka_port,
            controller_port=_int(environ, "BAOCAO_KAFKA_CONTROLLER_PORT", kafka_port + 1),
            pg_port=_int(environ, "BAOCAO_PG_PORT", 5432),
            port_base=_int(environ, "BAOCAO_PORT_BASE", 8000),
            partitions=_int(environ, "BAOCAO_PARTITIONS", 3),
            passthrough=passthrough,
            smtp_sink_port_setting=_int(environ, "BAOCAO_SMTP_SINK_PORT", 0) or None,
            brokers=_int(environ, "BAOCAO_BROKERS", 1),
            topic_retention_ms=_int(environ, "BAOCAO_TOPIC_RETENTION_MS", -1),
        )
        if settings.partitions < 1:
            raise SettingsError("BAOCAO_PARTITIONS must be at least 1")
        if settings.topic_retention_ms < -1 or settings.topic_retention_ms == 0:
            raise SettingsError("BAOCAO_TOPIC_RETENTION_MS must be -1 (forever) or a positive number of milliseconds")
        settings.check_cluster()
        return settings

    def check_cluster(self) -> None:
        """Refuse a broker count or Kafka ports whose nodes would collide."""
        if self.brokers < 1:
            raise SettingsError(f"BAOCAO_BROKERS={self.brokers}: a stack needs at least 1 Kafka broker")
        try:
            self.kafka_cluster  # noqa: B018 - built for its checks
        except ValueError as err:
            raise SettingsError(
                f"{err}: with {self.brokers} brokers node i uses BAOCAO_KAFKA_PORT + 2(i-1) "
                f"({self.kafka_port}) and BAOCAO_KAFKA_CONTROLLER_PORT + 2(i-1) ({self.controller_port})"
            ) from None

    # ------------------------------------------------------------------------------ derived

    def service_port(self, name: str) -> int:
        return self.port_base + SERVICES[name]

    def service_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.service_port(name)}"

    @property
    def smtp_sink_port(self) -> int:
        """Where the mail sink takes SMTP, and so where notify sends its email."""
        return self.smtp_sink_port_setting or self.port_base + MAILSINK_SMTP_OFFSET

    @property
    def mail_port(self) -> int:
        return self.port_base + MAILSINK_HTTP_OFFSET

    @property
    def mail_url(self) -> str:
        """The mail sink's page, "Hộp thư thử nghiệm"."""
        return f"http://127.0.0.1:{self.mail_port}"

    @property
    def mail_dir(self) -> Path:
        """The mail sink's Maildir."""
        return self.home / "mail"

    @property
    def signing_dir(self) -> Path:
        """The demo signing keys: a CA, one PKCS#12 file per province and their passphrase."""
        return self.home / "signing"

    @property
    def kafka_cluster(self) -> KafkaCluster:
        return KafkaCluster.from_base(self.brokers, port=self.kafka_port, controller_port=self.controller_port)

    @property
    def kafka_bootstrap(self) -> str:
        """Every broker's address, comma-separated."""
        return self.kafka_cluster.bootstrap

    @property
    def kafka_programs(self) -> dict[str, KafkaNode]:
        """supervisord's program name of each Kafka node: "kafka" alone, or kafka-1 .. kafka-N."""
        nodes = self.kafka_cluster.nodes
        if len(nodes) == 1:
            return {KAFKA: nodes[0]}
        return {f"{KAFKA}-{node.node_id}": node for node in nodes}

    def kafka_node_data(self, node: KafkaNode) -> Path:
        """A node's data: kafka/data for one broker, kafka/cluster-<N>/broker-<i> in a cluster of N
        (a cluster of another size is another cluster, with its own data)."""
        if self.brokers == 1:
            return self.kafka_data
        return self.home / "kafka" / f"cluster-{self.brokers}" / f"broker-{node.node_id}"

    def database_url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.pg_port}/{database}"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    def log_file(self, program: str) -> Path:
        return self.logs_dir / f"{program}.log"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def kafka_data(self) -> Path:
        return self.home / "kafka" / "data"

    @property
    def postgres_data(self) -> Path:
        return self.home / "postgres" / "data"

    def service_env(self, name: str) -> dict[str, str]:
        """The environment of one service process (on top of what supervisord inherited)."""
        extra = {}
        if name == "deadlines" and self.passthrough.get("BAOCAO_CLOCK") == "simulated":
            extra["BAOCAO_SCHEDULER_TICK_S"] = SIMULATED_SCHEDULER_TICK_S
        if name == "consolidation" and self.passthrough.get("BAOCAO_ENV") != "production":
            # The demo signing keys `up` makes (baocao_stack.signing): one key file per province, the
            # passphrase read from its file (never in supervisord's config), the demo CA to trust.
            extra["BAOCAO_SIGNING_PKCS12"] = str(self.signing_dir / "{province}.p12")
            extra["BAOCAO_SIGNING_PASSPHRASE_FILE"] = str(self.signing_dir / "passphrase")
            extra["BAOCAO_SIGNING_TRUST_ROOTS"] = str(self.signing_dir / "ca.pem")
        if name == "notify":
            # Every mail goes to the mail sink, never to a real mailbox.
            extra["BAOCAO_SMTP_HOST"] = "127.0.0.1"
            extra["BAOCAO_SMTP_PORT"] = str(self.smtp_sink_port)
        return {
            "BAOCAO_HOME": str(self.home),  # intake keeps its development signing key in $BAOCAO_HOME/keys
            "BAOCAO_HTTP_HOST": "127.0.0.1",
            "BAOCAO_HTTP_PORT": str(self.service_port(name)),
            "BAOCAO_DATABASE_URL": self.database_url(name),
            "BAOCAO_KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "BAOCAO_TOPIC_PARTITIONS": str(self.partitions),
            "BAOCAO_TOPIC_RETENTION_MS": str(self.topic_retention_ms),
            "BAOCAO_SERVICE_URLS": self._service_urls(),
            **extra,
            **self.passthrough,
            "PYTHONUNBUFFERED": "1",
        }

    def mailsink_env(self) -> dict[str, str]:
        """The environment of the mail sink: its ports and folder, the service links, the shared clock."""
        return {
            "BAOCAO_HOME": str(self.home),
            "BAOCAO_HTTP_HOST": "127.0.0.1",
            "BAOCAO_HTTP_PORT": str(self.mail_port),
            "BAOCAO_SMTP_SINK_PORT": str(self.smtp_sink_port),
            "BAOCAO_MAIL_DIR": str(self.mail_dir),
            "BAOCAO_SERVICE_URLS": self._service_urls(),
            **self.passthrough,
            "PYTHONUNBUFFERED": "1",
        }

    def _service_urls(self) -> str:
        urls = {service: self.service_url(service) for service in SERVICES}
        return json.dumps(urls, separators=(",", ":"))

    # ------------------------------------------------------------------- saved with the stack

    def to_json(self) -> dict:
        return {
            "home": str(self.home),
            "kafka_port": self.kafka_port,
            "controller_port": self.controller_port,
            "pg_port": self.pg_port,
            "port_base": self.port_base,
            "partitions": self.partitions,
            "passthrough": self.passthrough,
            "smtp_sink_port_setting": self.smtp_sink_port_setting,
            "brokers": self.brokers,
            "topic_retention_ms": self.topic_retention_ms,
        }

    @classmethod
    def from_json(cls, data: Mapping) -> "StackSettings":
        return cls(**{**data, "home": Path(data["home"]), "passthrough": dict(data["passthrough"])})
