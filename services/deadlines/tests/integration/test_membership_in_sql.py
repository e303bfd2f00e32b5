"""Who owes a period is one rule, deadlines.domain.membership.owes: the unit tests' fakes apply it in Python, and
opening a period applies it in set-based SQL (adapters/obligations.py). Here the SQL opens a period over units of
every kind the rule tells apart, and owes exactly the units the rule names."""

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import literal, select

from baocao_shared.calendar import cutoff_window, parse_period
from baocao_shared.events.catalog import UnitV1
from deadlines.adapters import orm
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.domain.membership import owes
from deadlines.handlers import catalog, periods
from services.deadlines.tests.integration.apps import hai_duong_database

pytestmark = pytest.mark.integration
OPENING_AT = datetime(2019, 6, 10, 9, tzinfo=timezone(timedelta(hours=7)))
JUNE = parse_period("2019-06")


def units(window_end: date) -> list[UnitV1]:
    def unit(code: str, **fields) -> UnitV1:
        return UnitV1(province="30", code=code, name=f"Đơn vị {code}", kind="member", **fields)

    return [
        unit("OWES"),
        unit("RETIRED", active=False),
        unit("NEW-IN-WINDOW", active_from=window_end),
        unit("NEW-AFTER", active_from=window_end + timedelta(days=1)),
        unit("OLD", active_from=date(2018, 1, 1)),
        unit("NOT-IN-PLAN"),
    ]


async def test_opening_a_period_owes_exactly_the_units_the_rule_names(postgres):
    async with hai_duong_database(postgres, units=[], stored=[]) as (sessions, plan):
        _, window_end = cutoff_window(JUNE, plan.calendar)
        every = units(window_end)
        plan = plan.model_copy(update={"units": [u.code for u in every if u.code != "NOT-IN-PLAN"]})
        async with DeadlinesUnitOfWork.begin(sessions) as uow:
            for unit in every:
                await catalog.unit_upserted(uow, unit)
            await catalog.plan_upserted(uow, plan)
        async with DeadlinesUnitOfWork.begin(sessions) as uow:
            await periods.open_due_periods(uow, now=OPENING_AT)
        async with sessions() as session:
            o = orm.obligations.c
            owing = set((await session.execute(select(o.unit).where(o.period == JUNE.code, o.expected))).scalars())
    assert owing == {u.code for u in every if owes(u, plan, JUNE.code, window_end)}
    assert owing == {"OWES", "NEW-IN-WINDOW", "OLD"}  # the rule itself, for a reader


async def test_the_last_month_of_a_period_is_the_same_in_sql_as_in_python(postgres):
    """Who is in force in a period is read in SQL (the obligations' period column) and in Python
    (baocao_shared.structure.in_force): both take the period's last month, for every frequency."""
    from baocao_shared.calendar import period_month
    from deadlines.adapters.membership import period_last_month

    codes = ["2025-06", "2025-12", "2025-Q1", "2025-Q3", "2025-Q4", "2025-H1", "2025-H2", "2025-Y"]
    async with hai_duong_database(postgres, units=[], stored=[]) as (sessions, _), sessions() as session:
        in_sql = [await session.scalar(select(period_last_month(literal(code)))) for code in codes]
    assert in_sql == [period_month(code) for code in codes]
    assert in_sql[3] == "2025-09" and in_sql[5] == "2025-06" and in_sql[7] == "2025-12"
