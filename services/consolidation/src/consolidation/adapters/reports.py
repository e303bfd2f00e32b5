"""The workflow of each consolidated report (`reports`): its status, who approved and published it, and
the snapshot that went up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consolidation.adapters import orm
from consolidation.domain.workflow import ReportState, revision

Key = tuple[str, str, str]  # province, plan_id, period


class Reports:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, province: str, plan_id: str, period: str) -> ReportState | None:
        r = orm.reports.c
        row = (
            await self.session.execute(
                select(orm.reports).where(r.province == province, r.plan_id == plan_id, r.period == period)
            )
        ).first()
        return None if row is None else ReportState(**row._mapping)

    async def lock(
        self, province: str, plan_id: str, period: str, *, revision: int, create: bool = True
    ) -> ReportState | None:
        """The report's row, locked until the transaction ends (with `create`, a draft row is made for a report
        without one): two editors or two publishers of one report take their turns."""
        r = orm.reports.c
        if create:
            await self.session.execute(
                insert(orm.reports)
                .values(province=province, plan_id=plan_id, period=period, status="draft", revision=revision)
                .on_conflict_do_nothing(index_elements=orm.REPORT_KEY)
            )
        row = (
            await self.session.execute(
                select(orm.reports)
                .where(r.province == province, r.plan_id == plan_id, r.period == period)
                .with_for_update()
            )
        ).first()
        return None if row is None else ReportState(**row._mapping)

    async def raise_version(self, province: str, plan_id: str, period: str, *, version: int) -> None:
        """The report's version is at least `version` (an edit, live or replayed)."""
        r = orm.reports.c
        await self.session.execute(
            insert(orm.reports)
            .values(province=province, plan_id=plan_id, period=period, status="draft", revision=1, version=version)
            .on_conflict_do_update(index_elements=orm.REPORT_KEY, set_={"version": func.greatest(r.version, version)})
        )

    async def of_period(self, period: str) -> dict[tuple[str, str], ReportState]:
        """Every province's reports of the period, by (province, plan_id)."""
        rows = await self.session.execute(select(orm.reports).where(orm.reports.c.period == period))
        return {(row.province, row.plan_id): ReportState(**row._mapping) for row in rows}

    async def save(self, province: str, plan_id: str, period: str, *, at: datetime, **values: Any) -> None:
        """Write the workflow state as of `at`. Our own events come back through the consumer after the
        live write: one older than the state already stored (an approval read back after the publish) is
        ignored, so the state never moves backwards."""
        values = {**values, "status_at": at}
        stmt = insert(orm.reports).values(province=province, plan_id=plan_id, period=period, **values)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=orm.REPORT_KEY,
                set_=values,
                where=orm.reports.c.status_at.is_(None) | (orm.reports.c.status_at <= at),
            )
        )

    async def approved_revisions(self, keys: list[Key]) -> dict[Key, tuple[int, int]]:
        """Of the reports given, the approved ones: the revision each approval saw, and the revision the
        content has now (in one query, for a run of submissions)."""
        if not keys:
            return {}
        r, u = orm.reports.c, orm.unit_reports.c
        now = (
            select(func.coalesce(func.sum(u.version), 0))
            .where(u.province == r.province, u.plan_id == r.plan_id, u.period == r.period)
            .scalar_subquery()
        )
        rows = await self.session.execute(
            select(r.province, r.plan_id, r.period, r.revision, now).where(
                r.status == "approved", tuple_(r.province, r.plan_id, r.period).in_(keys)
            )
        )
        return {(p, plan, period): (seen, revision(total)) for p, plan, period, seen, total in rows}
