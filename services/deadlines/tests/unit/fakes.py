"""In-memory repositories that answer like deadlines' SQL ones, for unit tests of the use cases.

Who owes a period follows deadlines.domain.membership, the rule the obligations adapter applies in SQL.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from baocao_shared.events.submissions import SubmissionV1
from baocao_testing.fakes import FakeUnitOfWork
from baocao_testing.samples import before_the_merger
from deadlines.domain.membership import in_plan, owes, stops_owing
from deadlines.handlers import catalog
from intake.domain.catalog import parse_province_file
from services.deadlines.tests.unit.fakes_national import InMemoryProvinceObligations

REPO = Path(__file__).resolve().parents[4]
# Hải Dương before its merger into Hải Phòng was loaded: these tests are about other things.
HAI_DUONG = before_the_merger(
    parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
)

Key = tuple[str, str, str]  # province, plan, period


class InMemoryCatalog:
    def __init__(self) -> None:
        self.provinces_by_code: dict[str, ProvinceV1] = {}
        self.units: dict[tuple[str, str], UnitV1] = {}
        self.plans: dict[tuple[str, str], PlanV1] = {}
        self.changed: set[tuple[str, str]] = set()

    async def upsert_province(self, province: ProvinceV1) -> None:
        self.provinces_by_code[province.code] = province

    async def upsert_unit(self, unit: UnitV1) -> None:
        self.units[unit.province, unit.code] = unit

    async def upsert_plan(self, plan: PlanV1) -> None:
        self.plans[plan.province, plan.id] = plan
        self.changed.add((plan.province, plan.id))

    async def validity(self, province: str, code: str) -> tuple[str | None, str | None] | None:
        found = self.units.get((province, code))
        return (found.valid_from, found.valid_to) if found else None

    async def units_unknown(self, plan: PlanV1) -> list[str]:
        return [code for code in plan.units if (plan.province, code) not in self.units]

    async def flag_plans_of(self, province: str) -> None:
        self.changed |= {key for key in self.plans if key[0] == province}

    async def provinces(self) -> list[ProvinceV1]:
        return [self.provinces_by_code[code] for code in sorted(self.provinces_by_code)]

    async def province(self, code: str) -> ProvinceV1 | None:
        return self.provinces_by_code.get(code)

    async def plans_of(self, province: str) -> list[PlanV1]:
        return sorted((p for p in self.plans.values() if p.province == province and p.active), key=lambda p: p.id)

    async def active_plan_ids(self, province: str) -> list[str]:
        return [p.id for p in await self.plans_of(province)]

    async def plans_to_open(self) -> list[tuple[PlanV1, ProvinceV1, bool]]:
        return [
            (plan, self.provinces_by_code[plan.province], key in self.changed)
            for key, plan in self.plans.items()
            if plan.active and plan.province in self.provinces_by_code
        ]

    async def checked(self, plan: PlanV1) -> None:
        self.changed.discard((plan.province, plan.id))

    def name_of(self, province: str, unit: str) -> str | None:
        found = self.units.get((province, unit))
        return found.name if found else None


class InMemoryPeriods:
    def __init__(self) -> None:
        self.rows: dict[Key, SimpleNamespace] = {}
        self.held_elsewhere: set[Key] = set()  # locked by another instance

    async def get(self, province: str, plan_id: str, period: str) -> Any | None:
        return self.rows.get((province, plan_id, period))

    async def closed_at(self, province: str, plan_id: str, period: str) -> datetime | None:
        row = self.rows.get((province, plan_id, period))
        return row.closed_at if row else None

    async def opened(self, province: str, plan_id: str) -> list[Any]:
        found = [r for (pr, pl, _), r in self.rows.items() if (pr, pl) == (province, plan_id)]
        return sorted(found, key=lambda r: r.period, reverse=True)

    async def recent(self, province: str, plan_id: str, *, before: str, count: int) -> list[str]:
        codes = [r.period for r in await self.opened(province, plan_id) if r.period <= before]
        return sorted(codes[:count])

    async def newest(self, plans: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        for province, plan_id, period in self.rows:
            if (province, plan_id) in plans:
                found[province, plan_id] = max(found.get((province, plan_id), period), period)
        return found

    async def codes(self, province: str, plan_id: str) -> set[str]:
        return {key[2] for key in self.rows if key[:2] == (province, plan_id)}

    async def open_many(self, province: str, plan_id: str, dues: dict[str, datetime], *, now: datetime) -> set[str]:
        opened = set()
        for period, due_at in dues.items():
            if (province, plan_id, period) not in self.rows:
                self.rows[province, plan_id, period] = SimpleNamespace(
                    province=province, plan_id=plan_id, period=period, due_at=due_at, opened_at=now, closed_at=None
                )
                opened.add(period)
        return opened

    async def forget_before(self, province: str, plan_id: str, first: str) -> None:
        for key in [key for key in self.rows if key[:2] == (province, plan_id) and key[2] < first]:
            del self.rows[key]

    async def lock(self, province: str, plan_id: str, period: str) -> Any | None:
        key = (province, plan_id, period)
        return None if key in self.held_elsewhere else self.rows.get(key)

    async def close(self, province: str, plan_id: str, period: str, *, at: datetime) -> None:
        self.rows[province, plan_id, period].closed_at = at


class InMemorySchedule:
    def __init__(self, periods: InMemoryPeriods) -> None:
        self.items: list[SimpleNamespace] = []
        self._periods = periods

    async def add(self, rows: list[dict[str, Any]]) -> None:
        slots = {(i.province, i.plan_id, i.period, i.kind, i.sequence) for i in self.items}
        for row in rows:
            if (row["province"], row["plan_id"], row["period"], row["kind"], row["sequence"]) not in slots:
                self.items.append(SimpleNamespace(id=len(self.items) + 1, fired_at=None, **row))

    async def forget_before(self, province: str, plan_id: str, first: str) -> None:
        self.items = [
            i
            for i in self.items
            if not ((i.province, i.plan_id) == (province, plan_id) and i.period < first and i.state != "fired")
        ]

    def _pending(self, now: datetime, *, national: bool) -> list[SimpleNamespace]:
        return [
            i
            for i in self.items
            if i.state == "pending" and i.fire_at <= now and (i.kind == "national_escalation") == national
        ]

    async def national_due(self, *, now: datetime, limit: int = 1000) -> list[Any]:
        return sorted(self._pending(now, national=True), key=lambda i: (i.fire_at, i.period, i.province))[:limit]

    async def fired_many(self, ids: list[int], *, at: datetime) -> None:
        for item in self.items:
            if item.id in ids:
                item.state, item.fired_at = "fired", at

    async def periods_due(self, *, now: datetime, limit: int) -> list[Key]:
        keys = {(i.province, i.plan_id, i.period) for i in self._pending(now, national=False)}
        return sorted(keys, key=lambda key: self._periods.rows[key].due_at)[:limit]

    async def due(self, province: str, plan_id: str, period: str, *, now: datetime) -> list[Any]:
        key = (province, plan_id, period)
        return [i for i in self._pending(now, national=False) if (i.province, i.plan_id, i.period) == key]

    async def fired(self, item: Any, *, at: datetime) -> None:
        item.state, item.fired_at = "fired", at

    def state_of(self, kind: str, sequence: int = 0) -> str:
        return next(i.state for i in self.items if (i.kind, i.sequence) == (kind, sequence))


class InMemoryNotices:
    def __init__(self) -> None:
        self.rows: dict[tuple, dict[str, Any]] = {}

    async def count(self, province: str, plan_id: str, period: str, unit: str, *, kind: str) -> int:
        return sum(1 for key in self.rows if key[:5] == (province, plan_id, period, unit, kind))

    async def add(
        self, province: str, plan_id: str, period: str, unit: str, *, kind: str, sequence: int, **rest
    ) -> None:
        key = (province, plan_id, period, unit, kind, sequence)
        assert key not in self.rows, f"notice {key} twice"
        self.rows[key] = rest

    async def take(self, item: Any, units: list[str], *, now: datetime) -> set[str]:
        taken = set()
        for unit in units:
            key = (item.province, item.plan_id, item.period, unit, item.kind, item.sequence)
            if key not in self.rows:
                self.rows[key] = {"fired_at": now}
                taken.add(unit)
        return taken


@dataclass
class StoredObligation:
    province: str
    plan_id: str
    period: str
    unit: str
    due_at: datetime | None = None
    expected: bool = False
    first_submitted_at: datetime | None = None
    submission_id: Any = None
    last_version: int = 0
    last_received_at: datetime | None = None
    amended_after_due: bool = False
    after_close: bool = False
    announced_at: datetime | None = None
    unit_name: str | None = None


def _least(a, b):
    return b if a is None else a if b is None else min(a, b)


class InMemoryObligations:
    def __init__(self, catalog: InMemoryCatalog, periods: InMemoryPeriods) -> None:
        self.rows: dict[tuple[str, str, str, str], StoredObligation] = {}
        self._catalog, self._periods = catalog, periods
        self.not_in_force_calls = 0

    async def record(self, s: SubmissionV1) -> None:
        row = self.rows.get((s.province, s.plan_id, s.period, s.unit))
        if row is None:
            self.rows[s.province, s.plan_id, s.period, s.unit] = StoredObligation(
                s.province, s.plan_id, s.period, s.unit, first_submitted_at=s.first_received_at,
                submission_id=s.submission_id, last_version=s.version, last_received_at=s.received_at,
                after_close=s.after_close,
            )  # fmt: skip
            return
        row.after_close = row.after_close or s.after_close
        if s.version > 1 and row.due_at is not None and s.received_at >= row.due_at:
            row.amended_after_due = True
        row.first_submitted_at = _least(row.first_submitted_at, s.first_received_at)
        row.submission_id, row.last_version = s.submission_id, max(row.last_version, s.version)
        row.last_received_at = max(row.last_received_at or s.received_at, s.received_at)

    def _owed(self, province: str, plan_id: str, period: str) -> list[StoredObligation]:
        found = [
            replace(r, unit_name=self._catalog.name_of(province, r.unit))
            for (pr, pl, pe, _), r in self.rows.items()
            if (pr, pl, pe) == (province, plan_id, period) and r.expected and r.due_at is not None
        ]
        return sorted(found, key=lambda r: r.unit)

    async def owed(self, province: str, plan_id: str, period: str, *, units=None) -> list[Any]:
        return [r for r in self._owed(province, plan_id, period) if units is None or r.unit in units]

    async def awaiting(self, province: str, plan_id: str, period: str) -> list[Any]:
        return self._owed(province, plan_id, period)

    async def owed_in(self, province: str, plan_id: str, periods: list[str]) -> list[Any]:
        return [
            SimpleNamespace(**(asdict(r) | {"unit_name": r.unit, "closed_at": self._periods.rows[key].closed_at}))
            for key in self._periods.rows
            if key[:2] == (province, plan_id) and key[2] in periods
            for r in self._owed(*key)
        ]

    async def unannounced(self, province: str, plan_id: str, period: str, *, unit: str | None = None) -> list[str]:
        return [
            r.unit
            for r in self._owed(province, plan_id, period)
            if r.first_submitted_at and r.announced_at is None and unit in (None, r.unit)
        ]

    async def periods_to_announce(self, province: str, plan_id: str, periods) -> list[str]:
        return sorted({p for p in periods if await self.unannounced(province, plan_id, p)})

    async def not_expected_before(self, province: str, plan_id: str, first: str) -> None:
        for (pr, pl, pe, _), row in self.rows.items():
            if (pr, pl) == (province, plan_id) and pe < first:
                row.expected = False

    async def stop_unreported(self, province: str, plan_id: str, periods) -> None:
        for (pr, pl, pe, _), row in self.rows.items():
            if (pr, pl) == (province, plan_id) and pe in periods and row.first_submitted_at is None:
                row.expected = False

    async def announced(self, province: str, plan_id: str, period: str, units: list[str], *, at: datetime) -> None:
        for unit in units:
            self.rows[province, plan_id, period, unit].announced_at = at

    async def owe_periods(self, plan: PlanV1, periods, *, reopened) -> None:
        for period, due, window_end in periods:
            await self.owe_period(plan, period, due=due, window_end=window_end, reopened=period in reopened)

    async def owe_period(self, plan: PlanV1, period: str, *, due: datetime, window_end: date, reopened: bool) -> None:
        units = [u for u in self._catalog.units.values() if owes(u, plan, period, window_end)]
        for unit in units:
            row = self.rows.setdefault(
                (plan.province, plan.id, period, unit.code), StoredObligation(plan.province, plan.id, period, unit.code)
            )
            row.due_at, row.expected = due, True
            if row.last_version > 1 and row.last_received_at and row.last_received_at >= due:
                row.amended_after_due = True
        if reopened:
            for (pr, pl, pe, code), row in self.rows.items():
                unit = self._catalog.units.get((pr, code))
                if (pr, pl, pe) == (plan.province, plan.id, period) and (
                    not (unit and in_plan(unit, plan))
                    or stops_owing(unit, period, submitted=row.first_submitted_at is not None)
                ):
                    row.expected = False

    async def not_in_force(self, unit: UnitV1) -> None:
        self.not_in_force_calls += 1
        for (pr, _, pe, code), row in self.rows.items():
            if (pr, code) == (unit.province, unit.code) and stops_owing(
                unit, pe, submitted=row.first_submitted_at is not None
            ):
                row.expected = False

    def of(self, unit: str) -> StoredObligation:
        return next(r for r in self.rows.values() if r.unit == unit)


class FakeDeadlinesUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.catalog = InMemoryCatalog()
        self.periods = InMemoryPeriods()
        self.obligations = InMemoryObligations(self.catalog, self.periods)
        self.schedule = InMemorySchedule(self.periods)
        self.notices = InMemoryNotices()
        self.province_obligations = InMemoryProvinceObligations(self.catalog)


# --- a small Hải Dương: plan 467 over a few units, June 2019 -----------------------------------------

JUNE = "2019-06"
PLAN_467 = HAI_DUONG.plans[0]
UNITS = {u.code: u for u in HAI_DUONG.units}


def vn(day: int, hour: int = 0, minute: int = 0, *, month: int = 6) -> datetime:
    """An instant of 2019 in Hải Dương's time."""
    return datetime(2019, month, day, hour, minute, tzinfo=timezone(timedelta(hours=7)))


DUE = vn(16)  # June's deadline: 16 June 2019, 00:00


def submission(unit: str, received: datetime, *, version: int = 1, first: datetime | None = None) -> SubmissionV1:
    return SubmissionV1(
        submission_id=uuid.uuid5(uuid.NAMESPACE_URL, unit),
        province="30",
        unit=unit,
        plan_id=PLAN_467.id,
        period=JUNE,
        version=version,
        values={},
        narratives={},
        received_at=received,
        first_received_at=first or received,
    )


async def hai_duong(units: list[str], *, plan_units: list[str] | None = None, extra: list[UnitV1] = ()):
    """A fake unit of work whose catalogue holds Hải Dương, `units` (and `extra`), and plan 467 over `plan_units`
    (default: `units`); returns it and the plan."""
    uow = FakeDeadlinesUnitOfWork()
    plan = PLAN_467.model_copy(update={"units": plan_units if plan_units is not None else units})
    await catalog.province_upserted(uow, HAI_DUONG.province)
    for unit in [*(UNITS[code] for code in units), *extra]:
        await catalog.unit_upserted(uow, unit)
    await catalog.plan_upserted(uow, plan)
    return uow, plan
