"""deploy/k8s: the Kubernetes manifests, checked against the Kubernetes schemas and against the services.

kustomize is not installed here, so `render` below builds a kustomization the way `kubectl apply -k`
would, for the few features these files use: `resources` (files and directories), `configMapGenerator`
(files and literals, without name hashes) and `images`. It refuses any other feature, so a patch added
later fails here instead of being silently ignored. Every rendered document is validated with
kubernetes-validate against the newest Kubernetes schemas it ships, in strict mode (an unknown or
misspelt field fails). Strimzi's KafkaTopic is a custom resource whose schema is not among them: its
metadata is validated against ObjectMeta, and its spec only by this file's own reading (see
`test_strimzi_overlay_declares_every_topic_as_the_services_need_it`).

Then come the checks an operator relies on: probes on /readyz and /healthz at the container's port,
requests and limits, an autoscaler per Deployment bounded by the partitions, Services that select the
pods, environment names that the services' Settings classes read (a renamed setting fails here) and
values those classes accept, images and ports as docker-compose.yml builds them, an Ingress in the
path layout of deploy/proxy/Caddyfile, and the init container's topic script run against a real broker.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import referencing
import yaml
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from kubernetes_validate.utils import schema_contents
from sqlalchemy.engine import make_url

from baocao_shared.events.topics import RETENTION, TOPICS, TopicSpec, dead_letter_topic, dlq_topic
from tests.contract.test_compose import SERVICES, app_settings, built_image, environment, service
from tests.contract.test_proxy import PER_SERVICE, app_paths

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy/k8s"
BASE = K8S / "base"
STRIMZI = K8S / "overlays/strimzi"
KUBERNETES_VERSION = kubernetes_validate.latest_version()  # the newest schemas the package ships
CUSTOM_RESOURCES = {("kafka.strimzi.io/v1beta2", "KafkaTopic")}  # no schema in kubernetes-validate


# --- Rendering: the part of kustomize these files use --------------------------------------------

KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "resources", "configMapGenerator", "generatorOptions", "images"}


class UnsupportedKustomization(AssertionError):
    pass


def render(directory: Path) -> list[dict[str, Any]]:
    """The documents `kubectl kustomize <directory>` prints, for the features listed above."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    unsupported = set(kustomization) - KUSTOMIZATION_FIELDS
    if unsupported:
        raise UnsupportedKustomization(f"{directory}: this test does not render {sorted(unsupported)}")
    documents: list[dict[str, Any]] = []
    for entry in kustomization.get("resources") or []:
        path = (directory / entry).resolve()
        assert path.is_relative_to(K8S), f"{directory}: resource {entry} is outside deploy/k8s"
        if path.is_dir():
            documents += render(path)
        else:
            documents += [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    generators = kustomization.get("configMapGenerator") or []
    if generators and not (kustomization.get("generatorOptions") or {}).get("disableNameSuffixHash"):
        raise UnsupportedKustomization(f"{directory}: generated names with a hash suffix are not rendered here")
    for generator in generators:
        if set(generator) - {"name", "files", "literals"}:
            raise UnsupportedKustomization(f"{directory}: configMapGenerator {generator}")
        data: dict[str, str] = {}
        for entry in generator.get("files") or []:
            key, _, source = entry.rpartition("=")
            data[key or PurePosixPath(source).name] = (directory / source).read_text(encoding="utf-8")
        for entry in generator.get("literals") or []:
            key, _, value = entry.partition("=")
            data[key] = value
        documents.append(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data}
        )
    for image in kustomization.get("images") or []:
        for container in all_containers(documents):
            name, tag = split_image(container["image"])
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag or 'latest')}"
    return documents


def split_image(image: str) -> tuple[str, str | None]:
    name, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    return name, tag or None


def all_containers(documents: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for doc in documents:
        pod = (doc.get("spec") or {}).get("template", {}).get("spec") if doc.get("kind") == "Deployment" else None
        if pod:
            yield from pod.get("initContainers") or []
            yield from pod["containers"]


def validate(doc: Mapping[str, Any]) -> None:
    kubernetes_validate.validate(dict(doc), KUBERNETES_VERSION, strict=True)


def validate_object_meta(metadata: Mapping[str, Any]) -> None:
    """ObjectMeta from the same strict schemas (for custom resources, whose own schema is not shipped)."""
    major_minor = ".".join(KUBERNETES_VERSION.split(".")[:2])
    definitions = schema_contents(
        f"kubernetes-json-schema/v{KUBERNETES_VERSION}-local-strict/_definitions.json", major_minor
    )
    registry = referencing.Resource.from_contents(definitions) @ referencing.Registry()
    schema = {"$ref": f"{definitions['$id']}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    jsonschema.Draft202012Validator(schema, registry=registry).validate(dict(metadata))


@pytest.fixture(scope="module")
def base() -> list[dict[str, Any]]:
    return render(BASE)


def find(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} named {name}"
    return found[0]


def deployment(base: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return find(base, "Deployment", f"baocao-{name}")


def pod_spec(base: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return deployment(base, name)["spec"]["template"]["spec"]


def main_container(base: list[dict[str, Any]], name: str) -> dict[str, Any]:
    [container] = [c for c in pod_spec(base, name)["containers"] if c["name"] == name]
    return container


def container_port(container: Mapping[str, Any], port: int | str) -> int:
    """A probe's or a Service's port: a number, or the name of one of the container's ports."""
    declared = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
    if isinstance(port, int):
        assert port in declared.values(), f"port {port} is not declared by {container['name']}"
        return port
    assert port in declared, f"no port named {port!r} on {container['name']}"
    return declared[port]


def config_map(documents: list[dict[str, Any]], name: str) -> dict[str, str]:
    return find(documents, "ConfigMap", name).get("data") or {}


def env_value(documents: list[dict[str, Any]], var: Mapping[str, Any]) -> str | None:
    """A container variable's value: literal, or read from a rendered ConfigMap; None for a Secret."""
    if "value" in var:
        return var["value"]
    source = var["valueFrom"]
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"]
        data = config_map(documents, ref["name"])
        assert ref["key"] in data, f"ConfigMap {ref['name']} has no key {ref['key']}"
        return data[ref["key"]]
    assert "secretKeyRef" in source, f"{var['name']}: only ConfigMap and Secret references are expected"
    return None


def secret_refs(container: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{variable: secretKeyRef} of a container."""
    return {
        var["name"]: var["valueFrom"]["secretKeyRef"]
        for var in container.get("env") or []
        if "secretKeyRef" in (var.get("valueFrom") or {})
    }


def settings_names(name: str) -> set[str]:
    """Every environment name the service's Settings class reads."""
    settings_class = importlib.import_module(f"{name}.config").Settings
    prefix = settings_class.model_config["env_prefix"]
    names: set[str] = set()
    for field_name, info in settings_class.model_fields.items():
        alias = info.validation_alias
        if alias is None:
            names.add(f"{prefix}{field_name}".upper())
        else:
            names |= {choice.upper() for choice in getattr(alias, "choices", [alias])}
    return names


def container_environment(documents: list[dict[str, Any]], container: Mapping[str, Any]) -> dict[str, str | None]:
    """The container's environment: envFrom ConfigMaps, then `env` (which wins); Secret values are None."""
    env: dict[str, str | None] = {}
    for source in container.get("envFrom") or []:
        assert set(source) == {"configMapRef"}, f"{container['name']}: envFrom {source}"
        env.update(config_map(documents, source["configMapRef"]["name"]))
    for var in container.get("env") or []:
        env[var["name"]] = env_value(documents, var)
    return env


def quantity(value: str | int) -> float:
    """A Kubernetes quantity (100m, 1, 192Mi, 1Gi) as a number of cores or bytes."""
    text = str(value)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([A-Za-z]*)", text)
    assert match and match.group(2) in ("", *units), f"not a quantity this test reads: {text}"
    return float(match.group(1)) * units.get(match.group(2), 1)


def partitions(base: list[dict[str, Any]]) -> int:
    return int(config_map(base, "baocao-config")["BAOCAO_TOPIC_PARTITIONS"])


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


# --- The schemas ---------------------------------------------------------------------------------


@pytest.mark.parametrize("directory", ["base", "overlays/strimzi"])
def test_every_rendered_document_is_valid_against_the_kubernetes_schemas(directory: str) -> None:
    documents = render(K8S / directory)
    assert documents
    checked = []
    for doc in documents:
        if (doc["apiVersion"], doc["kind"]) in CUSTOM_RESOURCES:
            validate_object_meta(doc["metadata"])
            continue
        validate(doc)
        checked.append(doc["kind"])
    assert {"ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress"} <= set(
        checked
    )


def test_the_newest_schemas_are_used() -> None:
    versions = kubernetes_validate.utils.all_versions()
    assert KUBERNETES_VERSION == versions[-1]
    assert tuple(int(part) for part in KUBERNETES_VERSION.split(".")[:2]) >= (1, 37)


def test_a_misspelt_field_fails_the_validation(base: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(deployment(base, "intake"))
    container = broken["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError, match="'readinesProbe' was unexpected"):
        validate(broken)


def test_a_wrongly_typed_value_fails_the_validation(base: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(find(base, "HorizontalPodAutoscaler", "baocao-intake"))
    broken["spec"]["maxReplicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError, match="is not of type 'integer'"):
        validate(broken)


def test_a_misspelt_field_in_custom_resource_metadata_fails() -> None:
    topic = next(d for d in render(STRIMZI) if d["kind"] == "KafkaTopic")
    metadata = {**topic["metadata"], "lables": topic["metadata"]["labels"]}
    with pytest.raises(jsonschema.ValidationError, match="'lables' was unexpected"):
        validate_object_meta(metadata)


def test_the_renderer_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\npatches:\n  - path: p.yaml\n")
    with pytest.raises(UnsupportedKustomization, match="patches"):
        render(tmp_path)


def test_no_yaml_anchors_in_the_manifests() -> None:
    """kustomize has rejected or emptied YAML aliases in several releases (kubernetes-sigs/kustomize#3675)."""
    for path in K8S.rglob("*.yaml"):
        events = yaml.parse(path.read_text(encoding="utf-8"))
        assert not any(isinstance(e, yaml.AliasEvent) for e in events), f"{path}: a YAML alias"


# --- Each service ----------------------------------------------------------------------------------


def test_every_service_has_its_deployment_service_autoscaler_and_disruption_budget(base) -> None:
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        names = sorted(d["metadata"]["name"] for d in base if d["kind"] == kind)
        assert names == sorted(f"baocao-{name}" for name in SERVICES), kind


@pytest.mark.parametrize("name", SERVICES)
def test_image_and_port_are_those_docker_compose_builds(base, compose, name: str) -> None:
    image = built_image(compose, name)
    assert image.build_args["SERVICE"] == name
    port = int(image.build_args["PORT"])
    container = main_container(base, name)
    repository, tag = split_image(container["image"])
    assert repository == f"baocao/{name}", "the tag deploy/docker/service.Dockerfile's header builds"
    version = tomllib.loads((ROOT / f"services/{name}/pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    assert tag == version, f"{name}: image tag {tag}, service version {version}"
    assert container_port(container, "http") == port == int(environment(service(compose, name))["BAOCAO_HTTP_PORT"])
    assert container_environment(base, container)["BAOCAO_HTTP_PORT"] == str(port)
    assert container.get("imagePullPolicy") == "IfNotPresent"


@pytest.mark.parametrize("name", SERVICES)
def test_probes_ask_readyz_and_healthz_on_the_declared_port(base, name: str) -> None:
    container = main_container(base, name)
    port = container_port(container, "http")
    readiness, liveness, startup = (container.get(p) for p in ("readinessProbe", "livenessProbe", "startupProbe"))
    assert readiness and liveness and startup, f"{name}: readiness, liveness and startup probes"
    assert readiness["httpGet"]["path"] == "/readyz"
    assert liveness["httpGet"]["path"] == "/healthz"
    assert startup["httpGet"]["path"] == "/healthz"
    for probe in (readiness, liveness, startup):
        assert container_port(container, probe["httpGet"]["port"]) == port
    # /readyz waits up to 2 s for the database and 3 s for Kafka: a shorter timeout reads as "not ready".
    assert readiness.get("timeoutSeconds", 1) > 5
    # Migrations run before the port opens; instances take turns: allow minutes, not the default 30 s.
    assert startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3) >= 120


@pytest.mark.parametrize("name", SERVICES)
def test_resources_are_requested_and_limited_sensibly(base, name: str) -> None:
    pod = pod_spec(base, name)
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        resources = container.get("resources") or {}
        requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
        for key in ("cpu", "memory"):
            assert key in requests and key in limits, f"{container['name']}: {key} request and limit"
            assert quantity(requests[key]) <= quantity(limits[key])
    main = main_container(base, name)["resources"]
    # About 120 MB resident when idle (import and create_app of each service); a request below that
    # would schedule pods that the node then has to evict.
    assert 128 * 2**20 <= quantity(main["requests"]["memory"]) <= 512 * 2**20
    assert quantity(main["limits"]["memory"]) <= 2**30
    assert quantity(main["requests"]["cpu"]) <= 0.5


@pytest.mark.parametrize("name", SERVICES)
def test_pods_run_as_the_image_user_without_privileges_on_a_read_only_root(base, compose, name: str) -> None:
    pod = pod_spec(base, name)
    image = built_image(compose, name)
    image_user = int(image.final.all("USER")[-1].split(":")[0])
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] == image_user
    assert security["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["automountServiceAccountToken"] is False
    # Service links would put variables like BAOCAO_INTAKE_PORT=tcp://... into every pod: the BAOCAO_
    # prefix is the services' settings namespace.
    assert pod["enableServiceLinks"] is False
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        tmp = [m for m in container.get("volumeMounts") or [] if m["mountPath"] == "/tmp"]
        assert tmp and "emptyDir" in volumes[tmp[0]["name"]], f"{container['name']}: a writable /tmp"


@pytest.mark.parametrize("name", SERVICES)
def test_autoscaler_targets_the_deployment_within_the_partitions(base, name: str) -> None:
    hpa = find(base, "HorizontalPodAutoscaler", f"baocao-{name}")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == ("apps/v1", "Deployment", f"baocao-{name}")
    low, high = hpa["spec"].get("minReplicas", 1), hpa["spec"]["maxReplicas"]
    assert 1 <= low <= high
    # Every service consumes: a group uses at most one instance per partition.
    assert high <= partitions(base), f"{name}: maxReplicas {high} above BAOCAO_TOPIC_PARTITIONS"
    [metric] = hpa["spec"]["metrics"]
    assert metric["type"] == "Resource" and metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"
    assert "replicas" not in deployment(base, name)["spec"], "the autoscaler owns the count; apply must not reset it"


@pytest.mark.parametrize("name", SERVICES)
def test_service_and_disruption_budget_select_exactly_this_services_pods(base, name: str) -> None:
    labels = {n: deployment(base, n)["spec"]["template"]["metadata"]["labels"] for n in SERVICES}
    selector = deployment(base, name)["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels[name].items()
    svc = find(base, "Service", f"baocao-{name}")
    pdb = find(base, "PodDisruptionBudget", f"baocao-{name}")
    for chosen in (svc["spec"]["selector"], pdb["spec"]["selector"]["matchLabels"]):
        selected = [n for n in SERVICES if chosen.items() <= labels[n].items()]
        assert selected == [name]
    [port] = svc["spec"]["ports"]
    assert container_port(main_container(base, name), port["targetPort"]) == port["port"]
    min_replicas = find(base, "HorizontalPodAutoscaler", f"baocao-{name}")["spec"].get("minReplicas", 1)
    # A drain must be able to evict one pod; and never every pod at once.
    if "maxUnavailable" in pdb["spec"]:
        assert 1 <= int(pdb["spec"]["maxUnavailable"]) < min_replicas
    else:
        assert int(pdb["spec"]["minAvailable"]) < min_replicas


@pytest.mark.parametrize("name", SERVICES)
def test_environment_names_are_settings_the_service_reads(base, name: str) -> None:
    readable = settings_names(name)
    env = container_environment(base, main_container(base, name))
    unknown = sorted(set(env) - readable)
    assert unknown == [], f"{name} reads no such setting (renamed or misspelt?)"


@pytest.mark.parametrize("name", SERVICES)
def test_settings_accept_the_environment(base, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    container = main_container(base, name)
    env = container_environment(base, container)
    secrets = secret_refs(container)
    placeholders = {
        "BAOCAO_DATABASE_URL": f"postgresql+asyncpg://baocao:secret@postgres.example:5432/{name}",
        "BAOCAO_WEBHOOK_SECRET": "whsec_" + base64.b64encode(b"k" * 32).decode(),
    }
    for var in secrets:
        env[var] = placeholders.get(var, "secret-value")
    settings = app_settings(name, env, monkeypatch)
    assert settings.env == "production" and settings.clock == "system"
    assert settings.http_host == "0.0.0.0"
    assert settings.http_port == container_port(container, "http")
    assert settings.topic_partitions == partitions(base)
    assert settings.consumer_group_prefix == "", "the groups the Strimzi overlay's dead-letter topics are named after"
    services = {n: find(base, "Service", f"baocao-{n}") for n in SERVICES}
    assert settings.service_urls == {
        n: f"http://{svc['metadata']['name']}:{svc['spec']['ports'][0]['port']}" for n, svc in services.items()
    }
    assert make_url(settings.database_url).database == name


def test_each_service_has_its_own_database(base) -> None:
    refs = {name: secret_refs(main_container(base, name))["BAOCAO_DATABASE_URL"] for name in SERVICES}
    assert all(not ref.get("optional") for ref in refs.values()), "a service without its database does not start"
    assert len({(ref["name"], ref["key"]) for ref in refs.values()}) == len(SERVICES)


def test_intake_signs_with_a_key_from_a_secret_that_the_others_do_not_need(base) -> None:
    pod = pod_spec(base, "intake")
    container = main_container(base, "intake")
    key_file = PurePosixPath(container_environment(base, container)["BAOCAO_JWT_PRIVATE_KEY_FILE"])
    [mount] = [m for m in container["volumeMounts"] if key_file.parent == PurePosixPath(m["mountPath"])]
    [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    secret = volume["secret"]
    assert any(item["path"] == key_file.name for item in secret["items"]), "the key file is in the volume"
    assert secret["defaultMode"] & 0o040 and not secret["defaultMode"] & 0o007, "group-readable (fsGroup), not world"
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]
    for name in SERVICES:
        if name not in ("intake", "consolidation"):  # consolidation's own key signs reports, not tokens
            secret_volumes = [v for v in pod_spec(base, name).get("volumes") or [] if "secret" in v]
            assert secret_volumes == [], f"{name} verifies tokens with intake's JWKS and holds no key"


def test_consolidation_signs_reports_with_the_files_of_a_secret(base) -> None:
    """Each file a signing setting names (the key of every province in deploy/provinces, the passphrase
    file, the CA) is an item of a Secret volume mounted read-only; no passphrase in the environment."""
    pod = pod_spec(base, "consolidation")
    container = main_container(base, "consolidation")
    env = container_environment(base, container)
    assert "BAOCAO_SIGNING_PASSPHRASE" not in env, "the passphrase comes from its file"
    provinces = [
        str(yaml.safe_load(path.read_text(encoding="utf-8"))["province"]["code"])
        for path in sorted((ROOT / "deploy/provinces").glob("*.yaml"))
    ]
    assert provinces
    files = [env["BAOCAO_SIGNING_PKCS12"].format(province=code) for code in provinces]
    files += [env["BAOCAO_SIGNING_PASSPHRASE_FILE"], env["BAOCAO_SIGNING_TRUST_ROOTS"]]
    for file in map(PurePosixPath, files):
        [mount] = [m for m in container["volumeMounts"] if file.parent == PurePosixPath(m["mountPath"])]
        assert mount.get("readOnly"), f"{file}: mounted read-only"
        [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        secret = volume["secret"]
        assert any(item["path"] == file.name for item in secret["items"]), f"{file} is in the volume"
        mode = secret["defaultMode"]
        assert mode & 0o040 and not mode & 0o007, "group-readable (fsGroup), not world"
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]


def test_the_readme_says_how_to_create_every_secret_the_manifests_read(base) -> None:
    readme = (K8S / "README.md").read_text(encoding="utf-8")
    wanted: set[tuple[str, str]] = set()
    for name in SERVICES:
        pod = pod_spec(base, name)
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            wanted |= {(ref["name"], ref["key"]) for ref in secret_refs(container).values()}
        for volume in pod.get("volumes") or []:
            if "secret" in volume:
                wanted |= {(volume["secret"]["secretName"], item["key"]) for item in volume["secret"]["items"]}
    assert wanted
    for secret, key in sorted(wanted):
        assert secret in readme and key in readme, f"deploy/k8s/README.md does not mention Secret {secret} key {key}"


@pytest.mark.parametrize("name", SERVICES)
def test_the_topics_init_container_runs_the_script_in_the_service_image(base, name: str) -> None:
    pod = pod_spec(base, name)
    [init] = pod["initContainers"]
    assert init["image"] == main_container(base, name)["image"], "the image has aiokafka and baocao_shared"
    assert init["command"][0] == "python"
    script = PurePosixPath(init["command"][1])
    [mount] = [m for m in init["volumeMounts"] if script.parent == PurePosixPath(m["mountPath"])]
    [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    [item] = [i for i in volume["configMap"]["items"] if i["path"] == script.name]
    source = config_map(base, volume["configMap"]["name"])[item["key"]]
    assert source == (BASE / "ensure_topics.py").read_text(encoding="utf-8")
    env = {var["name"]: env_value(base, var) for var in init["env"]}
    service_env = container_environment(base, main_container(base, name))
    for key in ("BAOCAO_KAFKA_BOOTSTRAP_SERVERS", "BAOCAO_TOPIC_PARTITIONS", "BAOCAO_TOPIC_RETENTION_MS"):
        assert env[key] == service_env[key], f"the script and the service agree on {key}"
    group = importlib.import_module(f"{name}.consumers").GROUP
    assert env["DLQ_GROUPS"].split(",") == [group], "the dead-letter topic of this service's consumer group"
    assert int(env["TOPIC_REPLICATION_FACTOR"]) >= 1


# --- The Ingress: the path layout of deploy/proxy/Caddyfile ---------------------------------------


def ingress_rules(base: list[dict[str, Any]]) -> tuple[str, list[tuple[str, str, str]]]:
    """(host, [(path, pathType, service name)])."""
    [ingress] = [d for d in base if d["kind"] == "Ingress"]
    [rule] = ingress["spec"]["rules"]
    paths = [(p["path"], p["pathType"], p["backend"]["service"]["name"]) for p in rule["http"]["paths"]]
    return rule["host"], paths


def routed_to(path: str, paths: list[tuple[str, str, str]]) -> str | None:
    """Kubernetes Ingress matching: Exact, or Prefix by whole path elements; the longest match wins and
    Exact beats Prefix at equal length. None: no rule, so the controller's default backend (404)."""
    best: tuple[int, int, str] | None = None
    for rule_path, kind, backend in paths:
        if kind == "Exact":
            matched = path == rule_path
        else:
            assert kind == "Prefix", f"pathType {kind} is implementation-specific"
            elements = [e for e in rule_path.split("/") if e]
            matched = [e for e in path.split("/") if e][: len(elements)] == elements
        if matched:
            rank = (len(rule_path.rstrip("/")), kind == "Exact", backend)
            best = max(best, rank) if best else rank
    return best[2] if best else None


@pytest.mark.parametrize("name", SERVICES)
def test_every_page_and_api_of_a_service_reaches_it_through_the_ingress(base, name: str, tmp_path: Path) -> None:
    _, paths = ingress_rules(base)
    public = [p for p in app_paths(name, tmp_path) if not PER_SERVICE.match(p) and not (p == "/" and name != "intake")]
    assert len(public) > 3, public
    elsewhere = {p: routed_to(p, paths) for p in public if routed_to(p, paths) != f"baocao-{name}"}
    assert elsewhere == {}, f"{name}'s paths that the Ingress sends elsewhere (or nowhere)"
    if name == "intake":
        assert routed_to("/static/baocao.css", paths) == "baocao-intake", "the shared stylesheet"


@pytest.mark.parametrize(
    "path",
    ["/docs", "/openapi.json", "/redoc", "/metrics", "/readyz", "/healthz", "/v1/ops/pipeline", "/v1/ops/dlq/x/replay"],
)
def test_docs_metrics_probes_and_operations_stay_inside_the_cluster(base, path: str) -> None:
    _, paths = ingress_rules(base)
    assert routed_to(path, paths) is None


def test_ingress_backends_exist_and_links_point_at_its_https_origin(base) -> None:
    [ingress] = [d for d in base if d["kind"] == "Ingress"]
    host, _ = ingress_rules(base)
    for entry in ingress["spec"]["rules"][0]["http"]["paths"]:
        backend = entry["backend"]["service"]
        svc = find(base, "Service", backend["name"])
        assert backend["port"]["name"] in [p["name"] for p in svc["spec"]["ports"]]
    assert [host] in [tls["hosts"] for tls in ingress["spec"]["tls"]], "TLS for the host"
    public_urls = json.loads(config_map(base, "baocao-config")["BAOCAO_PUBLIC_URLS"])
    # https: the services then mark their cookies Secure (TLS ends at the Ingress).
    assert public_urls == {name: f"https://{host}" for name in SERVICES}


# --- The Strimzi overlay ---------------------------------------------------------------------------


def test_strimzi_overlay_declares_every_topic_as_the_services_need_it(base) -> None:
    """Checked by this test's reading of Strimzi's KafkaTopic (spec.topicName, partitions, replicas,
    config), not by Strimzi's CRD schema, which kubernetes-validate does not ship."""
    documents = render(STRIMZI)
    topics = [d for d in documents if d["kind"] == "KafkaTopic"]
    others = [d for d in documents if d["kind"] != "KafkaTopic"]
    assert sorted(map(json.dumps, others)) == sorted(map(json.dumps, base)), "the overlay adds topics only"
    groups = [importlib.import_module(f"{name}.consumers").GROUP for name in SERVICES]
    wanted = {spec.name: spec for spec in TOPICS} | {dlq_topic(g): dead_letter_topic(g) for g in groups}
    declared = {t["spec"]["topicName"]: t for t in topics}
    assert sorted(declared) == sorted(wanted)
    bootstrap = config_map(base, "baocao-config")["BAOCAO_KAFKA_BOOTSTRAP_SERVERS"]
    replicas = int(config_map(base, "baocao-topics")["TOPIC_REPLICATION_FACTOR"])
    for name, topic in declared.items():
        spec = topic["spec"]
        assert set(spec) <= {"topicName", "partitions", "replicas", "config"}, f"{name}: {sorted(spec)}"
        assert spec["partitions"] == partitions(base) and spec["replicas"] == replicas
        assert {k: str(v) for k, v in (spec.get("config") or {}).items()} == wanted[name].config
        cluster = topic["metadata"]["labels"]["strimzi.io/cluster"]
        assert bootstrap.startswith(f"{cluster}-kafka-bootstrap"), "the topics belong to the cluster the services use"


def test_every_topic_is_kept_for_the_one_archival_period(base) -> None:
    """BAOCAO_TOPIC_RETENTION_MS (forever by default) is what the init container sets on every topic and what
    each Strimzi KafkaTopic declares, dead letters included: no topic falls back to the broker's 7 days."""
    period = config_map(base, "baocao-config")["BAOCAO_TOPIC_RETENTION_MS"]
    assert period == "-1", "the default archival period is forever"
    declared = {
        d["spec"]["topicName"]: d["spec"].get("config") or {} for d in render(STRIMZI) if d["kind"] == "KafkaTopic"
    }
    assert declared and {name: str(config.get(RETENTION)) for name, config in declared.items()} == dict.fromkeys(
        declared, period
    )


# --- The init container's script, against the real broker of the test session --------------------


def load_script() -> Any:
    spec = importlib.util.spec_from_file_location("ensure_topics", BASE / "ensure_topics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def describe(bootstrap: str, names: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}
    finally:
        await admin.close()


@pytest.mark.integration
async def test_script_creates_missing_topics_with_their_config_once(kafka) -> None:
    script = load_script()
    tag = uuid.uuid4().hex[:8]
    specs = [
        TopicSpec(f"k8s-test.{tag}.compacted", "", "", {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}),
        TopicSpec(f"k8s-test.{tag}.plain", "", ""),
    ]
    created, problems = await script.ensure_topics(kafka.bootstrap, specs, partitions=2, replication_factor=1)
    assert sorted(created) == sorted(s.name for s in specs) and problems == []
    assert await describe(kafka.bootstrap, [s.name for s in specs]) == {s.name: 2 for s in specs}
    again = await script.ensure_topics(kafka.bootstrap, specs, partitions=2, replication_factor=1)
    assert again == ([], []), "a second pod finds everything in place"


@pytest.mark.integration
async def test_script_names_an_existing_topic_whose_config_would_lose_data(kafka) -> None:
    script = load_script()
    name = f"k8s-test.{uuid.uuid4().hex[:8]}.auto-created"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1)])  # as a broker's auto-creation would: not compacted
    finally:
        await admin.close()
    spec = TopicSpec(name, "", "", {"cleanup.policy": "compact"})
    created, problems = await script.ensure_topics(kafka.bootstrap, [spec], partitions=3, replication_factor=1)
    assert created == []
    assert len(problems) == 1 and f"topic {name} has cleanup.policy=delete" in problems[0]


@pytest.mark.integration
async def test_script_gives_an_existing_topic_the_archival_period_and_keeps_its_settings(kafka) -> None:
    script = load_script()
    tag = uuid.uuid4().hex[:8]
    name = f"k8s-test.{tag}.made-by-an-older-release"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:  # compacted, under the broker's 7-day retention
        await admin.create_topics([NewTopic(name, 1, 1, topic_configs={"cleanup.policy": "compact"})])
    finally:
        await admin.close()
    spec = TopicSpec(name, "", "", {"cleanup.policy": "compact", RETENTION: "-1"})
    retained: list[str] = []
    created, problems = await script.ensure_topics(
        kafka.bootstrap, [spec], partitions=1, replication_factor=1, retained=retained
    )
    assert (created, problems, retained) == ([], [], [name])
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    finally:
        await admin.close()
    configs = {entry[0]: entry[1] for entry in response.resources[0][4]}
    assert (configs[RETENTION], configs["cleanup.policy"]) == ("-1", "compact")
    retained.clear()
    assert await script.ensure_topics(kafka.bootstrap, [spec], partitions=1, replication_factor=1, retained=retained)
    assert retained == [], "the next pod finds it in place"


@pytest.mark.integration
def test_the_init_container_command_readies_the_real_topics(base, kafka) -> None:
    """The intake pod's init container, as the manifest runs it, with two values changed for the test
    broker: its address, and one replica (it is one broker). The session fixture has already created
    the five topics the way the local stack does, so this finds them correct and creates the group's
    dead-letter topic (a unique group, to leave the shared broker's real ones alone)."""
    [init] = pod_spec(base, "intake")["initContainers"]
    env = {var["name"]: env_value(base, var) for var in init["env"]}
    group = f"k8s-test-{uuid.uuid4().hex[:8]}"
    env |= {"BAOCAO_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap, "TOPIC_REPLICATION_FACTOR": "1", "DLQ_GROUPS": group}
    result = subprocess.run(
        [sys.executable, str(BASE / "ensure_topics.py")],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("BAOCAO_")}, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"created topic {dlq_topic(group)} (3 partitions, 1 replicas)"]
    counts = asyncio.run(describe(kafka.bootstrap, [dlq_topic(group), *(t.name for t in TOPICS)]))
    assert counts[dlq_topic(group)] == partitions(base)
    assert all(count >= 1 for count in counts.values())
