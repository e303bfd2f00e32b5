"""Scale of the calendar: 63 provinces x 2,000 units, through deadlines' own scheduler code.

The catalogue is the demo province of Hải Dương (deploy/provinces/30-hai-duong.yaml) copied to 63
provinces, each with 2,000 synthetic units and plan 467's monthly calendar covering all of them, all
in Vietnam's one timezone, so every province's notices fall due at the same instant. It is written
into a fresh, migrated deadlines database with COPY, in the shape deadlines' catalogue handlers
store (loading time is not a figure). Then, with deadlines' own code:

1. opening one period for all 63 plans: `open_due_periods` in one transaction, as the scheduler's
   tick does it (126,000 obligations, 504 schedule rows); baseline: the same rows written by one
   set-based INSERT ... SELECT per table into empty tables of the same shape;
2. a tick with nothing due (every period open, no notice due yet): `tick`; baseline: the bare query
   that finds due schedule rows, which is the least any tick must run;
3. the tick of a reminder round: at 08:00 three days before the last day, the first reminder of all
   63 plans falls due at once and goes to every unit that has not submitted (all 126,000): `tick`
   writes a `notices` row and an outbox event per unit (one transaction per plan, two plans at a
   time); baseline: the same rows written by two set-based INSERT ... SELECT in one transaction
   (events built by PostgreSQL's jsonb_build_object, of about the same size). The outbox relay is
   not running: sending to Kafka belongs to the relay, not to the tick.

After each step the suite counts the rows the step wrote and fails on a wrong count.

    BAOCAO_BENCH_CALENDAR_PROFILE=/tmp/p.txt ... # pyinstrument's text profile of the reminder round's tick
    BAOCAO_BENCH_CALENDAR_OPEN_PROFILE=/tmp/o.txt ... # and of the opening
    BAOCAO_BENCH_PROFILE_ALL=1 ...                    # with every frame (the library frames too)
"""

from __future__ import annotations

import contextlib
import os
import statistics
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import asyncpg

from baocao_shared.calendar import local_date, period_containing
from baocao_shared.db import make_engine, make_sessionmaker, upgrade_database
from baocao_shared.events.deadlines import REMINDER_DUE
from bench.calendar_catalogue import OPEN_AT, PROVINCES, build_catalogue, load_catalogue
from bench.harness import Figure, Infra, Stopwatch, say
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.domain.schedule import deadline, period_notices, province_notices, unit_notices
from deadlines.handlers.periods import open_due_periods
from deadlines.handlers.scheduler import tick
from deadlines.main import MIGRATIONS

SUITE = "calendar"
UNITS = 2000
QUICK_UNITS = 200
IDLE_TICKS = 5  # a tick with nothing due changes nothing: repeat it and take the median


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    return {
        "periods": await conn.fetchval("SELECT count(*) FROM periods"),
        "obligations": await conn.fetchval("SELECT count(*) FROM obligations WHERE expected AND due_at IS NOT NULL"),
        "scheduled_items": await conn.fetchval("SELECT count(*) FROM scheduled_items"),
        "scheduled_pending": await conn.fetchval("SELECT count(*) FROM scheduled_items WHERE state = 'pending'"),
        "scheduled_fired": await conn.fetchval("SELECT count(*) FROM scheduled_items WHERE state = 'fired'"),
        "notices": await conn.fetchval("SELECT count(*) FROM notices"),
        "outbox": await conn.fetchval("SELECT count(*) FROM outbox"),
        "outbox_reminders": await conn.fetchval("SELECT count(*) FROM outbox WHERE event_type = $1", REMINDER_DUE.type),
    }


def expect(step: str, found: dict[str, int], wanted: dict[str, int]) -> None:
    wrong = {k: (found[k], v) for k, v in wanted.items() if found[k] != v}
    if wrong:
        raise AssertionError(f"{step}: wrong counts (found, wanted): {wrong}")


# Baselines: the same rows, written the fastest way PostgreSQL allows, into empty tables of the same shape.
BASELINE_TABLES = """
CREATE TABLE base_periods (LIKE periods INCLUDING ALL);
CREATE TABLE base_obligations (LIKE obligations INCLUDING ALL);
CREATE TABLE base_scheduled_items (LIKE scheduled_items INCLUDING ALL);
CREATE TABLE base_notices (LIKE notices INCLUDING ALL);
CREATE TABLE base_outbox (LIKE outbox INCLUDING ALL);
"""
BASELINE_OPEN = (
    """
INSERT INTO base_periods (province, plan_id, period, due_at, opened_at)
  SELECT province, id, $1, $2, $3 FROM plans WHERE active
""",
    """
INSERT INTO base_obligations (province, plan_id, period, unit, due_at, expected)
  SELECT pl.province, pl.id, $1, u.code, $2, true
  FROM plans pl JOIN units u ON u.province = pl.province AND u.active
  WHERE pl.active
""",
    """
INSERT INTO base_scheduled_items (province, plan_id, period, kind, sequence, day_offset, fire_at, state)
  SELECT pl.province, pl.id, $1, n.kind, n.sequence, n.day_offset, n.fire_at, 'pending'
  FROM plans pl CROSS JOIN unnest($2::text[], $3::int[], $4::int[], $5::timestamptz[])
       AS n(kind, sequence, day_offset, fire_at)
  WHERE pl.active
""",
)
BASELINE_REMINDERS = (
    """
INSERT INTO base_notices (province, plan_id, period, unit, kind, sequence, fired_at)
  SELECT o.province, o.plan_id, o.period, o.unit, 'reminder', 0, $1
  FROM obligations o WHERE o.expected AND o.first_submitted_at IS NULL
""",
    """
INSERT INTO base_outbox (event_id, topic, key, event_type, payload)
  SELECT o.event_id, 'baocao.deadlines', o.province || '.' || o.plan_id || '.' || o.period || '.' || o.unit, $2::text,
         jsonb_build_object(
           'specversion', '1.0', 'id', o.event_id, 'source', '/baocao/deadlines', 'type', $2::text,
           'subject', o.province || '.' || o.plan_id || '.' || o.period || '.' || o.unit,
           'time', $1::timestamptz, 'datacontenttype', 'application/json', 'province', o.province,
           'data', jsonb_build_object(
             'province', o.province, 'plan_id', o.plan_id, 'period', o.period, 'unit', o.unit,
             'unit_name', u.doc->>'name', 'due_at', o.due_at, 'kind', 'reminder', 'sequence', 0,
             'day_offset', $3::int, 'fire_at', $1::timestamptz, 'late_by_s', null))
  FROM (SELECT *, gen_random_uuid() AS event_id FROM obligations WHERE expected AND first_submitted_at IS NULL) o
  JOIN units u ON u.province = o.province AND u.code = o.unit
""",
)


@contextlib.contextmanager
def profiled(to: str | None) -> Iterator[None]:
    """pyinstrument's text profile of the block, written to `to` (nothing without it)."""
    if not to:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(async_mode="enabled")
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        every_frame = bool(os.environ.get("BAOCAO_BENCH_PROFILE_ALL"))  # SQLAlchemy's frames too
        Path(to).write_text(profiler.output_text(unicode=True, color=False, show_all=every_frame), encoding="utf-8")
        say(f"profile in {to}")


async def timed_in_transaction(conn: asyncpg.Connection, statements: list[tuple[str, tuple]]) -> float:
    watch = Stopwatch()
    async with conn.transaction():
        for sql, args in statements:
            await conn.execute(sql, *args)
    return watch.seconds


async def run(infra: Infra, *, quick: bool) -> list[Figure]:
    units_each = QUICK_UNITS if quick else UNITS
    total_units = PROVINCES * units_each
    url = await infra.create_database("calendar")
    dsn = infra.asyncpg_url(url.rsplit("/", 1)[1])
    await upgrade_database(MIGRATIONS, url)
    watch = Stopwatch()
    catalogue = build_catalogue(units_each)
    await load_catalogue(dsn, catalogue)
    say(f"catalogue of {PROVINCES} provinces x {units_each} units loaded in {watch.seconds:.1f}s")

    plan, province = catalogue.plans[0], catalogue.provinces[0]
    period = period_containing(local_date(OPEN_AT, province.timezone), plan.calendar)
    notices = [
        *unit_notices(period, plan.calendar, province.timezone),
        *period_notices(period, plan.calendar, province.timezone),
        *province_notices(period, plan.calendar, province.timezone),  # the national office's, per province
    ]
    reminder = next(n for n in notices if n.kind == "reminder" and n.sequence == 0)
    first_reminder = reminder.fire_at
    idle_at = OPEN_AT + timedelta(days=1)
    round_at = first_reminder + timedelta(seconds=30)
    assert idle_at < min(n.fire_at for n in notices), "the idle tick must come before any notice"
    assert round_at < sorted(n.fire_at for n in notices)[1], "only the first reminder falls due in the round"

    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    conn = await asyncpg.connect(dsn)
    figures: list[Figure] = []
    try:
        await conn.execute(BASELINE_TABLES)
        # -- 1. opening the period
        with profiled(os.environ.get("BAOCAO_BENCH_CALENDAR_OPEN_PROFILE")):
            watch = Stopwatch()
            async with DeadlinesUnitOfWork.begin(sessionmaker) as uow:
                opened = await open_due_periods(uow, now=OPEN_AT)
            open_s = watch.seconds
        after_open = await counts(conn)
        expect(
            "open",
            after_open,
            {
                "periods": PROVINCES,
                "obligations": total_units,
                "scheduled_items": PROVINCES * len(notices),
                "outbox": 0,
            },
        )
        assert len(opened) == PROVINCES, opened[:3]
        due = deadline(period, plan.calendar, province.timezone)
        schedule = (
            [n.kind for n in notices],
            [n.sequence for n in notices],
            [n.day_offset for n in notices],
            [n.fire_at for n in notices],
        )
        base_open_s = await timed_in_transaction(
            conn,
            [
                (BASELINE_OPEN[0], (period.code, due, OPEN_AT)),
                (BASELINE_OPEN[1], (period.code, due)),
                (BASELINE_OPEN[2], (period.code, *schedule)),
            ],
        )
        base_count = await conn.fetchval("SELECT count(*) FROM base_obligations")
        assert base_count == total_units, base_count
        say(f"opened {len(opened)} periods in {open_s:.2f}s (baseline {base_open_s:.2f}s)")
        figures.append(
            Figure(
                suite=SUITE,
                name=f"open a period: {PROVINCES} plans, {total_units:,} obligations",
                value=open_s,
                unit="s",
                baseline=base_open_s,
                baseline_name="INSERT ... SELECT of the same rows",
                target="< 5 s",
                met=open_s < 5,
                higher_is_better=False,
                notes={
                    "measures": "deadlines.handlers.periods.open_due_periods in one transaction (as the tick), "
                    "commit included; the baseline writes the same periods, obligations and schedule rows with "
                    "one INSERT ... SELECT per table into empty tables of the same shape, in one transaction",
                    "period": period.code,
                    "counts_after": after_open,
                },
            )
        )

        # -- 2. a tick with nothing due
        idle, bare = [], []
        for _ in range(IDLE_TICKS):
            watch = Stopwatch()
            fired = await tick(sessionmaker, now=idle_at)
            idle.append(watch.seconds)
            assert fired == 0, fired
            watch = Stopwatch()
            await conn.fetch(DUE_QUERY, idle_at)
            bare.append(watch.seconds)
        after_idle = await counts(conn)
        expect("idle tick", after_idle, {k: after_open[k] for k in ("periods", "obligations", "notices", "outbox")})
        idle_s, bare_s = statistics.median(idle), statistics.median(bare)
        say(f"tick with nothing due: {idle_s * 1000:.0f} ms (bare due query {bare_s * 1000:.1f} ms)")
        figures.append(
            Figure(
                suite=SUITE,
                name="scheduler tick, nothing due",
                value=idle_s,
                unit="s",
                baseline=bare_s,
                baseline_name="the bare due-rows query",
                target="< 1 s",
                met=idle_s < 1,
                higher_is_better=False,
                notes={
                    "measures": f"median of {IDLE_TICKS} calls of deadlines.handlers.scheduler.tick a day after "
                    "opening: it looks for each active plan's periods after its newest opened one, then for due "
                    "schedule rows; the baseline is that last query alone, on the same tables (the least a tick "
                    "must do; a SELECT 1 would measure only the round trip)",
                    "ticks_s": [round(x, 4) for x in idle],
                    "bare_s": [round(x, 5) for x in bare],
                },
            )
        )

        # -- 3. the tick of a reminder round
        with profiled(os.environ.get("BAOCAO_BENCH_CALENDAR_PROFILE")):
            watch = Stopwatch()
            fired = await tick(sessionmaker, now=round_at)
            round_s = watch.seconds
        after_round = await counts(conn)
        expect(
            "reminder round",
            after_round,
            {
                "notices": total_units,
                "outbox": total_units,
                "outbox_reminders": total_units,
                "scheduled_fired": PROVINCES,
            },
        )
        assert fired == PROVINCES, fired
        base_round_s = await timed_in_transaction(
            conn,
            [
                (BASELINE_REMINDERS[0], (round_at,)),
                (BASELINE_REMINDERS[1], (round_at, REMINDER_DUE.type, reminder.day_offset)),
            ],
        )
        base_rows = await conn.fetchval("SELECT count(*) FROM base_outbox")
        assert base_rows == total_units, base_rows
        payload_bytes = {
            "tick": await conn.fetchval("SELECT avg(pg_column_size(payload))::int FROM outbox"),
            "baseline": await conn.fetchval("SELECT avg(pg_column_size(payload))::int FROM base_outbox"),
        }
        say(
            f"reminder round: {fired} rows fired, {total_units:,} reminders in {round_s:.2f}s "
            f"(baseline {base_round_s:.2f}s)"
        )
        figures.append(
            Figure(
                suite=SUITE,
                name=f"scheduler tick, reminder round to {total_units:,} units",
                value=round_s,
                unit="s",
                baseline=base_round_s,
                baseline_name="INSERT ... SELECT of the same notices and events",
                target="<= 2x the SQL floor (issue 19)",
                met=round_s <= 2 * base_round_s,
                higher_is_better=False,
                notes={
                    "measures": "one deadlines.handlers.scheduler.tick at the instant the first reminder of all "
                    f"{PROVINCES} plans falls due, no unit having submitted: one notices row and one "
                    "reminder.due outbox event per unit (the relay to Kafka is not running); the baseline writes "
                    "the same notices and events (payload built by jsonb_build_object) with two INSERT ... SELECT "
                    "in one transaction",
                    "fire_at": first_reminder.isoformat(),
                    "counts_after": after_round,
                    "mean_payload_bytes": payload_bytes,
                },
            )
        )
    finally:
        await conn.close()
        await engine.dispose()
    return figures


DUE_QUERY = """
SELECT p.province, p.plan_id, p.period FROM periods p
WHERE EXISTS (SELECT 1 FROM scheduled_items s
              WHERE s.province = p.province AND s.plan_id = p.plan_id AND s.period = p.period
                AND s.state = 'pending' AND s.fire_at <= $1)
ORDER BY p.due_at LIMIT 100
"""
