"""Open periods: one obligation per active unit of the plan, and the period's schedule rows."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import any_, exists, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.calendar import Period, cutoff_window, local_date, period_containing
from baocao_shared.events.catalog import PlanV1, ProvinceV1
from deadlines.adapters import orm
from deadlines.domain.schedule import deadline, period_notices, unit_notices
from deadlines.handlers.submissions import announce_first_submissions


def candidate_periods(plan: PlanV1, timezone: str, now: datetime, *, backfill: int = 0) -> list[Period]:
    """The plan's current period and the ones before it that can still close; with `backfill`, also
    that many past periods even if closed (their past notices are skipped, their close fires at once)."""
    periods = [period_containing(local_date(now, timezone), plan.calendar)]
    for _ in range(max(backfill, 1)):
        window_start, _ = cutoff_window(periods[0], plan.calendar)
        periods.insert(0, period_containing(window_start - timedelta(days=1), plan.calendar))
    found = []
    for index, period in enumerate(periods):
        if period.code < plan.first_period or (plan.last_period and period.code > plan.last_period):
            continue
        closes = max(n.fire_at for n in period_notices(period, plan.calendar, timezone) if n.kind == "close")
        if closes > now or index >= len(periods) - 1 - backfill:
            found.append(period)
    return found


async def open_due_periods(session: AsyncSession, *, now: datetime, backfill: int = 0) -> list[tuple[str, str, str]]:
    """Open every candidate period not yet opened, and re-check plans whose catalogue changed."""
    opened = []
    query = (
        select(orm.plans.c.doc, orm.plans.c.changed, orm.provinces.c.doc.label("province_doc"))
        .join(orm.provinces, orm.provinces.c.code == orm.plans.c.province)
        .where(orm.plans.c.active)
    )
    rows = (await session.execute(query)).all()
    if any(row.changed for row in rows):
        # The changed plans again, locked: a unit stored while this transaction reads the units waits to set
        # `changed` until the `changed = false` below has committed, so the next tick looks at it again.
        locked = (await session.execute(query.where(orm.plans.c.changed).with_for_update(of=orm.plans))).all()
        rows = [row for row in rows if not row.changed] + locked
    plans = []
    for row in rows:
        plan, province = PlanV1.model_validate(row.doc), ProvinceV1.model_validate(row.province_doc)
        plans.append((plan, province, row.changed, candidate_periods(plan, province.timezone, now, backfill=backfill)))
    known = await _opened_among(session, {period.code for *_, periods in plans for period in periods})
    for plan, province, changed, periods in plans:
        for period in periods:
            if changed or (plan.province, plan.id, period.code) not in known:
                await ensure_period(session, plan, province, period, now=now)
                opened.append((plan.province, plan.id, period.code))
        if changed:
            await session.execute(
                update(orm.plans)
                .where(orm.plans.c.province == plan.province, orm.plans.c.id == plan.id)
                .values(changed=False)
            )
    return opened


async def _opened_among(session: AsyncSession, codes: set[str]) -> set[tuple[str, str, str]]:
    """(province, plan, period) of every opened period with one of these codes: one query a tick, not one a plan."""
    if not codes:
        return set()
    p = orm.periods.c
    rows = await session.execute(select(p.province, p.plan_id, p.period).where(p.period.in_(sorted(codes))))
    return {tuple(row) for row in rows}


async def ensure_period(
    session: AsyncSession, plan: PlanV1, province: ProvinceV1, period: Period, *, now: datetime
) -> None:
    """Idempotent: the period row, an obligation per active unit of the plan, and the schedule."""
    due = deadline(period, plan.calendar, province.timezone)
    opened = await session.scalar(
        insert(orm.periods)
        .values(
            province=plan.province,
            plan_id=plan.id,
            period=period.code,
            due_at=due,
            opened_at=now,
        )
        .on_conflict_do_nothing()
        .returning(orm.periods.c.opened_at)
    )
    await _ensure_obligations(session, plan, period, due, reopened=opened is None)
    await _ensure_schedule(session, plan, province, period, now)
    await announce_first_submissions(session, plan.province, plan.id, period.code, now=now)


async def _ensure_obligations(
    session: AsyncSession, plan: PlanV1, period: Period, due: datetime, *, reopened: bool
) -> None:
    """Each active unit of the plan owes the period; on a period opened before (`reopened`), a unit that
    left the plan or retired since no longer does. The plan's units go as one array parameter: an IN
    list of thousands of parameters costs more to render than the insert itself."""
    o, u = orm.obligations, orm.units
    _, window_end = cutoff_window(period, plan.calendar)
    in_plan = u.c.code == any_(literal(plan.units, ARRAY(u.c.code.type)))
    this_period = (o.c.province == plan.province, o.c.plan_id == plan.id, o.c.period == period.code)
    owes = (
        u.c.province == plan.province,
        u.c.active,
        in_plan,
        (u.c.doc["active_from"].astext.is_(None)) | (u.c.doc["active_from"].astext <= window_end.isoformat()),
    )
    owing = select(
        literal(plan.province), literal(plan.id), literal(period.code), u.c.code, literal(due), literal(True)
    ).where(*owes)
    columns = ["province", "plan_id", "period", "unit", "due_at", "expected"]
    # Rows already there (a submission came before the period opened, or the period is re-checked) owe it now...
    if reopened or await session.scalar(select(exists().where(*this_period))):
        await session.execute(
            update(o)
            .where(*this_period, exists().where(u.c.code == o.c.unit, *owes))
            .values(due_at=due, expected=True, amended_after_due=_amended_after(o, due))
        )
    # ...and the others are new. A plain insert writes them at half the cost of an upsert, unless a
    # submission adds a row meanwhile: then the insert fails on that row and the upsert does it all.
    try:
        async with session.begin_nested():
            new = owing.where(~exists().where(*this_period, o.c.unit == u.c.code))
            await session.execute(insert(o).from_select(columns, new))
    except IntegrityError:
        stmt = insert(o).from_select(columns, owing)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["province", "plan_id", "period", "unit"],
                set_={"due_at": stmt.excluded.due_at, "expected": True, "amended_after_due": _amended_after(o, due)},
            )
        )
    if not reopened:
        return  # nothing was owed for this period before this transaction opened it
    # A unit retired, or dropped from the plan, while the period is open no longer owes it.
    await session.execute(
        update(o)
        .where(
            o.c.province == plan.province,
            o.c.plan_id == plan.id,
            o.c.period == period.code,
            o.c.expected,
            o.c.unit.not_in(select(u.c.code).where(u.c.province == plan.province, u.c.active, in_plan)),
        )
        .values(expected=False)
    )


def _amended_after(o, due: datetime):
    """An amendment already received at or after the deadline is flagged once the deadline is known."""
    return o.c.amended_after_due | ((o.c.last_version > 1) & (o.c.last_received_at >= due))


async def _ensure_schedule(
    session: AsyncSession, plan: PlanV1, province: ProvinceV1, period: Period, now: datetime
) -> None:
    """One row per (kind, sequence). A notice already in the past when the period opens is skipped, not sent
    late; the close always fires."""
    rows = []
    notices = {(n.kind, n.sequence): n for n in unit_notices(period, plan.calendar, province.timezone)}
    notices |= {(n.kind, n.sequence): n for n in period_notices(period, plan.calendar, province.timezone)}
    for notice in notices.values():
        stale = notice.kind != "close" and notice.fire_at < now - timedelta(minutes=1)
        rows.append(
            {
                "province": plan.province,
                "plan_id": plan.id,
                "period": period.code,
                "kind": notice.kind,
                "sequence": notice.sequence,
                "day_offset": notice.day_offset,
                "fire_at": notice.fire_at,
                "state": "skipped" if stale else "pending",
            }
        )
    await session.execute(insert(orm.scheduled_items).values(rows).on_conflict_do_nothing())
