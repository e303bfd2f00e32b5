"""Keep the projection from the topics: catalogue, the latest unit reports, timeliness, and the
report workflow's own events (so a rebuild from the topics restores approvals and publications)."""

from __future__ import annotations

from pydantic_core import to_json
from sqlalchemy import Text, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared import catalog_replica as replica
from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from baocao_shared.events.deadlines import ObligationV1, PeriodClosedV1
from baocao_shared.events.reports import ConsolidatedReportV1, ReportStatusV1
from baocao_shared.events.submissions import SubmissionV1
from consolidation.adapters import orm
from consolidation.handlers import reports


async def province_upserted(session: AsyncSession, province: ProvinceV1) -> None:
    await replica.upsert_province(session, orm.provinces, province)


async def unit_upserted(session: AsyncSession, unit: UnitV1) -> None:
    await replica.upsert_unit(session, orm.units, unit)


async def units_upserted(session: AsyncSession, units: list[UnitV1]) -> None:
    await replica.upsert_units(session, orm.units, units)


async def plan_upserted(session: AsyncSession, plan: PlanV1) -> None:
    await replica.upsert_plan(session, orm.plans, plan)


async def submission_recorded(session: AsyncSession, s: SubmissionV1) -> None:
    """The higher version wins, whatever the order of arrival; an approved draft goes back to draft."""
    r = orm.unit_reports
    stmt = insert(r).values(
        province=s.province,
        plan_id=s.plan_id,
        period=s.period,
        unit=s.unit,
        submission_id=s.submission_id,
        version=s.version,
        received_at=s.received_at,
        first_received_at=s.first_received_at,
        values=s.values,
        narratives=s.narratives,
    )
    changed = await session.scalar(
        stmt.on_conflict_do_update(
            index_elements=["province", "plan_id", "period", "unit"],
            set_={c: stmt.excluded[c] for c in ("submission_id", "version", "received_at", "values", "narratives")},
            where=r.c.version < stmt.excluded.version,
        ).returning(r.c.version)
    )
    if changed is not None:
        await reports.content_changed(session, s.province, s.plan_id, s.period, unit=s.unit, at=s.received_at)


async def submissions_recorded(session: AsyncSession, batch: list[SubmissionV1]) -> None:
    """As `submission_recorded` on each in turn, in a few statements.

    Only an approved report reacts to a change (it goes back to draft, naming the unit, at that
    submission's time): the submissions of a report whose approval they may outgrow are applied one
    by one, in order. The rest are folded to the highest version per unit (the first of equal ones,
    as a later equal version changes nothing) and upserted together under the same rule."""
    bounds: dict[tuple[str, str, str], int] = {}
    for s in batch:
        key = (s.province, s.plan_id, s.period)
        bounds[key] = bounds.get(key, 0) + s.version  # how far this run can raise the report's revision at most
    approved = await reports.approved_revisions(session, list(bounds))
    one_by_one = {key for key, (seen, now) in approved.items() if now + bounds[key] > seen}
    latest: dict[tuple[str, str, str, str], SubmissionV1] = {}
    for s in batch:
        if (s.province, s.plan_id, s.period) in one_by_one:
            await submission_recorded(session, s)
            continue
        unit = (s.province, s.plan_id, s.period, s.unit)
        if unit not in latest or latest[unit].version < s.version:
            latest[unit] = s
    if latest:
        await session.execute(UPSERT_UNIT_REPORTS, _columns(latest.values()))


UNIT_REPORT_COLUMNS = (
    *("province", "plan_id", "period", "unit", "submission_id", "version", "received_at", "first_received_at"),
    *("values", "narratives"),
)


def _columns(batch) -> dict[str, list]:
    """The submissions as one list per column; the JSON documents as their text, which PostgreSQL reads."""
    columns = {c: [getattr(s, c) for s in batch] for c in UNIT_REPORT_COLUMNS}
    for c in ("values", "narratives"):
        columns[c] = [to_json(document).decode() for document in columns[c]]
    return columns


def _from_arrays(table, columns: tuple[str, ...]):
    """An INSERT of a row per element of one array per column (the same statement whatever the number
    of rows: PostgreSQL plans it once); a JSON column's array holds the documents' text."""

    def column(name: str):
        if isinstance(table.c[name].type, JSONB):
            return cast(func.unnest(bindparam(name, type_=ARRAY(Text))), JSONB)
        return func.unnest(bindparam(name, type_=ARRAY(table.c[name].type)))

    return insert(table).from_select(columns, select(*(column(c) for c in columns)))


def _upsert_unit_reports():
    """`submission_recorded`'s upsert for many units at once (each unit at most once)."""
    r = orm.unit_reports
    stmt = _from_arrays(r, UNIT_REPORT_COLUMNS)
    return stmt.on_conflict_do_update(
        index_elements=["province", "plan_id", "period", "unit"],
        set_={c: stmt.excluded[c] for c in ("submission_id", "version", "received_at", "values", "narratives")},
        where=r.c.version < stmt.excluded.version,
    )


OBLIGATION_COLUMNS = ("province", "plan_id", "period", "unit", "status", "due_at", "late_by_s", "final")


def _upsert_obligations():
    """`_obligation`'s upsert for many units at once (each unit at most once)."""
    t = orm.obligations
    stmt = _from_arrays(t, OBLIGATION_COLUMNS)
    return stmt.on_conflict_do_update(
        index_elements=["province", "plan_id", "period", "unit"],
        set_={c: stmt.excluded[c] for c in ("status", "due_at", "late_by_s", "final")},
        where=~t.c.final | stmt.excluded.final,
    )


UPSERT_UNIT_REPORTS = _upsert_unit_reports()
UPSERT_OBLIGATIONS = _upsert_obligations()


async def obligation_updated(session: AsyncSession, o: ObligationV1) -> None:
    # After the close, deadlines still corrects a unit whose report was accepted before the close
    # but reached it late (it was down, or the period was opened afterwards): that word is final too.
    await _obligation(session, o, final=o.closed)


async def obligations_updated(session: AsyncSession, batch: list[ObligationV1]) -> None:
    """As `obligation_updated` on each in turn, in one statement. Per unit, a final word always lands
    and nothing not final lands after one, so the last final update wins when there is one; without
    one, the last update, which lands unless the stored row is already final (the same condition)."""
    latest: dict[tuple[str, str, str, str], ObligationV1] = {}
    for o in batch:
        unit = (o.province, o.plan_id, o.period, o.unit)
        if o.closed or unit not in latest or not latest[unit].closed:
            latest[unit] = o
    columns = {c: [getattr(o, c) for o in latest.values()] for c in OBLIGATION_COLUMNS[:-1]}
    await session.execute(UPSERT_OBLIGATIONS, {**columns, "final": [o.closed for o in latest.values()]})


async def period_closed(session: AsyncSession, closed: PeriodClosedV1) -> None:
    for o in closed.units:
        await _obligation(session, o, final=True)
    await session.execute(
        insert(orm.period_closes)
        .values(
            province=closed.province,
            plan_id=closed.plan_id,
            period=closed.period,
            closed_at=closed.closed_at,
        )
        .on_conflict_do_nothing()
    )


async def _obligation(session: AsyncSession, o: ObligationV1, *, final: bool) -> None:
    t = orm.obligations
    stmt = insert(t).values(
        province=o.province,
        plan_id=o.plan_id,
        period=o.period,
        unit=o.unit,
        status=o.status,
        due_at=o.due_at,
        late_by_s=o.late_by_s,
        final=final,
    )
    # Once the close has spoken, an earlier update arriving late does not undo it.
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["province", "plan_id", "period", "unit"],
            set_={
                "status": stmt.excluded.status,
                "due_at": stmt.excluded.due_at,
                "late_by_s": stmt.excluded.late_by_s,
                "final": stmt.excluded.final,
            },
            where=~t.c.final | stmt.excluded.final,
        )
    )


async def report_status_changed(session: AsyncSession, change: ReportStatusV1) -> None:
    """Our own approved / reverted / reopened events: already applied live; applied again on a rebuild."""
    await reports.apply_status(session, change)


async def report_published(session: AsyncSession, report: ConsolidatedReportV1) -> None:
    await reports.apply_published(session, report)


async def latest_version(session: AsyncSession, province: str, plan_id: str, period: str, unit: str) -> int | None:
    r = orm.unit_reports.c
    return await session.scalar(
        select(r.version).where(r.province == province, r.plan_id == plan_id, r.period == period, r.unit == unit)
    )
