"""Bad input (issue 8): schemathesis against every service's OpenAPI document, with valid tokens and without.

Each of intake, deadlines, consolidation and notify runs as a real app (create_app on a fresh database of
the session's PostgreSQL and on the session's Kafka, its lifespan entered), served by uvicorn on a free
loopback port. Its own /openapi.json is loaded, and every operation in it gets generated requests: fitting
the schema (positive), not fitting it (negative, for operations with parameters or a body), and built from
the schema's own examples (province 30, unit CA, period 2019-06, ...), from four callers:

- admin:     a valid token of an administrator;
- reporter:  a valid token of one unit's reporter (province 30, unit CA);
- anonymous: no Authorization header at all;
- forged:    whatever Authorization value schemathesis generates for the declared security scheme, and
             where it generates none, an admin's token signed with a key the service does not know.

intake's database holds Hải Dương's catalogue (province 30 and its units, stored without publishing, its
plan under an id of its own so that no generated report is accepted and published on the session's broker),
so the examples reach real rows. The other services start empty: their answers are 404s and empty lists,
and their success paths are their own integration tests' business.

Every answer must be no 5xx, documented (status code), of the documented content type, and match the
documented schema. Failures are collected per operation and reported together.

The HTML pages are not in the schema (their routes have include_in_schema=False), and neither are
/metrics, /openapi.json and /docs: they are not fuzzed here (tests/browser and the pages' own tests cover them).
The ops endpoints (/v1/ops/pipeline, /v1/ops/dlq/{group}/replay) are in every schema and are fuzzed.

Bounded: BAOCAO_FUZZ_EXAMPLES (default 4) examples per operation, mode and caller, derandomized, no
shrinking, no deadline. `BAOCAO_FUZZ_EXAMPLES=50 uv run --frozen pytest tests/security/test_openapi_fuzz.py`
for a longer run.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from baocao_shared.db import make_engine
from baocao_shared.principal import Principal, Role
from baocao_stack.ports import free_port
from baocao_testing.fixtures import create_database
from baocao_testing.kit import TokenMint, fresh_group_prefix, served, wait_until

EXAMPLES = int(os.environ.get("BAOCAO_FUZZ_EXAMPLES", "4"))
pytestmark = [
    pytest.mark.integration,
    pytest.mark.fuzz,  # make test runs it; make check, the edit loop, leaves it out
    # schemathesis' strategies draw from `random`, which hypothesis seeds itself under derandomize=True.
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
    # intake takes ~6 s per example count (100 examples: ~570 s on two busy cores); the suite's 300 s otherwise.
    pytest.mark.timeout(max(300, 15 * EXAMPLES)),
]

REPO = Path(__file__).resolve().parents[2]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CALLERS = ("admin", "reporter", "anonymous", "forged")
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: a call to another service fails at once


@dataclass
class Served:
    name: str
    url: str
    tokens: dict[str, str]
    schema: object = None
    requests: int = 0
    operations: int = 0
    # Requests to operations that need a token, and those of them that carried one, by (caller, kind): the runs
    # are what they say they are.
    with_token: Counter = field(default_factory=Counter)
    sent: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def _common(database_url: str, bootstrap: str, group_prefix: str) -> dict:
    return {
        "database_url": database_url,
        "kafka_bootstrap_servers": bootstrap,
        "env": "test",
        "consumer_group_prefix": group_prefix,
        "outbox_poll_interval_s": 0.5,
        "service_urls": {"intake": UNREACHABLE, "deadlines": UNREACHABLE},
    }


def build_app(name: str, common: dict, mint: TokenMint):
    """The service's app as its composition root builds it, and a token per caller."""
    if name == "intake":
        from intake.config import Settings
        from intake.main import create_app

        app = create_app(Settings(**common, home=Path(tempfile.mkdtemp(prefix="fuzz-intake-"))))
        sign = app.state.authenticator.issue

        def token(role: str, province: str | None = None, unit: str | None = None) -> str:
            return sign(Principal(subject=f"fuzz-{role}", role=Role(role), province=province, unit=unit)).access_token

    else:
        module = __import__(f"{name}.main", fromlist=["create_app"])
        config = __import__(f"{name}.config", fromlist=["Settings"])
        extra = {
            "deadlines": {
                "scheduler_enabled": False,
                "clock": "simulated",
                "clock_start": datetime(2019, 6, 20, tzinfo=UTC),
            },
            "consolidation": {"clock": "simulated", "clock_start": datetime(2019, 6, 18, tzinfo=UTC)},
            "notify": {"sender_enabled": False},
        }[name]
        app = module.create_app(config.Settings(**common, **extra), verifier=mint.verifier())
        token = mint.token
    forged = TokenMint().token("admin")  # well formed, signed by another key
    return app, {"admin": token("admin"), "reporter": token("reporter", "30", "CA"), "forged": forged}


@pytest.fixture(scope="module", params=("intake", "deadlines", "consolidation", "notify"))
async def service(request, postgres, kafka):
    name = request.param
    database_url = await create_database(postgres, f"fuzz{name}")
    groups = await fresh_group_prefix(kafka.bootstrap, tag="fuzz")
    app, tokens = build_app(name, _common(database_url, kafka.bootstrap, groups), TokenMint())
    with served(app, free_port(), f"fuzz-{name}") as url:
        if name == "intake":
            await seed_catalogue(database_url)
        # /readyz answers 503 until the consumers have joined Kafka: that is its contract, not a fault.
        await wait_until(lambda: _ready(url), timeout=60, interval=0.2, what=f"{name} ready")
        yield Served(name=name, url=url, tokens=tokens)


async def _ready(url: str) -> bool:
    async with httpx.AsyncClient(timeout=5) as http:
        return (await http.get(f"{url}/readyz")).status_code == 200


async def seed_catalogue(database_url: str) -> None:
    """Hải Dương's province, units and plan in intake's tables, as its catalogue consumer stores them."""
    from intake.adapters import orm
    from intake.domain.catalog import parse_province_file

    catalogue = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
    plans = [plan.model_copy(update={"id": f"fuzz-{uuid.uuid4().hex[:8]}"}) for plan in catalogue.plans]
    engine = make_engine(database_url)
    try:
        async with engine.begin() as db:
            p = catalogue.province
            await db.execute(orm.provinces.insert().values(code=p.code, doc=p.model_dump(mode="json")))
            for u in catalogue.units:
                row = {"province": u.province, "code": u.code, "active": u.active, "doc": u.model_dump(mode="json")}
                await db.execute(orm.units.insert().values(**row))
            for plan in plans:
                row = {"province": plan.province, "id": plan.id, "active": plan.active}
                await db.execute(orm.plans.insert().values(**row, doc=plan.model_dump(mode="json")))
    finally:
        await engine.dispose()


def strategies(schema, operation):
    """(name, strategy) of each kind of request the operation gets."""
    yield "positive", operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    raw = operation.definition.raw
    if raw.get("parameters") or raw.get("requestBody"):  # else nothing to break but the token: the anonymous run
        yield "negative", operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    examples = schema.get_strategies_from_examples(operation)
    if examples:
        yield "examples", st.one_of(examples)


def run_operation(target: Served, operation, kind: str, strategy, caller: str, session: requests.Session) -> None:
    headers = {"Authorization": f"Bearer {target.tokens[caller]}"} if caller in ("admin", "reporter") else None

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case) -> None:
        generated = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        if caller == "anonymous":
            case.headers = generated
        elif caller == "forged" and len(generated) == len(case.headers or {}):
            case.headers = {**generated, "Authorization": f"Bearer {target.tokens['forged']}"}
        response = case.call(base_url=target.url, session=session, headers=headers, timeout=30)
        target.requests += 1
        if operation.definition.raw.get("security"):
            target.sent[caller, kind] += 1
            target.with_token[caller, kind] += "Authorization" in response.request.headers
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        check()
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup; collected, so one run names all
        target.failures.append(f"--- {operation.label} [{kind}, {caller}]\n{exc}")


def test_every_operation_answers_within_its_documented_contract(service: Served):
    raw = requests.get(f"{service.url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(raw)
    operations = [result.ok() for result in schema.get_all_operations()]
    service.operations = len(operations)
    assert operations, f"{service.name}'s schema lists no operation"
    started = time.monotonic()
    with requests.Session() as session:
        for operation in operations:
            for kind, strategy in strategies(schema, operation):
                for caller in CALLERS:
                    run_operation(service, operation, kind, strategy, caller, session)
    print(
        f"{service.name}: {service.operations} operations, {service.requests} requests, "
        f"{time.monotonic() - started:.1f} s"
    )
    assert not service.failures, f"{len(service.failures)} failing runs\n" + "\n".join(service.failures)
    anonymous = sum(n for (caller, _), n in service.with_token.items() if caller == "anonymous")
    assert anonymous == 0, "the anonymous runs sent a token"
    # Requests that fit the schema, and the schema's examples, carry the caller's token every time; negative
    # mode may drop it on purpose (a 401 then), so there only some must carry it.
    for caller in ("admin", "reporter", "forged"):
        for kind in ("positive", "examples"):
            assert service.with_token[caller, kind] == service.sent[caller, kind], (caller, kind, service.with_token)
        assert service.sent[caller, "positive"] > 0, f"no {caller} request to a secured operation"
        if service.sent[caller, "negative"]:
            assert service.with_token[caller, "negative"] > 0, (caller, service.with_token, service.sent)
