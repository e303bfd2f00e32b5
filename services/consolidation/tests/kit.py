"""What consolidation's tests share: Hải Dương's catalogue from deploy/, a running app on a fresh database,
and test provinces seeded through the projection's own use cases.

    async with running(postgres, kafka, clock_start=datetime(2019, 6, 18, tzinfo=UTC)) as (app, mint):
        await seed(app, [province_for_tests("53")], units=["CA"], plans=[plan])
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI

from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from baocao_testing.fixtures import create_database
from baocao_testing.kit import TokenMint, fresh_group_prefix
from baocao_testing.samples import regime_file
from baocao_testing.signing import signing_settings
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.config import Settings
from consolidation.handlers import projection
from consolidation.main import create_app
from intake.domain.catalog import parse_province_file
from intake.domain.regimes import parse_regime_file

REPO = Path(__file__).resolve().parents[3]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
NHAN_QUYEN = parse_regime_file(regime_file()).regime  # the national regime plan 467 reports into
CODES = [i.code for task in HAI_DUONG.plans[0].template.tasks for i in task.indicators]


@asynccontextmanager
async def running(postgres, kafka, *, clock_start: datetime, **settings) -> AsyncIterator[tuple[FastAPI, TokenMint]]:
    """consolidation on a fresh database and its own consumer group, on a simulated clock; and the mint of
    the tokens it accepts."""
    mint = TokenMint()
    app = create_app(
        Settings(
            database_url=await create_database(postgres, "consolidation"),
            env="test",
            kafka_bootstrap_servers=kafka.bootstrap,
            consumer_group_prefix=await fresh_group_prefix(kafka.bootstrap),
            outbox_poll_interval_s=0.2,
            clock="simulated",
            clock_start=clock_start,
            **{**signing_settings(), **settings},
        ),
        verifier=mint.verifier(),
    )
    async with app.router.lifespan_context(app):
        yield app, mint


def province_for_tests(code: str) -> ProvinceV1:
    return ProvinceV1(code=code, name=f"Tỉnh Thử {code}", issuing_body="BAN CHỈ ĐẠO THỬ", place_name="Thử")


async def seed(app: FastAPI, provinces: Sequence[ProvinceV1], *, units: Sequence[str], plans: Sequence[PlanV1]) -> None:
    """The provinces, each with these units, and the plans, straight into the app's projection."""
    async with app.state.runtime.sessionmaker() as db, ConsolidationUnitOfWork(db) as uow:
        for place in provinces:
            await projection.province_upserted(uow, place)
            for code in units:
                await projection.unit_upserted(uow, UnitV1(province=place.code, code=code, name=code, kind="member"))
        for plan in plans:
            await projection.plan_upserted(uow, plan)
