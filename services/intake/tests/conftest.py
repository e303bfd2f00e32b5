"""Fixtures for intake's tests: a running intake on a fresh database, and signing in as any role.

    async def test_something(intake):
        headers = await intake.headers_for("reporter", province="30", unit="CA")
        answer = await intake.client.get("/v1/auth/me", headers=headers)

- `intake` is an `IntakeApp`: the app (lifespan entered: migrations applied, Kafka side started),
  an httpx client on it, its settings, a session factory and sign-in helpers.
- The catalogue `intake_catalog` is seeded first: provinces 30 (units CA, BTG) and 01 (unit CA),
  no plans. Override the fixture in a test module to seed others (`Catalogue(provinces, units,
  plans)`), or call `await intake.seed_catalog(...)` in a test.
- Override `intake_settings_overrides` (a dict of Settings fields) to change settings, e.g.
  `{"login_free_failures": 3}`.
- Mark a module `pytest.mark.hai_duong_in_june` for the real Hải Dương catalogue (29 units, plan 467)
  and Hà Nội with its police (unit 01/CA), on a simulated clock from 10 June 2019, 10:00 in Hải Dương
  (period 2019-06 open and not yet due).
- `intake_app` and `intake_client` are the app and the client alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events.catalog import PlanV1, ProvinceV1, RegimeV1, UnitV1
from baocao_shared.principal import Role
from baocao_testing.fixtures import create_database
from baocao_testing.samples import regime_file
from intake.adapters.uow import IntakeUnitOfWork
from intake.config import Settings
from intake.domain.catalog import parse_province_file
from intake.domain.regimes import parse_regime_file
from intake.handlers import accounts
from intake.main import create_app

TEST_PASSWORD = "test-password-1"
DEFAULT_SCOPE = {Role.REPORTER: ("30", "CA"), Role.PROVINCE_OPERATOR: ("30", None)}
HAI_DUONG = Path(__file__).resolve().parents[3] / "deploy" / "provinces" / "30-hai-duong.yaml"
NHAN_QUYEN = parse_regime_file(regime_file()).regime  # the national regime the demo plans report into
JUNE_10_2019 = {"clock": "simulated", "clock_start": "2019-06-10T03:00:00Z", "clock_speed": 1}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "hai_duong_in_june: the real Hải Dương catalogue and Hà Nội, on a clock from 10 June 2019"
    )


def province(code: str, name: str) -> ProvinceV1:
    return ProvinceV1(
        code=code,
        name=name,
        issuing_body=f"BAN CHỈ ĐẠO NHÂN QUYỀN TỈNH {name.upper()}",
        place_name=name,
    )


def unit(province_code: str, code: str, name: str, kind: str = "member") -> UnitV1:
    return UnitV1(province=province_code, code=code, name=name, kind=kind)


@dataclass
class Catalogue:
    provinces: list[ProvinceV1]
    units: list[UnitV1]
    plans: list[PlanV1] = field(default_factory=list)
    # National data every deployment holds: the demo files' plans name it (deploy/national/nhan-quyen.yaml).
    regimes: list[RegimeV1] = field(default_factory=lambda: [NHAN_QUYEN])


@pytest.fixture
def intake_catalog(request) -> Catalogue:
    if request.node.get_closest_marker("hai_duong_in_june"):
        real = parse_province_file(HAI_DUONG.read_text(encoding="utf-8"))
        hanoi, police = province("01", "Hà Nội"), unit("01", "CA", "Công an thành phố")
        return Catalogue([real.province, hanoi], [*real.units, police], real.plans)
    return Catalogue(
        provinces=[province("30", "Hải Dương"), province("01", "Hà Nội")],
        units=[
            unit("30", "CA", "Công an tỉnh"),
            unit("30", "BTG", "Ban Tuyên giáo Tỉnh ủy"),
            unit("01", "CA", "Công an thành phố"),
        ],
    )


@pytest.fixture
def intake_settings_overrides(request) -> dict:
    return dict(JUNE_10_2019) if request.node.get_closest_marker("hai_duong_in_june") else {}


@pytest.fixture
async def intake_settings(postgres, kafka, group_prefix, tmp_path: Path, intake_settings_overrides: dict) -> Settings:
    """Settings of a test intake on its own new database and consumer group; the dev signing key lives under
    tmp_path."""
    fields = {
        "database_url": await create_database(postgres, prefix="intake"),
        "kafka_bootstrap_servers": kafka.bootstrap,
        "consumer_group_prefix": group_prefix,
        "env": "test",
        "home": tmp_path / "home",
        "outbox_poll_interval_s": 0.2,
        **intake_settings_overrides,
    }
    return Settings(**fields)


@dataclass
class IntakeApp:
    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    _accounts: set[str] = field(default_factory=set)
    _tokens: dict[str, str] = field(default_factory=dict)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session of the app's database inside a transaction that commits on exit."""
        async with self.app.state.runtime.sessionmaker() as session, session.begin():
            yield session

    async def seed_catalog(self, catalogue: Catalogue) -> None:
        """Store regimes, provinces, units and plans as the catalogue tables hold them (no events are published)."""
        now = self.app.state.runtime.clock.now()
        async with self.transaction() as db:
            regimes = getattr(catalogue, "regimes", [NHAN_QUYEN])  # a module's own catalogue may leave it out
            for entity in [*regimes, *catalogue.provinces, *catalogue.units, *catalogue.plans]:
                await IntakeUnitOfWork(db).catalog.upsert(entity, entity.model_dump(mode="json"), now)

    async def create_account(
        self,
        username: str,
        *,
        role: Role | str,
        province: str | None = None,
        unit: str | None = None,
        password: str = TEST_PASSWORD,
    ) -> dict:
        async with self.transaction() as db:
            return await accounts.create_account(
                IntakeUnitOfWork(db),
                username=username,
                password=password,
                role=Role(role).value,
                province=province,
                unit=unit,
                actor="test",
                now=self.app.state.authenticator.clock.now(),
            )

    async def login(self, username: str, password: str = TEST_PASSWORD) -> str:
        """An access token from POST /v1/auth/token (fails the test on anything but 200)."""
        answer = await self.client.post("/v1/auth/token", data={"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    async def account_for(self, role: Role | str, province: str | None = None, unit: str | None = None) -> str:
        """The username of a test account with this role and scope, created on first use.

        A reporter defaults to unit 30/CA, a province operator to province 30. Names look like
        test-reporter-30-CA, test-province-operator-30, test-admin; the password is TEST_PASSWORD.
        """
        role = Role(role)
        default_province, default_unit = DEFAULT_SCOPE.get(role, (None, None))
        province = province or default_province
        unit = unit or (default_unit if role is Role.REPORTER else None)
        username = "-".join(filter(None, ["test", role.value.replace("_", "-"), province, unit]))
        if username not in self._accounts:
            await self.create_account(username, role=role, province=province, unit=unit)
            self._accounts.add(username)
        return username

    async def token_for(self, role: Role | str, province: str | None = None, unit: str | None = None) -> str:
        """A JWT from POST /v1/auth/token for `account_for(role, province, unit)`."""
        username = await self.account_for(role, province, unit)
        if username not in self._tokens:
            self._tokens[username] = await self.login(username)
        return self._tokens[username]

    async def headers_for(self, role: Role | str, province: str | None = None, unit: str | None = None) -> dict:
        """`{"Authorization": "Bearer <jwt>"}` for an account with this role and scope."""
        return {"Authorization": f"Bearer {await self.token_for(role, province, unit)}"}


@asynccontextmanager
async def running_intake(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """One intake instance with its lifespan entered, and a client talking to it in-process."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as client:
            yield app, client


@pytest.fixture
async def intake(intake_settings: Settings, intake_catalog: Catalogue) -> AsyncIterator[IntakeApp]:
    async with running_intake(intake_settings) as (app, client):
        harness = IntakeApp(app, client, intake_settings)
        await harness.seed_catalog(intake_catalog)
        yield harness


@pytest.fixture
def intake_app(intake: IntakeApp) -> FastAPI:
    return intake.app


@pytest.fixture
def intake_client(intake: IntakeApp) -> httpx.AsyncClient:
    return intake.client


@pytest.fixture
def intake_running():
    """`running_intake(settings)` for a test that needs a second instance of intake."""
    return running_intake
