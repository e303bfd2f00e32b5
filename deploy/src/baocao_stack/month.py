"""The demo month (`make up MONTH=1`): a simulated clock that walks the demo plan through one deadline.

The clock starts LEAD_S real seconds before the first notice (the first reminder, nhắc hạn) of the
demo plan's next period, and runs at SPEED simulated seconds per real second. At 3600 (an hour a
second, a day in 24 s) plan 467's three reminders, its deadline (hạn nộp, the 16th), the three overdue
notices (quá hạn) and the escalation digest all come within about 3.5 real minutes of the first
reminder, and the period closes at about +5.5 min; a month lasts about 12 real minutes. At the 86400 of
the tests a whole month takes 30 s, too fast to watch. The lead covers the rest of `up` (services, demo
data) after the clock is fixed.

When the notices fire is deadlines' own rule (`deadlines.domain.schedule`), read here, not copied.
The data then holds simulated instants ahead of today; `down` remembers the latest one in
$BAOCAO_HOME/simulated-clock.json, so that a later month starts after it instead of repeating one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from baocao_shared.calendar import Period, cutoff_window, local_date, period_containing
from baocao_shared.clock import SimulatedClock, build_clock
from baocao_shared.events.catalog import CalendarV1
from deadlines.domain.schedule import deadline, period_notices, unit_notices

from .settings import StackSettings

SPEED = 3600.0  # simulated seconds per real second (BAOCAO_CLOCK_SPEED, when set, wins)
# Real seconds from fixing the clock to the first notice. What `up` still does then (start the services,
# load the demo data) takes 30 s on a quiet machine and nearer 110 s on a busy one.
LEAD_S = 120.0
CLOCK_FILE = "simulated-clock.json"

# What each milestone is, in the output of `up` (English, with the Vietnamese term the pages use).
WHAT = {
    "reminder": ("nhắc hạn", "a reminder mail to each unit that has not reported"),
    "deadline": ("hạn nộp", "the deadline; a report from now on is late"),
    "overdue": ("quá hạn", "an overdue mail to each unit still missing"),
    "escalation": ("tổng hợp", "a digest of the missing units to the province operators"),
    "close": ("khóa sổ", "the period closes; 'missing' is final"),
}


class MonthError(RuntimeError):
    """The demo month cannot be planned (no demo plan, or a production environment)."""


@dataclass(frozen=True)
class DemoPlan:
    """The plan the demo month follows: the first plan of the first province file."""

    plan_id: str
    timezone: str
    calendar: CalendarV1


@dataclass(frozen=True)
class Milestone:
    kind: str  # reminder | deadline | overdue | escalation | close
    day_offset: int | None  # counted from the last day before the deadline
    at: datetime  # simulated, UTC


@dataclass(frozen=True)
class DemoMonth:
    plan_id: str
    period: str
    timezone: str
    start: datetime  # the simulated instant at the epoch (BAOCAO_CLOCK_START)
    epoch: datetime  # the real instant the clock starts from (BAOCAO_CLOCK_EPOCH)
    speed: float
    milestones: tuple[Milestone, ...]

    @property
    def clock(self) -> SimulatedClock:
        return SimulatedClock(start=self.start, epoch=self.epoch, speed=self.speed)

    def clock_env(self) -> dict[str, str]:
        return {
            "BAOCAO_CLOCK": "simulated",
            "BAOCAO_CLOCK_START": self.start.isoformat(),
            "BAOCAO_CLOCK_EPOCH": self.epoch.isoformat(),
            "BAOCAO_CLOCK_SPEED": f"{self.speed:g}",
        }

    def real_at(self, simulated: datetime) -> datetime:
        """The real instant at which the simulated clock shows `simulated`."""
        return self.epoch + (simulated - self.start) / self.speed

    def to_json(self) -> dict:
        return {
            "plan_id": self.plan_id,
            "period": self.period,
            "timezone": self.timezone,
            "start": self.start.isoformat(),
            "epoch": self.epoch.isoformat(),
            "speed": self.speed,
            "milestones": [[m.kind, m.day_offset, m.at.isoformat()] for m in self.milestones],
        }

    @classmethod
    def from_json(cls, data: Mapping) -> DemoMonth:
        return cls(
            plan_id=data["plan_id"],
            period=data["period"],
            timezone=data["timezone"],
            start=datetime.fromisoformat(data["start"]),
            epoch=datetime.fromisoformat(data["epoch"]),
            speed=float(data["speed"]),
            milestones=tuple(Milestone(k, o, datetime.fromisoformat(at)) for k, o, at in data["milestones"]),
        )


def demo_plan(files: Iterable[Path]) -> DemoPlan:
    """The first plan of the first province file, with its province's timezone."""
    for path in files:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for plan in doc.get("plans") or []:
            timezone = (doc.get("province") or {}).get("timezone") or "Asia/Ho_Chi_Minh"
            return DemoPlan(plan["id"], timezone, CalendarV1.model_validate(plan.get("calendar") or {}))
    raise MonthError("MONTH=1 follows the first plan in deploy/provinces/*.yaml, and there is none")


def milestones(period: Period, calendar: CalendarV1, timezone: str) -> list[Milestone]:
    """The period's notices (as deadlines fires them) and its deadline, in time order."""
    notices = unit_notices(period, calendar, timezone) + period_notices(period, calendar, timezone)
    found = [Milestone(n.kind, n.day_offset, n.fire_at) for n in notices]
    found.append(Milestone("deadline", None, deadline(period, calendar, timezone)))
    order = {"reminder": 0, "deadline": 1, "overdue": 2, "escalation": 3, "close": 4}
    return sorted(found, key=lambda m: (m.at, order[m.kind]))


def next_period(period: Period, calendar: CalendarV1) -> Period:
    _, last = cutoff_window(period, calendar)
    return period_containing(last + timedelta(days=1), calendar)


def choose_month(
    plan: DemoPlan,
    *,
    epoch: datetime,
    not_before: datetime | None = None,
    speed: float = SPEED,
    lead_s: float = LEAD_S,
) -> DemoMonth:
    """The first period whose first notice is at least `lead_s` real seconds of simulated time after
    both `epoch` (real now) and `not_before` (the latest simulated instant the data has seen); the
    clock starts that lead before its first notice."""
    lead = timedelta(seconds=lead_s * speed)
    floor = max(epoch, not_before or epoch)
    period = period_containing(local_date(floor, plan.timezone), plan.calendar)
    while True:
        steps = milestones(period, plan.calendar, plan.timezone)
        start = steps[0].at - lead
        if start >= floor:
            return DemoMonth(plan.plan_id, period.code, plan.timezone, start, epoch, speed, tuple(steps))
        period = next_period(period, plan.calendar)


def with_month(settings: StackSettings, month: DemoMonth) -> StackSettings:
    """The settings whose services all run the month's simulated clock."""
    return replace(settings, passthrough={**settings.passthrough, **month.clock_env()})


def speed_of(settings: StackSettings) -> float:
    try:
        return float(settings.passthrough.get("BAOCAO_CLOCK_SPEED") or SPEED)
    except ValueError:
        return SPEED


# ------------------------------------------------------------------- the data's simulated time


def simulated_now(settings: StackSettings) -> datetime | None:
    """What the stack's simulated clock shows now (None with the system clock)."""
    env = settings.passthrough
    if env.get("BAOCAO_CLOCK") != "simulated" or not env.get("BAOCAO_CLOCK_START"):
        return None
    epoch = env.get("BAOCAO_CLOCK_EPOCH")
    return build_clock(
        kind="simulated",
        env="development",
        start=datetime.fromisoformat(env["BAOCAO_CLOCK_START"]),
        epoch=datetime.fromisoformat(epoch) if epoch else None,
        speed=float(env.get("BAOCAO_CLOCK_SPEED") or 1),
    ).now()


def remember_clock(settings: StackSettings) -> None:
    """Keep the latest simulated instant this home's data has seen (called when the stack stops)."""
    reached = simulated_now(settings)
    if reached is None:
        return
    before = simulated_reached(settings.home)
    if before is None or reached > before:
        (settings.home / CLOCK_FILE).write_text(json.dumps({"reached": reached.isoformat()}) + "\n")


def simulated_reached(home: Path) -> datetime | None:
    try:
        return datetime.fromisoformat(json.loads((home / CLOCK_FILE).read_text())["reached"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


# ------------------------------------------------------------------------------- How to try it


def real_month(speed: float) -> str:
    """How long a month of the simulated clock lasts in real time."""
    return in_real_time(30.44 * 86400 / speed).removeprefix("~+")


def local(instant: datetime, timezone: str) -> str:
    """'12/12/2026 08:00': an instant on a wall clock."""
    return f"{instant.astimezone(ZoneInfo(timezone)):%d/%m/%Y %H:%M}"


def in_real_time(seconds: float) -> str:
    """'~+20 s', '~+1 min 48 s', or how long ago."""
    if seconds < -1:
        return "passed"
    seconds = max(seconds, 0)
    if seconds < 60:
        return f"~+{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"~+{minutes} min {rest:02d} s"


def describe(month: DemoMonth, now: datetime) -> list[str]:
    """The month's milestones, one a line: when in real time from `now`, when on the simulated clock."""
    zone = ZoneInfo(month.timezone)
    lines, explained = [], set()
    for step in month.milestones:
        real = month.real_at(step.at)
        term, meaning = WHAT[step.kind]
        what = term if step.kind in explained else f"{term}: {meaning}"
        explained.add(step.kind)
        day = "" if step.day_offset is None else f" (last day {step.day_offset:+d})".replace(" +0", "")
        when = f"{in_real_time((real - now).total_seconds()):<14} {real.astimezone():%H:%M:%S}"
        lines.append(f"{when}  {step.at.astimezone(zone):%d/%m %H:%M}  {what}{day}")
    return lines
