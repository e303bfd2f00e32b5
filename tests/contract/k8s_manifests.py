"""The Kubernetes manifests of deploy/k8s as the contract tests read them (tests/contract/test_k8s*.py).

kustomize is not installed here, so `render` builds a kustomization the way `kubectl apply -k` would, for the few
features these files use: `resources` (files and directories), `configMapGenerator` (files and literals, without
name hashes) and `images`. It refuses any other feature, so a patch added later fails the tests instead of being
silently ignored. The rest finds documents, containers, settings and quantities in what it renders.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import kubernetes_validate
import referencing
import yaml
from kubernetes_validate.utils import schema_contents

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
