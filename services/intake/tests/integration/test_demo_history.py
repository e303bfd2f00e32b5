"""Demo history: past months of reports made through the real submission rules, idempotent, never in production."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from baocao_shared.calendar import due_at, parse_period
from baocao_shared.errors import Forbidden
from intake.adapters import orm
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.catalog import parse_province_file
from intake.handlers.demo import seed_history

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def intake_catalog():
    return SimpleNamespace(provinces=[HAI_DUONG.province], units=HAI_DUONG.units, plans=HAI_DUONG.plans)


async def test_two_past_months_with_on_time_late_missing_and_amended_reports(intake):
    now = due_at(parse_period("2019-08"), HAI_DUONG.plans[0].calendar, "Asia/Ho_Chi_Minh")
    async with intake.transaction() as db:
        outcome = await seed_history(IntakeUnitOfWork(db), province="30", periods=2, now=now, env="test")
    assert [row["period"] for row in outcome] == ["2019-07", "2019-08"]  # due on 16/08 00:00: that one counts
    for row in outcome:
        assert row["on_time"] + row["late"] + row["missing"] == 29
        assert row["on_time"] > row["late"] > 0 and row["missing"] > 0
    async with intake.transaction() as db:
        s = orm.submissions.c
        rows = (await db.execute(select(s.period, s.first_received_at, s.version))).all()
        events = await db.scalar(select(func.count()).select_from(orm.outbox))
    deadline = {
        p: due_at(parse_period(p), HAI_DUONG.plans[0].calendar, "Asia/Ho_Chi_Minh") for p in ("2019-07", "2019-08")
    }
    late = sum(1 for r in rows if r.first_received_at >= deadline[r.period])
    assert late == sum(row["late"] for row in outcome)
    amended = sum(1 for r in rows if r.version == 2)
    assert amended == sum(row["amended"] for row in outcome) > 0
    assert events == len(rows) + amended, "each report and amendment went out as an event"

    async with intake.transaction() as db:
        again = await seed_history(IntakeUnitOfWork(db), province="30", periods=2, now=now, env="test")
    assert all(row["on_time"] == row["late"] == row["amended"] == 0 for row in again), "a second run adds nothing"
    async with intake.transaction() as db:
        with pytest.raises(Forbidden):
            await seed_history(IntakeUnitOfWork(db), province="30", periods=2, now=now, env="production")
