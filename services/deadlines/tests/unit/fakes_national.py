"""The provinces' obligations to the national office in memory (the national level), answering like
deadlines.adapters.province_obligations."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from types import SimpleNamespace
from typing import Any

Key = tuple[str, str, str]  # province, plan, period


def _least(a, b):
    return b if a is None else a if b is None else min(a, b)


@dataclass
class StoredProvinceObligation:
    province: str
    plan_id: str
    period: str
    due_at: datetime | None = None
    expected: bool = False
    first_published_at: datetime | None = None
    last_published_at: datetime | None = None
    announced_at: datetime | None = None
    closed_at: datetime | None = None
    province_name: str | None = None


class InMemoryProvinceObligations:
    def __init__(self, catalog: Any) -> None:
        self.rows: dict[Key, StoredProvinceObligation] = {}
        self._catalog = catalog

    def _row(self, key: Key) -> StoredProvinceObligation:
        return self.rows.setdefault(key, StoredProvinceObligation(*key))

    def _named(self, row: StoredProvinceObligation) -> StoredProvinceObligation:
        found = self._catalog.provinces_by_code.get(row.province)
        return replace(row, province_name=found.name if found else None)

    def _owed(self) -> list[StoredProvinceObligation]:
        found = [self._named(r) for r in self.rows.values() if r.expected and r.due_at is not None]
        return sorted(found, key=lambda r: (r.province, r.plan_id))

    async def published(self, province: str, plan_id: str, period: str, *, at: datetime) -> None:
        row = self._row((province, plan_id, period))
        row.first_published_at = _least(row.first_published_at, at)
        row.last_published_at = max(row.last_published_at or at, at)

    async def owe(self, province: str, plan_id: str, dues: dict[str, datetime]) -> None:
        for code, due in dues.items():
            row = self._row((province, plan_id, code))
            row.due_at, row.expected = due, True

    async def not_expected_before(self, province: str, plan_id: str, first: str) -> None:
        for (pr, pl, pe), row in self.rows.items():
            if (pr, pl) == (province, plan_id) and pe < first:
                row.expected = False

    async def stop_unreported(self, province: str, plan_id: str, periods) -> None:
        for (pr, pl, pe), row in self.rows.items():
            if (pr, pl) == (province, plan_id) and pe in periods and row.first_published_at is None:
                row.expected = False

    async def owed(self, province: str, plan_id: str, period: str) -> Any | None:
        return next((r for r in self._owed() if (r.province, r.plan_id, r.period) == (province, plan_id, period)), None)

    async def unannounced(self, province: str, plan_id: str, period: str) -> Any | None:
        row = await self.owed(province, plan_id, period)
        return row if row and row.first_published_at and row.announced_at is None else None

    async def periods_to_announce(self, province: str, plan_id: str, periods) -> list[str]:
        return sorted([p for p in periods if await self.unannounced(province, plan_id, p)])

    async def announced(self, province: str, plan_id: str, period: str, *, at: datetime) -> None:
        self.rows[province, plan_id, period].announced_at = at

    async def close(self, province: str, plan_id: str, period: str, *, at: datetime) -> None:
        self.rows[province, plan_id, period].closed_at = at

    async def of_period(self, period: str, *, plan_id: str | None = None) -> list[Any]:
        return [r for r in self._owed() if r.period == period and plan_id in (None, r.plan_id)]

    async def of_keys(self, keys) -> list[Any]:
        return [r for r in self._owed() if (r.province, r.plan_id, r.period) in set(keys)]

    async def of_periods(self, periods, *, plan_id: str | None = None) -> list[Any]:
        return [r for r in self._owed() if r.period in periods and plan_id in (None, r.plan_id)]

    async def periods(self, *, plan_id: str | None = None) -> list[Any]:
        dues: dict[str, datetime] = {}
        for r in self._owed():
            if plan_id in (None, r.plan_id):
                dues[r.period] = min(dues.get(r.period, r.due_at), r.due_at)
        return [SimpleNamespace(period=p, due_at=dues[p]) for p in sorted(dues, reverse=True)]
