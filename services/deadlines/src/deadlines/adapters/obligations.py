"""Obligations (nghĩa vụ báo cáo): what each unit owes for a period, and what has arrived.

Who owes is the rule of deadlines.domain.membership, applied here in set-based SQL: a period of thousands of
units opens in a few statements, the plan's units going as one array parameter.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    DateTime,
    Table,
    and_,
    any_,
    bindparam,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Update

from baocao_shared.events.catalog import PlanV1, UnitV1
from baocao_shared.events.submissions import SubmissionV1
from deadlines.adapters import orm
from deadlines.adapters.membership import KEY, OWE_ALL, OWE_EXISTING, OWE_NEW, in_force
from deadlines.domain.arrivals import Arrived, Key

o, u, p = orm.obligations, orm.units, orm.periods
_ARRIVED = (*KEY, "first_submitted_at", "submission_id", "last_version", "last_received_at", "after_close")
_MOMENT = DateTime(timezone=True)


def _arrays(columns: Sequence[str], name: str):
    """A row per element of one array parameter per column (the same statement whatever the number of rows:
    PostgreSQL plans it once), as a subquery named `name`; the parameters are the columns' names with `a_`
    before them (`_columns`)."""

    def typed(c: str):
        return ARRAY(o.c[c].type if c in o.c else _MOMENT)

    return select(*(func.unnest(bindparam(f"a_{c}", type_=typed(c))).label(c) for c in columns)).subquery(name)


def _columns(rows: Sequence[Any], columns: Sequence[str]) -> dict[str, list]:
    """The parameters of `_arrays`: the rows' attributes, one list per column."""
    return {f"a_{c}": [getattr(r, c) for r in rows] for c in columns}


def _key_columns(keys: Sequence[Key]) -> dict[str, list]:
    return {f"a_{c}": [key[i] for key in keys] for i, c in enumerate(KEY)}


_RECORD = insert(o).from_select(list(_ARRIVED), select(_arrays(_ARRIVED, "arrived")))
_RECORD_MANY = _RECORD.on_conflict_do_update(
    index_elements=list(KEY),
    set_={
        "first_submitted_at": func.least(o.c.first_submitted_at, _RECORD.excluded.first_submitted_at),
        "submission_id": _RECORD.excluded.submission_id,
        "last_version": func.greatest(o.c.last_version, _RECORD.excluded.last_version),
        "last_received_at": func.greatest(o.c.last_received_at, _RECORD.excluded.last_received_at),
        "after_close": o.c.after_close | _RECORD.excluded.after_close,
    },
)
_amended = _arrays((*KEY, "amended_at"), "amended")
# An amendment received at or after a known deadline flags the obligation (the deadline stays unknown on a row
# the submission just inserted: the period's opening flags it then, `_amended_after`).
_FLAG_AMENDED = (
    update(o)
    .where(*(o.c[c] == _amended.c[c] for c in KEY), o.c.due_at.is_not(None), _amended.c.amended_at >= o.c.due_at)
    .where(~o.c.amended_after_due)
    .values(amended_after_due=True)
)


def not_expected_before(table: Table, province: str, plan_id: str, first: str) -> Update:
    """The statement that stops a plan's periods before `first` (history) being expected, in the units'
    obligations or the provinces' (`province_obligations`): the rows stay, with what arrived."""
    c = table.c
    where = (c.province == province, c.plan_id == plan_id, c.period < first, c.expected)
    return update(table).where(*where).values(expected=False)


def stop_unreported(
    table: Table, arrived: ColumnElement, province: str, plan_id: str, periods: Collection[str]
) -> Update:
    """The statement that stops these periods of a plan being expected where nothing `arrived` (a report, or the
    province's publication), in the units' obligations or the provinces'."""
    c = table.c
    where = (c.province == province, c.plan_id == plan_id, c.period.in_(sorted(periods)), c.expected, arrived.is_(None))
    return update(table).where(*where).values(expected=False)


def _this(province: str, plan_id: str, period: str) -> tuple:
    return o.c.province == province, o.c.plan_id == plan_id, o.c.period == period


class Awaiting(NamedTuple):
    """An owed obligation as a notice round reads it (Obligations.awaiting)."""

    unit: str
    unit_name: str | None  # None while the catalogue has not told the unit's name
    due_at: datetime
    first_submitted_at: datetime | None
    after_close: bool


def _owed(province: str, plan_id: str, period: str) -> tuple:
    """The period's obligations that are owed and whose deadline is known."""
    return *_this(province, plan_id, period), o.c.expected, o.c.due_at.is_not(None)


class Obligations:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, submission: SubmissionV1) -> None:
        """Any version, in any order: keep the earliest first_received_at and the highest version; an
        amendment received at or after a known deadline is flagged, and so is a version accepted after the close
        under the office's exception (`after_close`)."""
        await self.record_many([Arrived.of(submission)])

    async def record_many(self, arrived: Sequence[Arrived]) -> None:
        """`record` for many obligations at once (each at most once: `domain.arrivals.fold`), in one statement,
        and one more when amendments came (flagged where the deadline is known and they came at or after it)."""
        if not arrived:
            return
        rows = sorted(arrived, key=lambda a: (a.province, a.plan_id, a.period, a.unit))  # one lock order
        await self.session.execute(_RECORD_MANY, _columns(rows, _ARRIVED))
        amended = [a for a in rows if a.amended_at is not None]
        if amended:
            await self.session.execute(_FLAG_AMENDED, _columns(amended, (*KEY, "amended_at")))

    async def to_announce(self, keys: Collection[Key]) -> list[Any]:
        """Of these obligations, the owed ones with a first submission nobody was told of yet, locked until this
        commits; each row with its unit's name (unit_name) and its period's closed_at, in key order."""
        if not keys:
            return []
        k = _arrays(KEY, "wanted")
        query = (
            select(o, u.c.doc["name"].astext.label("unit_name"), p.c.closed_at)
            .select_from(
                o.join(k, and_(*(o.c[c] == k.c[c] for c in KEY)))
                .outerjoin(u, (u.c.province == o.c.province) & (u.c.code == o.c.unit))
                .outerjoin(p, and_(*(p.c[c] == o.c[c] for c in KEY[:3])))
            )
            .where(o.c.expected, o.c.due_at.is_not(None), o.c.first_submitted_at.is_not(None))
            .where(o.c.announced_at.is_(None))
            .order_by(*(o.c[c] for c in KEY))
            .with_for_update(of=o)
        )
        return list(await self.session.execute(query, _key_columns(sorted(keys))))

    async def announced_each(self, announced: Sequence[tuple[Key, datetime]]) -> None:
        """Each obligation announced at its own time, in one statement."""
        if announced:
            rows = sorted(announced)
            a = _arrays((*KEY, "at"), "announced")
            await self.session.execute(
                update(o).where(*(o.c[c] == a.c[c] for c in KEY)).values(announced_at=a.c.at),
                {**_key_columns([key for key, _ in rows]), "a_at": [at for _, at in rows]},
            )

    async def owed(
        self, province: str, plan_id: str, period: str, *, units: Collection[str] | None = None
    ) -> list[Any]:
        """The period's owed obligations with their units' names (None while the catalogue has not told it), in
        unit order; only `units` when given."""
        query = (
            select(o, u.c.doc["name"].astext.label("unit_name"))
            .join(u, (u.c.province == o.c.province) & (u.c.code == o.c.unit), isouter=True)
            .where(*_owed(province, plan_id, period))
            .order_by(o.c.unit)
        )
        if units is not None:
            query = query.where(o.c.unit.in_(list(units)))
        return list(await self.session.execute(query))

    async def awaiting(self, province: str, plan_id: str, period: str) -> list[Awaiting]:
        """The period's owed obligations with only what decides whether a notice goes to them and what it names,
        in unit order. A reminder round reads thousands: they come as one row of five arrays (asyncpg decodes an
        array in C), not a row object per unit, which cost more than the rest of the read."""
        by_unit = o.c.unit
        columns = (o.c.unit, u.c.doc["name"].astext, o.c.due_at, o.c.first_submitted_at, o.c.after_close)
        query = (
            select(*(func.array_agg(aggregate_order_by(column, by_unit)) for column in columns))
            .select_from(o)
            .join(u, (u.c.province == o.c.province) & (u.c.code == o.c.unit), isouter=True)
            .where(*_owed(province, plan_id, period))
        )
        arrays = (await self.session.execute(query)).one()
        return [] if arrays[0] is None else list(map(Awaiting._make, zip(*arrays, strict=True)))

    async def owed_in(self, province: str, plan_id: str, periods: list[str]) -> list[Any]:
        """The owed obligations of several periods, each row with its period's closed_at, in one query."""
        p = orm.periods
        rows = await self.session.execute(
            select(o, o.c.unit.label("unit_name"), p.c.closed_at)
            .join(p, (p.c.province == o.c.province) & (p.c.plan_id == o.c.plan_id) & (p.c.period == o.c.period))
            .where(
                o.c.province == province,
                o.c.plan_id == plan_id,
                o.c.period.in_(periods),
                o.c.expected,
                o.c.due_at.is_not(None),
            )
        )
        return list(rows)

    async def unannounced(self, province: str, plan_id: str, period: str, *, unit: str | None = None) -> list[str]:
        """The owed units with a first submission that nobody was told of yet, locked until this commits."""
        query = select(o.c.unit).where(
            *_owed(province, plan_id, period), o.c.first_submitted_at.is_not(None), o.c.announced_at.is_(None)
        )
        if unit is not None:
            query = query.where(o.c.unit == unit)
        return list((await self.session.execute(query.with_for_update())).scalars().all())

    async def periods_to_announce(self, province: str, plan_id: str, periods: Collection[str]) -> list[str]:
        """Which of these periods have an owed obligation with a first submission nobody was told of yet."""
        rows = await self.session.scalars(
            select(o.c.period)
            .distinct()
            .where(
                o.c.province == province,
                o.c.plan_id == plan_id,
                o.c.period.in_(list(periods)),
                o.c.expected,
                o.c.due_at.is_not(None),
                o.c.first_submitted_at.is_not(None),
                o.c.announced_at.is_(None),
            )
        )
        return sorted(rows)

    async def not_expected_before(self, province: str, plan_id: str, first: str) -> None:
        """Nobody owes the plan's periods before `first` (history): their rows stay, with what arrived, but are no
        longer expected, so no figure counts them and nobody is reminded of them."""
        await self.session.execute(not_expected_before(o, province, plan_id, first))

    async def stop_unreported(self, province: str, plan_id: str, periods: Collection[str]) -> None:
        """Nobody owes these periods of the plan any more (its province is not in force in them), unless a report
        arrived: that obligation stays as it was, on record and counted. The others are kept, not expected, so no
        figure counts them and nobody is reminded of them."""
        if periods:
            await self.session.execute(stop_unreported(o, o.c.first_submitted_at, province, plan_id, periods))

    async def announced(self, province: str, plan_id: str, period: str, units: list[str], *, at: datetime) -> None:
        await self.session.execute(
            o.update().where(*_this(province, plan_id, period), o.c.unit.in_(units)).values(announced_at=at)
        )

    async def owe_periods(
        self, plan: PlanV1, periods: Sequence[tuple[str, datetime, date]], *, reopened: Collection[str]
    ) -> None:
        """Each unit that owes a period (domain.membership.owes) does, for every (period, due_at, window end) at
        once: a statement covers all the periods, the periods going as arrays (`_OWE_*`: the same statements for
        every plan, compiled once). On a period opened before (in `reopened`), a unit that left the plan or retired
        since no longer does."""
        if not periods:
            return
        params = {
            "owe_province": plan.province,
            "owe_plan_id": plan.id,
            "owe_units": list(plan.units),
            "owe_periods": [code for code, _, _ in periods],
            "owe_due_ats": [due for _, due, _ in periods],
            "owe_window_ends": [end.isoformat() for _, _, end in periods],
        }
        # The units without a row owe it from now on. A plain insert writes them at half the cost of an upsert,
        # unless a submission adds a row meanwhile: then the insert fails on that row and the upsert does it all.
        try:
            async with self.session.begin_nested():
                await self.session.execute(OWE_NEW, params)
        except IntegrityError:
            await self.session.execute(OWE_ALL, params)
        # Then the rows that were there (a submission came before the period opened, or the period is re-checked)
        # owe it too. After the insert, not before: a submission committed between a first look and the insert
        # would be skipped by both, its row never owed. Rows already owed with this deadline are not written again.
        await self.session.execute(OWE_EXISTING, params)
        if not reopened:
            return  # nothing was owed for these periods before this transaction opened them
        in_plan = u.c.code == any_(literal(plan.units, ARRAY(u.c.code.type)))
        this_plan = (o.c.province == plan.province, o.c.plan_id == plan.id)
        # A unit retired, or dropped from the plan, while the period is open no longer owes it; nor does a unit no
        # longer in force in the period (a reorganisation loaded late), unless its report arrived (kept as it was).
        await self.session.execute(
            update(o)
            .where(
                *this_plan,
                o.c.period.in_(sorted(reopened)),
                o.c.expected,
                o.c.unit.not_in(select(u.c.code).where(u.c.province == plan.province, u.c.active, in_plan))
                | (
                    o.c.first_submitted_at.is_(None)
                    & exists().where(u.c.province == o.c.province, u.c.code == o.c.unit, ~in_force(o.c.period))
                ),
            )
            .values(expected=False)
        )

    async def not_in_force(self, unit: UnitV1) -> None:
        """The unit's obligations for periods it is not in force in (outside the valid_from..valid_to just stored: a
        reorganisation loaded after they were opened) and without a report stop being expected, in every plan and
        period, closed ones too (domain.membership.stops_owing): no figure counts them, nobody is reminded. An
        obligation with a report stays as it was."""
        await self.session.execute(
            update(o)
            .where(
                o.c.province == unit.province,
                o.c.unit == unit.code,
                o.c.expected,
                o.c.first_submitted_at.is_(None),
                exists().where(u.c.province == o.c.province, u.c.code == o.c.unit, ~in_force(o.c.period)),
            )
            .values(expected=False)
        )
