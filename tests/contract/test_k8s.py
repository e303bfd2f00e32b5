"""deploy/k8s: the Kubernetes manifests, checked against the Kubernetes schemas and against the services.

kustomize is not installed here, so `render` (tests/contract/k8s_manifests.py) builds a kustomization the
way `kubectl apply -k` would, for the few features these files use, and refuses any other. Every rendered
document is validated with kubernetes-validate against the newest Kubernetes schemas it ships, in strict
mode (an unknown or misspelt field fails). Strimzi's KafkaTopic is a custom resource whose schema is not
among them: its metadata is validated against ObjectMeta, and its spec by test_k8s_ingress_topics.py's own
reading (`test_strimzi_overlay_declares_every_topic_as_the_services_need_it`).

Then come the checks an operator relies on: probes on /readyz and /healthz at the container's port,
requests and limits, an autoscaler per Deployment bounded by the partitions, Services that select the
pods, environment names that the services' Settings classes read (a renamed setting fails here) and
values those classes accept, images and ports as docker-compose.yml builds them. The Ingress, the Strimzi topics
and the init container's topic script are in test_k8s_ingress_topics.py.
"""

from __future__ import annotations

import base64
import copy
import importlib
import importlib.util
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.contract.k8s_manifests import (
    BASE,
    CUSTOM_RESOURCES,
    K8S,
    KUBERNETES_VERSION,
    ROOT,
    STRIMZI,
    UnsupportedKustomization,
    config_map,
    container_environment,
    container_port,
    deployment,
    env_value,
    find,
    main_container,
    partitions,
    pod_spec,
    quantity,
    render,
    secret_refs,
    settings_names,
    split_image,
    validate,
    validate_object_meta,
)
from tests.contract.test_compose import SERVICES, app_settings, built_image, environment, service

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
