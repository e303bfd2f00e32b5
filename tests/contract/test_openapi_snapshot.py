"""The HTTP contract has a snapshot: each service's OpenAPI document is committed under docs/openapi/, and a
change of routes, parameters, bodies or answers fails here until the snapshot is written again (`make openapi`),
so that the change is a visible diff in review."""

import pytest

from baocao_testing.openapi import SERVICES, document, drift


@pytest.mark.parametrize("service", SERVICES)
def test_the_served_openapi_document_is_the_committed_one(service):
    diff = drift(service)
    assert not diff, f"{service}'s HTTP contract changed; review this diff, then run `make openapi`:\n{diff[:6000]}"


def test_every_service_documents_its_versioned_api_and_its_probes():
    for service in SERVICES:
        paths = document(service)["paths"]
        assert {"/healthz", "/readyz"} <= set(paths), service
        assert any(p.startswith("/v1/") for p in paths), f"{service} documents no /v1 operation"
