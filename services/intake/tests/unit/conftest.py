"""Fixtures of intake's unit tests: the in-memory unit of work (fakes.py) holding the Hải Dương catalogue."""

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest

from baocao_shared.principal import Principal, Role
from baocao_testing.samples import regime_file
from intake.domain.catalog import ProvinceCatalog, parse_province_file
from intake.domain.regimes import RegimeCatalog, parse_regime_file

# Test modules are imported by path (--import-mode=importlib), so the fakes are loaded by path as well.
_spec = importlib.util.spec_from_file_location("intake_fakes", Path(__file__).with_name("fakes.py"))
fakes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fakes)

HAI_DUONG = Path(__file__).resolve().parents[4] / "deploy" / "provinces" / "30-hai-duong.yaml"
HAI_PHONG = HAI_DUONG.with_name("31-hai-phong.yaml")  # DEMO DATA: where Hải Dương's reporting went from 2025-07
JUNE_10 = datetime(2019, 6, 10, 3, 0, tzinfo=UTC)  # 10:00 in Hải Dương: period 2019-06 is open


@pytest.fixture(scope="session")
def hai_duong() -> ProvinceCatalog:
    """Province 30 as deploy/provinces/30-hai-duong.yaml describes it: 29 units, plan 467 from 2019-06."""
    return parse_province_file(HAI_DUONG.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def hai_phong() -> ProvinceCatalog:
    """Province 31 (demo data), whose units and plan succeed Hải Dương's from 2025-07."""
    return parse_province_file(HAI_PHONG.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def nhan_quyen() -> RegimeCatalog:
    """The national regime deploy/national/nhan-quyen.yaml, which the plans of Hải Dương and Hải Phòng map onto."""
    return parse_regime_file(regime_file())


@pytest.fixture
def uow(hai_duong: ProvinceCatalog, nhan_quyen: RegimeCatalog):
    """A FakeIntakeUnitOfWork whose catalogue holds Hải Dương and the national regime its plan reports into."""
    fake = fakes.FakeIntakeUnitOfWork()
    fake.catalog.add(nhan_quyen.regime, *hai_duong.entities())
    return fake


@pytest.fixture
def now() -> datetime:
    return JUNE_10


def reporter(unit: str = "CA", province: str = "30", **kw) -> Principal:
    return Principal(subject=f"{province}-{unit}", role=Role.REPORTER, province=province, unit=unit, **kw)


@pytest.fixture
def as_reporter():
    """`as_reporter(unit="CA", province="30")`: the principal of a unit's reporter."""
    return reporter
