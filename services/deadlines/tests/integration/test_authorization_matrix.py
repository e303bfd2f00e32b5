"""Every deadlines route (API, dashboard pages, forms, system page, ops) x every actor.

Province 51 (units CA and BTG, a plan of its own, June 2019 opened) and province 52 are stored through
the catalogue handlers; tokens come from a TokenMint the app trusts.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from baocao_shared.events.catalog import ProvinceV1, UnitV1
from baocao_testing.authz import (
    ADMIN_ONLY,
    EVERYONE,
    OPS_READERS,
    PROVINCE_OPERATORS,
    PROVINCE_STAFF,
    Row,
    actors,
    assert_covers,
    assert_matrix,
    minted,
    ops_rows,
)
from baocao_testing.kit import TokenMint
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.config import Settings
from deadlines.handlers import catalog
from deadlines.handlers.scheduler import tick
from deadlines.main import create_app
from intake.domain.catalog import parse_province_file
from services.deadlines.tests.integration.apps import INTAKE, pages_settings, utc

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
OWN, OTHER = "51", "52"  # no other test's provinces: the app reads the shared broker
ACTORS = actors(OWN, "CA", "BTG", OTHER, "CA")
PLAN = HAI_DUONG.plans[0].model_copy(
    update={"province": OWN, "units": ["CA", "BTG"], "id": f"az-{uuid.uuid4().hex[:8]}"}
)


@pytest.fixture(scope="module")
async def deadlines(postgres, kafka):
    mint = TokenMint()
    app = create_app(await pages_settings(postgres, kafka), verifier=mint.verifier())
    async with app.router.lifespan_context(app):
        async with DeadlinesUnitOfWork.begin(app.state.runtime.sessionmaker) as uow:
            for code in (OWN, OTHER):
                place = ProvinceV1(code=code, name=f"Tỉnh Thử {code}", issuing_body="BAN CHỈ ĐẠO THỬ", place_name="Thử")
                await catalog.province_upserted(uow, place)
                for unit in ("CA", "BTG"):
                    await catalog.unit_upserted(uow, UnitV1(province=code, code=unit, name=unit, kind="member"))
            await catalog.plan_upserted(uow, PLAN)
        await tick(app.state.runtime.sessionmaker, now=utc("2019-06-10T10:00:00+07:00"))  # opens June
        yield app, mint


def operators_own_dashboard(actor: str, answer) -> str | None:
    """/tien-do without a province sends an operator to their own province's dashboard."""
    where = answer.headers.get("location", "")
    if actor.startswith("operator") and f"province={ACTORS[actor][1]}" not in where:
        return f"sent to {where!r}, not to the operator's own province"
    return None


# The national level (issue 18 §1): every province's report to the national office, for the national office.
NATIONAL_OFFICE = OPS_READERS


def rows() -> list[Row]:
    june = f"province={OWN}&period=2019-06&plan_id={PLAN.id}"
    nudge = {"province": OWN, "period": "2019-06", "plan_id": PLAN.id, "units": ["CA"]}
    national = {"period": "2019-06", "plan_id": PLAN.id, "provinces": [OWN]}
    return [
        Row("GET", "/v1/compliance", PROVINCE_STAFF, url=f"/v1/compliance?{june}"),
        Row(
            "GET",
            "/v1/compliance",
            NATIONAL_OFFICE,
            url=f"/v1/compliance?level=national&period=2019-06&plan_id={PLAN.id}",
        ),
        Row("POST", "/v1/nudges/national", NATIONAL_OFFICE, kwargs={"json": national}),
        Row("GET", "/tien-do/quoc-gia", NATIONAL_OFFICE, page=True),
        Row("POST", "/tien-do/quoc-gia/nhac", NATIONAL_OFFICE, page=True, kwargs={"data": national}),
        Row("POST", "/v1/nudges", PROVINCE_OPERATORS, kwargs={"json": nudge}),
        # Where a period stands is no secret: every signed-in principal may ask, as in intake and consolidation.
        Row("GET", "/v1/periods/{province}", EVERYONE, url=f"/v1/periods/{OWN}?plan_id={PLAN.id}"),
        Row("GET", "/v1/periods/{province}/{period}", EVERYONE, url=f"/v1/periods/{OWN}/2019-06?plan_id={PLAN.id}"),
        *ops_rows(),
        Row("GET", "/", EVERYONE, page=True),
        Row("GET", "/tien-do", EVERYONE, page=True, scope=operators_own_dashboard),
        Row("GET", "/tien-do", PROVINCE_STAFF, url=f"/tien-do?{june}", page=True),
        Row("POST", "/tien-do/nhac", PROVINCE_OPERATORS, page=True, kwargs={"data": nudge}),
        Row("GET", "/he-thong", OPS_READERS, page=True),
        Row("POST", "/he-thong/phat-lai", ADMIN_ONLY, page=True, kwargs={"data": {"service": "deadlines"}}),
    ]


async def test_every_route_has_a_row():
    assert_covers(create_app(Settings(database_url="postgresql+asyncpg://u@127.0.0.1/x")), rows())


async def test_authorization_matrix(deadlines):
    app, mint = deadlines
    await assert_matrix(
        app, rows(), minted(mint, ACTORS), login=f"{INTAKE}/dang-nhap", base_url="http://deadlines.test"
    )
