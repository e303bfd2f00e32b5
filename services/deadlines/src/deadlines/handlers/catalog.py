"""Follow the catalogue from baocao.catalog: the latest document per entity wins."""

from __future__ import annotations

from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from deadlines.adapters.uow import DeadlinesUnitOfWork


async def province_upserted(uow: DeadlinesUnitOfWork, province: ProvinceV1) -> None:
    """Keep the province's latest document, and have the scheduler look again at its plans: a new validity (a
    reorganisation loaded late) opens or stops their periods (handlers.periods.open_due_periods)."""
    await uow.catalog.upsert_province(province)
    await uow.catalog.flag_plans_of(province.code)


async def unit_upserted(uow: DeadlinesUnitOfWork, unit: UnitV1) -> None:
    """Store the unit, and have the scheduler look again at its province's plans (a unit may join mid-period).
    A unit no longer in force in periods already opened (a reorganisation loaded late: a new valid_to, or a later
    valid_from) stops owing them now, in every plan and period, closed ones too, unless its report arrived
    (domain.membership.stops_owing): no reminder or overdue notice goes to it for them from this commit on. Only a
    change of validity is looked for there: a province's reload sends every unit again, mostly unchanged, and a
    unit not stored before owes nothing yet."""
    before = await uow.catalog.validity(unit.province, unit.code)
    await uow.catalog.upsert_unit(unit)
    if before is not None and before != (unit.valid_from, unit.valid_to):
        await uow.obligations.not_in_force(unit)
    await uow.catalog.flag_plans_of(unit.province)


async def plan_upserted(uow: DeadlinesUnitOfWork, plan: PlanV1) -> None:
    """Keep the plan's latest document; the scheduler looks at it again."""
    await uow.catalog.upsert_plan(plan)
