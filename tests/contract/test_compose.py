"""docker-compose.yml and the service image, checked without a Docker engine.

The checks are what a user of `docker compose up` would notice: a service that cannot be built,
listens where nobody reaches it, talks to another service's database, starts before its topics or
databases exist, or reports itself healthy when it is not. Values are read with the defaults that
Compose would interpolate (`${VAR:-default}`), and each service's environment is fed to its own
`Settings` class, so a value the service would reject fails here too.

The last test runs `docker compose config` when the Docker CLI has the compose plugin.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from baocao_shared.clock import SimulatedClock, SystemClock
from baocao_shared.events.topics import TOPICS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"


def discover_services() -> list[str]:
    """Every service of the repository: services/<name>/src/<name>/__main__.py."""
    return sorted(
        p.parent.name for p in ROOT.glob("services/*/src/*/__main__.py") if p.parents[2].name == p.parent.name
    )


SERVICES = discover_services()


# --- Compose interpolation (the subset the file uses) ---------------------------------------------

_COMPOSE_VAR = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)"
)


def interpolate(value: Any, host_env: Mapping[str, str]) -> Any:
    """Resolve `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}` and `$$` as Compose does."""
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("plain")
        op, arg = match.group("op"), match.group("arg") or ""
        current = host_env.get(name)
        if op == ":-":
            return current if current else arg
        if op == "-":
            return current if current is not None else arg
        if op in (":?", "?") and not current:
            raise AssertionError(f"${{{name}}} is required by docker-compose.yml: {arg}")
        return current or ""

    return _COMPOSE_VAR.sub(substitute, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    assert COMPOSE_FILE.is_file(), "docker-compose.yml is missing at the repository root"
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


def service(compose: Mapping[str, Any], name: str) -> dict[str, Any]:
    assert name in compose["services"], f"docker-compose.yml has no service {name!r}"
    return compose["services"][name]


def environment(svc: Mapping[str, Any], host_env: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """The container environment: interpolated values; a key without a value is taken from the host
    environment and is absent from the container when the host does not set it (None here)."""
    host_env = host_env or {}
    raw = svc.get("environment") or {}
    if isinstance(raw, list):
        pairs = [item.split("=", 1) if "=" in item else [item, None] for item in raw]
        raw = dict(pairs)
    env: dict[str, str | None] = {}
    for key, value in raw.items():
        if value is None:
            env[key] = host_env.get(key)
        elif isinstance(value, bool):
            env[key] = "true" if value else "false"
        else:
            env[key] = str(interpolate(str(value), host_env))
    return env


@dataclass(frozen=True)
class PortMapping:
    host_ip: str
    published: str
    target: str


def port_mappings(svc: Mapping[str, Any]) -> list[PortMapping]:
    mappings = []
    for entry in svc.get("ports") or []:
        if isinstance(entry, dict):
            mappings.append(
                PortMapping(str(entry.get("host_ip", "")), str(entry.get("published", "")), str(entry["target"]))
            )
            continue
        spec = str(interpolate(str(entry), {})).split("/", 1)[0]
        if spec.startswith("["):  # [::1]:8001:8001
            ip, _, rest = spec[1:].partition("]:")
            published, _, target = rest.partition(":")
            mappings.append(PortMapping(ip, published, target))
            continue
        parts = spec.split(":")
        if len(parts) == 3:
            mappings.append(PortMapping(parts[0], parts[1], parts[2]))
        elif len(parts) == 2:
            mappings.append(PortMapping("", parts[0], parts[1]))
        else:
            mappings.append(PortMapping("", "", parts[0]))
    return mappings


def healthcheck_command(svc: Mapping[str, Any]) -> str:
    check = svc.get("healthcheck")
    assert check and not check.get("disable"), "no healthcheck"
    test = check.get("test")
    assert test, "healthcheck without a test"
    if isinstance(test, str):
        return test
    assert test[0] in ("CMD", "CMD-SHELL"), f"healthcheck test must start with CMD or CMD-SHELL, not {test[0]!r}"
    return " ".join(str(part) for part in test[1:])


def app_settings(name: str, env: Mapping[str, str | None], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The service's own Settings, built from exactly this container environment."""
    for key in list(os.environ):
        if key.startswith("BAOCAO_") or key in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        if value is not None:
            monkeypatch.setenv(key, value)
    settings_class = importlib.import_module(f"{name}.config").Settings
    return settings_class()


def http_port(compose: Mapping[str, Any], name: str) -> str:
    port = environment(service(compose, name)).get("BAOCAO_HTTP_PORT")
    assert port, f"{name}: BAOCAO_HTTP_PORT is not set"
    return port


# --- Dockerfile reading (enough of the syntax for this repository's file) ---------------------------


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def dockerfile_instructions(path: Path) -> Iterator[tuple[str, str]]:
    logical = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not logical and (not stripped or stripped.startswith("#")):
            continue
        if logical and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        logical += stripped
        keyword, _, args = logical.partition(" ")
        yield keyword.upper(), args.strip()
        logical = ""
    assert not logical, f"{path}: the last instruction ends with a line continuation"


def dockerfile_stages(path: Path) -> tuple[dict[str, str], list[Stage]]:
    """(ARG defaults declared before the first FROM, stages in order)."""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for keyword, args in dockerfile_instructions(path):
        if keyword == "FROM":
            words = [w for w in args.split() if not w.startswith("--")]
            alias = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=alias))
        elif not stages:
            if keyword == "ARG":
                key, _, default = args.partition("=")
                global_args[key.strip()] = default.strip().strip('"')
        else:
            stages[-1].instructions.append((keyword, args))
    return global_args, stages


_DOCKER_VAR = re.compile(r"\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|\$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)")


def expand(value: str, env: Mapping[str, str]) -> str:
    return _DOCKER_VAR.sub(lambda m: env.get(m.group("braced") or m.group("plain"), ""), value)


def stage_environment(stage: Stage, global_args: Mapping[str, str], build_args: Mapping[str, str]) -> dict[str, str]:
    """ARG and ENV values in effect at the end of a stage, for the given --build-arg values."""
    env: dict[str, str] = {}
    for keyword, args in stage.instructions:
        if keyword == "ARG":
            key, has_default, default = args.partition("=")
            key = key.strip()
            value = build_args.get(key, default.strip().strip('"') if has_default else global_args.get(key, ""))
            env[key] = expand(value, env)
        elif keyword == "ENV":
            for word in shlex.split(args):
                key, _, value = word.partition("=")
                env[key] = expand(value, env)
    return env


def exec_form(args: str) -> list[str]:
    assert args.startswith("["), f"use the exec (JSON) form, not {args!r}"
    argv = json.loads(args)
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
    return argv


def effective_command(cmd: list[str], env: Mapping[str, str]) -> list[str]:
    """The argv the container ends up running, through a `sh -c 'exec ...'` wrapper if there is one."""
    if len(cmd) == 3 and PurePosixPath(cmd[0]).name in ("sh", "bash") and cmd[1] == "-c":
        words = [expand(word, env) for word in shlex.split(cmd[2])]
        return words[1:] if words and words[0] == "exec" else words
    return [expand(word, env) for word in cmd]


@dataclass(frozen=True)
class BuiltImage:
    dockerfile: Path
    build_args: dict[str, str]
    global_args: dict[str, str]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def final_env(self) -> dict[str, str]:
        return stage_environment(self.final, self.global_args, self.build_args)


def built_image(compose: Mapping[str, Any], name: str) -> BuiltImage:
    build = service(compose, name).get("build")
    assert build, f"{name}: no build section"
    if isinstance(build, str):
        build = {"context": build}
    context = (ROOT / interpolate(build.get("context", "."), {})).resolve()
    assert context.is_dir(), f"{name}: build context {context} does not exist"
    dockerfile = (context / interpolate(build.get("dockerfile", "Dockerfile"), {})).resolve()
    assert dockerfile.is_file(), f"{name}: the Dockerfile {dockerfile} does not exist"
    raw_args = build.get("args") or {}
    if isinstance(raw_args, list):
        raw_args = dict(item.split("=", 1) for item in raw_args)
    build_args = {key: str(interpolate(str(value), {})) for key, value in raw_args.items()}
    global_args, stages = dockerfile_stages(dockerfile)
    assert stages, f"{dockerfile}: no FROM"
    return BuiltImage(dockerfile, build_args, global_args, stages)


def workspace_members() -> list[Path]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    members: list[Path] = []
    for pattern in pyproject["tool"]["uv"]["workspace"]["members"]:
        members += sorted(p for p in ROOT.glob(pattern) if (p / "pyproject.toml").is_file())
    return members


# --- The four services ---------------------------------------------------------------------------


def test_the_repository_has_the_four_services() -> None:
    assert SERVICES == ["consolidation", "deadlines", "intake", "notify"]


def test_compose_runs_every_service(compose: dict[str, Any]) -> None:
    built = sorted(name for name, svc in compose["services"].items() if svc.get("build"))
    assert built == SERVICES


@pytest.mark.parametrize("name", SERVICES)
def test_service_starts_after_its_database_kafka_and_topics(compose: dict[str, Any], name: str) -> None:
    depends_on = service(compose, name).get("depends_on")
    assert isinstance(depends_on, dict), f"{name}: depends_on must use the long form with conditions"
    conditions = {dep: (spec or {}).get("condition") for dep, spec in depends_on.items()}
    assert conditions.get("postgres") == "service_healthy"
    assert conditions.get("kafka") == "service_healthy"
    assert conditions.get("kafka-init") == "service_completed_successfully"


@pytest.mark.parametrize("name", SERVICES)
def test_service_healthcheck_asks_readyz_on_its_port(compose: dict[str, Any], name: str) -> None:
    command = healthcheck_command(service(compose, name))
    assert "/readyz" in command
    port = http_port(compose, name)
    assert "BAOCAO_HTTP_PORT" in command or f":{port}/" in command, f"{name}: healthcheck does not use port {port}"
    assert "curl" not in command and "wget" not in command, "python:3.11-slim has neither curl nor wget"


@pytest.mark.parametrize("name", SERVICES)
def test_service_port_is_published_on_loopback_only(compose: dict[str, Any], name: str) -> None:
    port = http_port(compose, name)
    mappings = port_mappings(service(compose, name))
    assert mappings, f"{name}: no published port"
    for mapping in mappings:
        assert mapping.host_ip == "127.0.0.1", f"{name}: {mapping} is reachable from other machines"
    assert PortMapping("127.0.0.1", port, port) in mappings


@pytest.mark.parametrize("name", SERVICES)
def test_service_settings_accept_the_compose_environment(
    compose: dict[str, Any], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = environment(service(compose, name))
    settings = app_settings(name, env, monkeypatch)
    default_port = importlib.import_module(f"{name}.config").Settings.model_fields["http_port"].default
    assert settings.http_port == default_port == int(http_port(compose, name)), "the port of ARCHITECTURE.md"
    assert settings.http_host == "0.0.0.0", "a service bound to 127.0.0.1 is unreachable outside its container"
    assert settings.env != "production" or settings.clock == "system"
    assert isinstance(settings.build_clock(), SystemClock), "without BAOCAO_CLOCK the clock is the system clock"
    expected_urls = {peer: f"http://{peer}:{http_port(compose, peer)}" for peer in SERVICES}
    assert settings.service_urls == expected_urls


@pytest.mark.parametrize("name", SERVICES)
def test_service_passes_the_simulated_clock_through(
    compose: dict[str, Any], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = {
        "BAOCAO_CLOCK": "simulated",
        "BAOCAO_CLOCK_START": "2019-06-01T00:00:00+07:00",
        "BAOCAO_CLOCK_EPOCH": "2026-01-01T00:00:00Z",
        "BAOCAO_CLOCK_SPEED": "86400",
    }
    env = environment(service(compose, name), host)
    assert {key: env.get(key) for key in host} == host
    clock = app_settings(name, env, monkeypatch).build_clock()
    assert isinstance(clock, SimulatedClock) and clock.speed == 86400


@pytest.mark.parametrize("name", SERVICES)
def test_service_uses_its_own_database(compose: dict[str, Any], name: str) -> None:
    env = environment(service(compose, name))
    url = make_url(env["BAOCAO_DATABASE_URL"])
    assert url.drivername == "postgresql+asyncpg"
    assert url.host == "postgres" and url.port in (None, 5432)
    assert url.database == name
    pg_env = environment(service(compose, "postgres"))
    assert url.username == pg_env.get("POSTGRES_USER", "postgres")
    assert url.password == pg_env.get("POSTGRES_PASSWORD")


def test_services_do_not_share_a_database(compose: dict[str, Any]) -> None:
    databases = [make_url(environment(service(compose, n))["BAOCAO_DATABASE_URL"]).database for n in SERVICES]
    assert len(set(databases)) == len(databases)


@pytest.mark.parametrize("name", SERVICES)
def test_service_reaches_kafka_with_the_topic_partitions(compose: dict[str, Any], name: str) -> None:
    env = environment(service(compose, name))
    advertised = environment(service(compose, "kafka"))["KAFKA_ADVERTISED_LISTENERS"]
    addresses = {listener.split("://", 1)[1] for listener in advertised.split(",")}
    for server in env["BAOCAO_KAFKA_BOOTSTRAP_SERVERS"].split(","):
        assert server in addresses, f"{name}: {server} is not an advertised Kafka listener ({advertised})"
    assert env["BAOCAO_TOPIC_PARTITIONS"] == environment(service(compose, "kafka-init"))["PARTITIONS"]


# --- Kafka and its topics ------------------------------------------------------------------------


def test_kafka_is_apache_kafka_4_in_kraft_combined_mode(compose: dict[str, Any]) -> None:
    kafka = service(compose, "kafka")
    assert re.fullmatch(r"apache/kafka:4\.\d+\.\d+", kafka["image"]), kafka["image"]
    env = environment(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "KAFKA_ZOOKEEPER_CONNECT" not in env
    assert env.get("CLUSTER_ID"), "KRaft storage is formatted with CLUSTER_ID"
    voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
    assert voters == [f"{env['KAFKA_NODE_ID']}@kafka:9093"]
    assert "CONTROLLER://:9093" in env["KAFKA_LISTENERS"].split(",")
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
        "KAFKA_DEFAULT_REPLICATION_FACTOR",
    ):
        assert env.get(key) == "1", f"{key} must be 1 with one broker"
    command = healthcheck_command(kafka)
    assert "/opt/kafka/bin/kafka-broker-api-versions.sh" in command
    assert "--bootstrap-server localhost:9092" in command
    volumes = [str(v) for v in kafka.get("volumes") or []]
    assert any(v.split(":")[1] == env["KAFKA_LOG_DIRS"] and v.split(":")[0] in compose["volumes"] for v in volumes)


def kafka_init_commands(compose: Mapping[str, Any]) -> list[list[str]]:
    """Every kafka-topics.sh command line of the kafka-init script, with its variables expanded."""
    init = service(compose, "kafka-init")
    command = init.get("command")
    script = command if isinstance(command, str) else "\n".join(command)
    script = interpolate(script, {})
    variables = {k: v for k, v in environment(init).items() if v is not None}
    runs = []
    for line in script.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        assignment = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", line)
        if assignment:
            variables[assignment.group(1)] = shlex.split(assignment.group(2))[0]
            continue
        argv = shlex.split(expand(line, variables))
        if argv and argv[0].endswith("/kafka-topics.sh"):
            runs.append(argv)
    return runs


def options(argv: list[str]) -> tuple[set[str], dict[str, str], dict[str, str]]:
    """(flags, single-valued options, --config entries) of a kafka-topics.sh command."""
    flags: set[str] = set()
    values: dict[str, str] = {}
    configs: dict[str, str] = {}
    i = 1
    while i < len(argv):
        word = argv[i]
        if word in ("--create", "--if-not-exists", "--describe", "--list", "--alter"):
            flags.add(word)
            i += 1
            continue
        value = argv[i + 1]
        if word == "--config":
            key, _, config_value = value.partition("=")
            configs[key] = config_value
        else:
            values[word] = value
        i += 2
    return flags, values, configs


def test_kafka_init_runs_once_kafka_is_healthy_and_fails_loudly(compose: dict[str, Any]) -> None:
    init = service(compose, "kafka-init")
    assert init["image"] == service(compose, "kafka")["image"]
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert init.get("restart", "no") == "no", "a one-shot container"
    entrypoint = init.get("entrypoint")
    if entrypoint:  # a shell script: it must stop at the first failing command
        shell_flags = [a for a in entrypoint[1:] if a.startswith("-")]
        assert any("e" in flag for flag in shell_flags), f"kafka-init shell without -e: {entrypoint}"


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.name)
def test_kafka_init_creates_topic_with_its_config(compose: dict[str, Any], topic: Any) -> None:
    creates = []
    for argv in kafka_init_commands(compose):
        flags, values, configs = options(argv)
        if "--create" in flags and values.get("--topic") == topic.name:
            creates.append((flags, values, configs))
    assert len(creates) == 1, f"{topic.name} is created {len(creates)} times by kafka-init"
    flags, values, configs = creates[0]
    assert "--if-not-exists" in flags, "kafka-init must be safe to run again"
    assert values["--bootstrap-server"] == "kafka:9092"
    assert values["--partitions"] == environment(service(compose, "kafka-init"))["PARTITIONS"] == "3"
    assert values["--replication-factor"] == "1"
    expected_policy = topic.config.get("cleanup.policy", "delete")
    assert configs.get("cleanup.policy", "delete") == expected_policy
    for key, value in topic.config.items():
        assert configs.get(key) == value, f"{topic.name}: --config {key}={value} is missing"


# --- PostgreSQL ----------------------------------------------------------------------------------


def init_script_databases(directory: Path) -> set[str]:
    databases: set[str] = set()
    for script in sorted(directory.iterdir()):
        if script.suffix in (".sql", ".sh"):
            text = script.read_text(encoding="utf-8")
            databases |= set(re.findall(r'CREATE\s+DATABASE\s+"?([A-Za-z_][A-Za-z0-9_]*)"?', text, re.IGNORECASE))
    return databases


def test_postgres_18_keeps_its_data_and_reports_health(compose: dict[str, Any]) -> None:
    postgres = service(compose, "postgres")
    assert re.fullmatch(r"postgres:18(\.\d+)?(-[a-z0-9]+)?", postgres["image"]), postgres["image"]
    assert "pg_isready" in healthcheck_command(postgres)
    env = environment(postgres)
    assert env.get("POSTGRES_PASSWORD"), "the postgres image refuses to start without a password"
    mounts = dict(reversed(str(v).split(":")[:2]) for v in postgres.get("volumes") or [])
    # Images 18+ keep data in /var/lib/postgresql/18/docker and refuse a mount at .../data.
    assert mounts.get("/var/lib/postgresql") in (compose.get("volumes") or {}), "a named volume for the data"


def test_postgres_init_script_creates_every_service_database(compose: dict[str, Any]) -> None:
    postgres = service(compose, "postgres")
    mounts = dict(reversed(str(v).split(":")[:2]) for v in postgres.get("volumes") or [])
    source = mounts.get("/docker-entrypoint-initdb.d")
    assert source, "no init scripts mounted at /docker-entrypoint-initdb.d"
    init_dir = (ROOT / source).resolve()
    assert init_dir.is_dir() and init_dir.is_relative_to(ROOT / "deploy" / "docker" / "postgres-init")
    wanted = {make_url(environment(service(compose, n))["BAOCAO_DATABASE_URL"]).database for n in SERVICES}
    assert wanted <= init_script_databases(init_dir)


# --- The image -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SERVICES)
def test_image_runs_the_service_module_as_a_non_root_user(compose: dict[str, Any], name: str) -> None:
    image = built_image(compose, name)
    final = image.final
    env = image.final_env()
    base = expand(final.base, image.global_args)
    assert base == "python:3.11-slim", f"the runtime stage is built FROM {base}"

    cmd = final.all("CMD")
    assert cmd, f"{image.dockerfile}: no CMD"
    argv = effective_command(exec_form(cmd[-1]), env)
    assert argv[:2] == ["python", "-m"] and len(argv) == 3, f"CMD runs {argv}"
    module = argv[2]
    assert module == name
    assert (ROOT / "services" / module / "src" / module / "__main__.py").is_file()

    users = [expand(u, env) for u in final.all("USER")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the service must not run as root"
    assert expand(" ".join(final.all("EXPOSE")), env).split() == [http_port(compose, name)]
    assert env.get("BAOCAO_HTTP_PORT") == http_port(compose, name)
    healthchecks = final.all("HEALTHCHECK")
    assert healthchecks and "/healthz" in healthchecks[-1] and "curl" not in healthchecks[-1]


@pytest.mark.parametrize("name", SERVICES)
def test_image_installs_the_locked_workspace_package_editable(compose: dict[str, Any], name: str) -> None:
    image = built_image(compose, name)
    *builders, final = image.stages
    assert builders, "a multi-stage build: the runtime stage must not carry the build tools"
    assert not any("uv" in args.split() or "/uv" in args for _, args in final.instructions), "uv in the runtime image"
    assert any("--from=" in args for args in final.all("COPY")), "the runtime stage copies the built /app"

    build_env = stage_environment(builders[-1], image.global_args, image.build_args)
    copied: set[str] = set()
    syncs = []
    for stage in builders:
        for keyword, args in stage.instructions:
            if keyword == "COPY" and "--from=" not in args:
                copied |= {expand(w, build_env).rstrip("/") for w in args.split()[:-1] if not w.startswith("--")}
            if keyword == "RUN" and "uv sync" in args:
                syncs.append(expand(args, build_env))
    # uv reads the whole workspace: every member's pyproject.toml must be in the image.
    for member in [ROOT, *workspace_members()]:
        relative = (member / "pyproject.toml").relative_to(ROOT).as_posix()
        assert relative in copied, f"{relative} is not copied before `uv sync`"
    assert "uv.lock" in copied
    # The service reads its migrations from its source tree: the whole service folder, and shared/.
    assert f"services/{name}" in copied and "shared" in copied
    assert syncs, "no `uv sync`"
    for sync in syncs:
        assert "--frozen" in sync or "--locked" in sync, "install exactly uv.lock"
        assert "--no-dev" in sync
        assert f"--package baocao-{name}" in sync.replace('"', ""), "install this service only"
        assert "--no-editable" not in sync, "services resolve migrations/ relative to their source tree"


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    ignored = {
        line.strip().strip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for entry in (".git", ".venv", ".local", "**/__pycache__", ".pytest_cache", "artifacts", ".env"):
        assert entry in ignored, f".dockerignore should exclude {entry}"
    for needed in ("shared", "services", "deploy", "uv.lock", "pyproject.toml"):
        assert needed not in ignored


# --- The real Compose CLI, when there is one -------------------------------------------------------


def docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def test_docker_compose_accepts_the_file() -> None:
    if not docker_compose_available():
        pytest.skip("docker compose CLI is not installed")
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
