"""A small world for the use cases' unit tests: Hải Dương (30) with units CA and BTG on plan hd-467-2019,
a second province (31) on a plan of its own, both reporting into the national regime nhan-quyen, and the principals
who act on them, in a fake unit of work."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from baocao_shared.events.catalog import PlanV1, UnitV1
from baocao_shared.events.submissions import SubmissionV1
from baocao_shared.principal import Principal, Role
from consolidation.domain.report import ReportAddress
from consolidation.handlers import projection
from services.consolidation.tests.kit import HAI_DUONG, NHAN_QUYEN
from services.consolidation.tests.unit.fakes import FakeConsolidationUnitOfWork

PROVINCE = HAI_DUONG.province
PLAN = HAI_DUONG.plans[0].model_copy(update={"units": ["CA", "BTG"]})
NEIGHBOUR = PROVINCE.model_copy(update={"code": "31", "name": "Tỉnh Láng Giềng"})
NEIGHBOURS_PLAN = PLAN.model_copy(update={"province": "31", "id": "lg-1"})
PERIOD = "2019-06"
JUNE = ReportAddress("30", PERIOD)  # Hải Dương's June report (its only plan)
AT = datetime(2019, 6, 12, 3, tzinfo=UTC)  # when the units report
NOW = datetime(2019, 6, 18, 2, tzinfo=UTC)  # when people act


class Who:
    """The principals who act in these tests."""

    OPERATOR = Principal("op-30", Role.PROVINCE_OPERATOR, province="30")
    NEIGHBOURS_OPERATOR = Principal("op-31", Role.PROVINCE_OPERATOR, province="31")
    NATIONAL = Principal("vpttt", Role.NATIONAL_OPERATOR)
    ADMIN = Principal("admin", Role.ADMIN)
    REPORTER = Principal("ca-30", Role.REPORTER, province="30", unit="CA")


def submission(unit: str, version: int, figures: dict[str, int], *, plan: PlanV1 = PLAN, at=AT) -> SubmissionV1:
    """Version `version` of the unit's June report, received `version` hours after `at`."""
    return SubmissionV1(
        submission_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{plan.province}/{unit}"),
        province=plan.province,
        unit=unit,
        plan_id=plan.id,
        period=PERIOD,
        version=version,
        values=figures,
        narratives={},
        received_at=at + timedelta(hours=version),
        first_received_at=at,
    )


async def world() -> FakeConsolidationUnitOfWork:
    """Both provinces, their units and plans; CA of Hải Dương has sent version 1 (3 sessions)."""
    uow = FakeConsolidationUnitOfWork()
    await projection.regime_upserted(uow, NHAN_QUYEN)
    for place, plan in ((PROVINCE, PLAN), (NEIGHBOUR, NEIGHBOURS_PLAN)):
        await projection.province_upserted(uow, place)
        for code in plan.units:
            await projection.unit_upserted(
                uow, UnitV1(province=place.code, code=code, name=f"Sở {code}", kind="member")
            )
        await projection.plan_upserted(uow, plan)
    await projection.submission_recorded(uow, submission("CA", 1, {"t1_sessions": 3}))
    return uow
