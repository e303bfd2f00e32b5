"""Who owes a period, in SQL: deadlines.domain.membership's rule as the statements that open periods
(Obligations.owe_periods) and stop obligations (a unit retired, left the plan, or not in force in the period).

The statements that open a plan's periods (`OWE_*`) take the plan (`owe_province`, `owe_plan_id`, its units as
the array `owe_units`) and the periods as three arrays: the same statements for every plan and any number of
periods, compiled by SQLAlchemy once, not once per plan (the 63 plans of a country's opening compiled theirs in
1 s: bench/calendar_scale.py's profile, BAOCAO_BENCH_CALENDAR_OPEN_PROFILE).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Integer,
    String,
    any_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert

from deadlines.adapters import orm

o, u = orm.obligations, orm.units
KEY = ("province", "plan_id", "period", "unit")


def period_last_month(period):
    """The period's last month in SQL, as baocao_shared.calendar.period_month says, compared bytewise as
    in_force compares it: 2025-Q3 -> 2025-09, 2025-H1 -> 2025-06, 2025-Y -> 2025-12, a month itself."""
    kind, index, year = func.substr(period, 6, 1), cast(func.substr(period, 7, 1), Integer), func.left(period, 5)
    return case(
        (kind == "Q", func.concat(year, func.lpad(cast(index * 3, String), 2, "0"))),
        (kind == "H", func.concat(year, func.lpad(cast(index * 6, String), 2, "0"))),
        (kind == "Y", func.concat(year, "12")),
        else_=func.left(period, 7),
    ).collate("C")


def in_force(period) -> Any:
    """The unit (orm.units) is in force in the period: valid_from <= its month <= valid_to, NULL open-ended."""
    month = period_last_month(period)
    return (u.c.valid_from.is_(None) | (u.c.valid_from.collate("C") <= month)) & (
        u.c.valid_to.is_(None) | (month <= u.c.valid_to.collate("C"))
    )


def amended_after(due):
    """An amendment already received at or after the deadline is flagged once the deadline is known."""
    return o.c.amended_after_due | ((o.c.last_version > 1) & (o.c.last_received_at >= due))


_OWED_PERIODS = (
    select(
        func.unnest(bindparam("owe_periods", type_=ARRAY(String))).label("period"),
        func.unnest(bindparam("owe_due_ats", type_=ARRAY(o.c.due_at.type))).label("due_at"),
        func.unnest(bindparam("owe_window_ends", type_=ARRAY(String))).label("window_end"),
    )
).subquery("owed_periods")
_OWE_PLAN = (o.c.province == bindparam("owe_province", type_=String), o.c.plan_id == bindparam("owe_plan_id"))
_OWES = (
    u.c.province == bindparam("owe_province"),
    u.c.active,
    u.c.code == any_(bindparam("owe_units", type_=ARRAY(String))),
    in_force(_OWED_PERIODS.c.period),
    (u.c.doc["active_from"].astext.is_(None)) | (u.c.doc["active_from"].astext <= _OWED_PERIODS.c.window_end),
)
_OWING = (
    select(
        bindparam("owe_province"), bindparam("owe_plan_id", type_=String), _OWED_PERIODS.c.period, u.c.code,
        _OWED_PERIODS.c.due_at, literal(True),
    )
    .select_from(_OWED_PERIODS.join(u, true()))
    .where(*_OWES)
)  # fmt: skip
_OWED_COLUMNS = ["province", "plan_id", "period", "unit", "due_at", "expected"]
OWE_NEW = insert(o).from_select(
    _OWED_COLUMNS, _OWING.where(~exists().where(*_OWE_PLAN, o.c.period == _OWED_PERIODS.c.period, o.c.unit == u.c.code))
)
_owe_all = insert(o).from_select(_OWED_COLUMNS, _OWING)
OWE_ALL = _owe_all.on_conflict_do_update(
    index_elements=list(KEY),
    set_={
        "due_at": _owe_all.excluded.due_at,
        "expected": True,
        "amended_after_due": amended_after(_owe_all.excluded.due_at),
    },
)
OWE_EXISTING = (
    update(o)
    .where(
        *_OWE_PLAN,
        o.c.period == _OWED_PERIODS.c.period,
        exists().where(u.c.code == o.c.unit, *_OWES),
        o.c.due_at.is_distinct_from(_OWED_PERIODS.c.due_at) | ~o.c.expected,
    )
    .values(due_at=_OWED_PERIODS.c.due_at, expected=True, amended_after_due=amended_after(_OWED_PERIODS.c.due_at))
)
