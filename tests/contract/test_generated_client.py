"""A client generated from our OpenAPI documents covers every operation, and works.

`openapi-python-client` (the generator many Python users reach for) runs on each committed document
(docs/openapi/<service>.json, which test_openapi_snapshot keeps equal to what the service serves). Every operation
of the document must have its module in the generated `api/` package, with its method and path and the four
call functions; the generator's warnings must be the known ones below, none of them an operation left out.
Then the generated intake client signs in with the password form, reads the provinces, loads a province file as
JSON and reads a refusal as `ErrorOut`, against a real intake served by uvicorn on a loopback port.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from baocao_shared.db import make_engine, make_sessionmaker, upgrade_database
from baocao_stack.ports import free_port
from baocao_testing.fixtures import create_database
from baocao_testing.kit import fresh_group_prefix, served
from baocao_testing.openapi import SERVICES, snapshot_path
from baocao_testing.samples import without_the_merger, without_the_national_regime

REPO = Path(__file__).resolve().parents[2]
HAI_DUONG = (REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8")
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
# The generator's warnings on our documents, each with why it is right. Any other warning fails the test.
KNOWN_WARNINGS = {
    # The YAML form of the province file is for people and curl; the same document as JSON is the client's body.
    ("intake", "PUT /v1/admin/provinces/{code}"): "Unsupported content type application/yaml",
    ("intake", "PUT /v1/admin/regimes/{regime_id}"): "Unsupported content type application/yaml",  # the same
    # A Word, PDF or Excel file: the generated call returns the response, whose bytes the caller saves.
    ("consolidation", "GET /v1/reports/{province}/{period}.docx"): "Cannot parse response for status code",
    ("consolidation", "GET /v1/reports/{province}/{period}.pdf"): "Cannot parse response for status code",
    ("consolidation", "GET /v1/reports/{province}/{period}.xlsx"): "Cannot parse response for status code",
}
WARNING = re.compile(r"^WARNING parsing (\w+) (\S+) within [^\n]*?\.( Endpoint will not be generated\.)?$")
CALL = re.compile(r'"method": "(\w+)",\s*"url": "([^"]+)"')
PASSWORD = "mật-khẩu-thử-client"


def operations(service: str) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation in the committed document."""
    paths = json.loads(snapshot_path(service).read_text(encoding="utf-8"))["paths"]
    return {(method.upper(), path) for path, item in paths.items() for method in item if method in METHODS}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    """Each service's generated client package and what the generator printed; the four run side by side."""
    root = tmp_path_factory.mktemp("clients")
    config = root / "generator.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run: the generated code is imported as it is written
    runs = {}
    for service in SERVICES:
        out = root / f"{service}_client"
        command = ["generate", "--path", str(snapshot_path(service)), "--output-path", str(out), "--meta", "none"]
        runs[service] = subprocess.Popen(
            [sys.executable, "-m", "openapi_python_client", *command, "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    found = {}
    for service, run in runs.items():
        output, _ = run.communicate(timeout=240)
        assert run.returncode == 0, f"the generator failed on {service}'s document:\n{output}"
        found[service] = (root / f"{service}_client", output)
    return found


def warnings_in(output: str) -> dict[str, tuple[str, bool]]:
    """'METHOD path' -> (the warning's first line of detail, whether the operation was left out)."""
    lines = output.splitlines()
    found = {}
    for i, line in enumerate(lines):
        if match := WARNING.match(line.strip()):
            detail = next((rest.strip() for rest in lines[i + 1 :] if rest.strip()), "")
            found[f"{match[1]} {match[2]}"] = (detail, bool(match[3]))
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_the_generated_client_has_a_function_for_every_operation(service, generated):
    package, output = generated[service]
    assert "Unable to" not in output and "will not be generated" not in output, output
    for operation, (detail, skipped) in warnings_in(output).items():
        known = KNOWN_WARNINGS.get((service, operation))
        assert not skipped and known and detail.startswith(known), f"{service}: {operation}: {detail}\n{output}"

    modules = sorted((package / "api").rglob("*.py"))
    calls: dict[tuple[str, str], str] = {}
    for module in modules:
        if module.name == "__init__.py":
            continue
        source = module.read_text(encoding="utf-8")
        [(method, url)] = CALL.findall(source)
        for function in ("sync", "sync_detailed", "asyncio", "asyncio_detailed"):
            assert re.search(rf"^(async )?def {function}\(", source, re.M), f"{module.name} has no {function}()"
        calls[(method.upper(), url)] = module.relative_to(package).with_suffix("").as_posix()
    expected = operations(service)
    assert set(calls) == expected, (
        f"left out: {sorted(expected - set(calls))}; unknown: {sorted(set(calls) - expected)}"
    )
    assert len(calls) == len(expected) > 0


@pytest.mark.integration
async def test_the_generated_intake_client_signs_in_reads_and_loads_a_province_as_json(
    generated, postgres, kafka, tmp_path, monkeypatch
):
    from intake.adapters.uow import IntakeUnitOfWork
    from intake.config import Settings
    from intake.handlers import accounts
    from intake.main import MIGRATIONS, create_app

    package, _ = generated["intake"]
    monkeypatch.syspath_prepend(str(package.parent))
    client_module = importlib.import_module("intake_client")
    api = "intake_client.api"
    issue_token = importlib.import_module(f"{api}.accounts.issue_token_v1_auth_token_post")
    provinces = importlib.import_module(f"{api}.catalogue.provinces_v1_provinces_get")
    units = importlib.import_module(f"{api}.catalogue.units_v1_units_get")
    load_province = importlib.import_module(f"{api}.catalogue.load_province_v1_admin_provinces_code_put")
    models = importlib.import_module("intake_client.models")

    url = await create_database(postgres, "client")
    await upgrade_database(MIGRATIONS, url)
    engine = make_engine(url, pool_size=1)
    try:
        async with IntakeUnitOfWork(make_sessionmaker(engine)()) as uow:
            await accounts.create_account(
                uow, username="client-admin", password=PASSWORD, role="admin", province=None, unit=None,
                actor="test", now=datetime.now(UTC),
            )  # fmt: skip
    finally:
        await engine.dispose()
    groups = await fresh_group_prefix(kafka.bootstrap)
    settings = Settings(
        database_url=url, kafka_bootstrap_servers=kafka.bootstrap, env="test", home=tmp_path / "home",
        consumer_group_prefix=groups,
    )  # fmt: skip
    # A province code of its own: the catalogue events this load publishes are nobody else's.
    # Without Hải Dương's merger into Hải Phòng (its successors are not in this database), in no national regime.
    text = without_the_national_regime(without_the_merger(HAI_DUONG))
    document = yaml.safe_load(text.replace('code: "30"', 'code: "97"', 1))
    document = json.loads(json.dumps(document, ensure_ascii=False, default=str))  # YAML's dates as ISO text
    assert document["province"]["code"] == "97"

    app = create_app(settings)
    with served(app, free_port(), "intake", access_log=False) as base_url:
        anonymous = client_module.Client(base_url=base_url, raise_on_unexpected_status=True)
        token = await issue_token.asyncio(
            client=anonymous,
            body=models.BodyIssueTokenV1AuthTokenPost(username="client-admin", password=PASSWORD),
        )
        assert isinstance(token, models.TokenOut) and token.access_token, token
        admin = client_module.AuthenticatedClient(base_url=base_url, token=token.access_token)

        assert await provinces.asyncio(client=admin) == []
        loaded = await load_province.asyncio_detailed(
            code="97", client=admin, body=models.ProvinceFile.from_dict(document)
        )
        assert loaded.status_code == 200, loaded.content
        assert len(json.loads(loaded.content)["created"]) == 1 + 29 + 1
        [province] = await provinces.asyncio(client=admin)
        assert isinstance(province, models.ProvinceV1)
        assert (province.code, province.name) == ("97", "Hải Dương")
        found = await units.asyncio(client=admin, province="97")
        assert len(found) == 29 and all(isinstance(u, models.UnitV1) for u in found)

        refused = await load_province.asyncio_detailed(
            code="98", client=admin, body=models.ProvinceFile.from_dict(document)
        )
        assert refused.status_code == 422 and isinstance(refused.parsed, models.ErrorOut)
        assert refused.parsed.error.code == "validation_failed" and "not 98" in refused.parsed.error.message
