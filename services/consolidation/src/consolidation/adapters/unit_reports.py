"""The latest version of each unit's report for a period (`unit_reports`): a higher version wins,
whatever the order of arrival. The batched upsert is set-based (the replay applies runs of thousands)."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import BigInteger, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events.submissions import SubmissionV1
from consolidation.adapters import orm
from consolidation.adapters.arrays import as_arrays, insert_from_arrays
from consolidation.domain.comparisons import PeriodFigures
from consolidation.domain.months import MONTH
from consolidation.domain.report import LatestReport
from consolidation.domain.workflow import revision

COLUMNS = (
    *orm.UNIT_KEY, "submission_id", "version", "received_at", "first_received_at", "values", "narratives", "imported",
)  # fmt: skip
REPLACED = ("submission_id", "version", "received_at", "values", "narratives", "imported")  # first_received_at stays


def _upsert(stmt):
    """Insert, or replace the stored version when the new one is higher."""
    return stmt.on_conflict_do_update(
        index_elements=orm.UNIT_KEY,
        set_={c: stmt.excluded[c] for c in REPLACED},
        where=orm.unit_reports.c.version < stmt.excluded.version,
    )


UPSERT_MANY = _upsert(insert_from_arrays(orm.unit_reports, COLUMNS))


class UnitReports:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, s: SubmissionV1) -> bool:
        """Store the submission unless a version as high is stored; True when it is now the latest."""
        stmt = insert(orm.unit_reports).values({c: getattr(s, c) for c in COLUMNS})
        return await self.session.scalar(_upsert(stmt).returning(orm.unit_reports.c.version)) is not None

    async def record_latest(self, latest: Iterable[SubmissionV1]) -> None:
        """`record` for many units at once, in one statement (each unit at most once)."""
        await self.session.execute(UPSERT_MANY, as_arrays(latest, COLUMNS, json=("values", "narratives")))

    async def latest(
        self, province: str, plan_id: str, period: str, *, imported_only: bool = False
    ) -> list[LatestReport]:
        """The units' latest reports; of a history period, only those the staff office imported."""
        u = orm.unit_reports.c
        query = select(orm.unit_reports).where(u.province == province, u.plan_id == plan_id, u.period == period)
        rows = await self.session.execute(query.where(u.imported) if imported_only else query)
        return [
            LatestReport(
                unit=r.unit,
                version=r.version,
                received_at=r.received_at,
                first_received_at=r.first_received_at,
                values=r.values,
                narratives=r.narratives,
            )
            for r in rows
        ]

    async def revision(self, province: str, plan_id: str, period: str) -> int:
        """The content's revision now (domain.workflow.revision of the latest versions)."""
        u = orm.unit_reports.c
        total = await self.session.scalar(
            select(func.coalesce(func.sum(u.version), 0)).where(
                u.province == province, u.plan_id == plan_id, u.period == period
            )
        )
        return revision(total)

    async def newest_month(self, *, up_to: str, province: str | None = None) -> str | None:
        """The newest monthly period, up to `up_to`, that has a unit's report (in the province)."""
        u = orm.unit_reports.c
        query = select(func.max(u.period)).where(u.period.regexp_match(MONTH), u.period <= up_to)
        if province is not None:
            query = query.where(u.province == province)
        return await self.session.scalar(query)

    async def figures(
        self, province: str, plan_id: str, periods: list[str], *, history: Collection[str] = ()
    ) -> dict[str, PeriodFigures]:
        """Per period, each indicator summed over the units' latest reports, and how many reports that is
        (summed in the database: a year of a province of 2,000 units is 24,000 reports). Of the `history`
        periods (before tracking), only the reports the staff office imported count, as that period's figures."""
        if not periods:
            return {}
        u = orm.unit_reports.c
        where = (u.province == province, u.plan_id == plan_id, u.period.in_(periods))
        if history:
            where = (*where, or_(u.imported, u.period.not_in(list(history))))
        counts = dict(
            (await self.session.execute(select(u.period, func.count()).where(*where).group_by(u.period))).all()
        )
        each = func.jsonb_each_text(orm.unit_reports.c["values"]).table_valued("key", "value").alias("each")
        rows = await self.session.execute(
            select(u.period, each.c.key, func.sum(each.c.value.cast(BigInteger)))
            .select_from(orm.unit_reports.join(each, text("true")))
            .where(*where)
            .group_by(u.period, each.c.key)
        )
        totals: dict[str, dict[str, int]] = {p: {} for p in counts}
        for period, key, total in rows:
            # Each statement reads what is committed when it starts: a period's first report committed
            # between the two is counted by neither (the next read counts it), never half.
            if period in totals:
                totals[period][key] = int(total)
        return {p: PeriodFigures(totals[p], int(n)) for p, n in counts.items()}
