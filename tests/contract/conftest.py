"""Fixtures of the contract tests: the rendered Kubernetes base and docker-compose.yml."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.contract.k8s_manifests import BASE, ROOT, render


@pytest.fixture(scope="module")
def base() -> list[dict[str, Any]]:
    """deploy/k8s/base as `kubectl apply -k` renders it."""
    return render(BASE)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
