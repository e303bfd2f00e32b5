"""The compliance dashboard of one period (tiến độ báo cáo): what the page shows, in Vietnamese.

The dashboard use case (deadlines.handlers.dashboard) reads; this module turns its answer into labels, local
times and table rows, and holds no timeliness rule of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from baocao_shared.events.catalog import PlanV1, ProvinceV1
from baocao_shared.web import local_time
from deadlines.handlers.dashboard import Board

# status -> (label, badge class of baocao.css, a symbol so that colour is not the only cue)
STATUSES = {
    "on_time": ("Đúng hạn", "done", "✓"),
    "late": ("Muộn", "locked", "!"),
    "missing": ("Chưa nộp", "overdue", "✗"),
    "pending": ("Chưa đến hạn", "open", "…"),
    None: ("Không phải báo cáo", "none", "–"),
}


@dataclass(frozen=True)
class Badge:
    period: str
    status: str | None
    label: str
    css: str
    symbol: str


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    css: str = ""


@dataclass(frozen=True)
class UnitRow:
    unit: str
    name: str
    badge: Badge
    first_submitted: str
    late: str
    amended_after_due: bool
    history: list[Badge]
    after_close: bool = False  # counted late: sent after the close under the office's exception

    @property
    def submitted(self) -> bool:
        return self.badge.status in ("on_time", "late")


@dataclass(frozen=True)
class Dashboard:
    province: ProvinceV1
    plan: PlanV1
    period: str
    periods: list[str]  # opened and tracked, newest first
    deadline: str
    closed_at: str
    figures: list[Figure]
    rows: list[UnitRow]
    history_periods: list[str]
    closed_periods: frozenset[str] = frozenset()  # of `periods`, the closed ones: their figures are final
    final: bool = False  # this period is closed: `missing` is final

    @property
    def nudgeable(self) -> list[UnitRow]:
        return [row for row in self.rows if not row.submitted]

    @property
    def legend(self) -> list[Badge]:
        return [badge("", status) for status in ("on_time", "late", "missing", "pending")]


def badge(period: str, status: str | None) -> Badge:
    label, css, symbol = STATUSES[status]
    return Badge(period, status, label, css, symbol)


def late_text(seconds: int | None) -> str:
    """How late a first submission came: 'muộn 1 ngày 9 giờ 30 phút'; empty when not late."""
    if seconds is None:
        return ""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    parts = [f"{n} {word}" for n, word in ((days, "ngày"), (hours, "giờ"), (rest // 60, "phút")) if n]
    return "muộn " + " ".join(parts) if parts else "muộn dưới 1 phút"


def percent(rate: float) -> str:
    """A rate as a Vietnamese percentage with one decimal: 0.6667 -> '66,7%'."""
    return f"{rate * 100:.1f}".replace(".", ",") + "%"


def share(part: int, whole: int) -> str:
    """part of whole as a percentage, from the counts (the API's rates are already rounded to 4
    places, and rounding those again turns 1/29 = 3.448% into 3,5%)."""
    return percent(part / whole) if whole else percent(0.0)


def deadline_text(due_at: datetime, timezone: str) -> str:
    return f"trước {local_time(due_at, timezone, '%H:%M')} ngày {local_time(due_at, timezone, '%d/%m/%Y')}"


AFTER_CLOSE = "Nộp sau khóa sổ (ngoại lệ)"


def summary_figures(summary: dict[str, Any], *, final: bool = False) -> list[Figure]:
    return [
        Figure("Số đơn vị phải báo cáo", str(summary["expected"])),
        Figure("Đúng hạn", str(summary["on_time"]), "done"),
        Figure("Muộn", str(summary["late"]), "locked"),
        Figure("Không nộp (đã khóa sổ)" if final else "Chưa nộp (quá hạn)", str(summary["missing"]), "overdue"),
        Figure("Chưa đến hạn", str(summary["pending"]), "open"),
        Figure("Tỷ lệ báo cáo", share(summary["on_time"] + summary["late"], summary["expected"])),
        Figure("Tỷ lệ đúng hạn", share(summary["on_time"], summary["expected"])),
    ]


def dashboard(found: Board) -> Dashboard:
    """The period's figures and units, each unit with its status in the last opened periods."""
    compliance, history, recent = found.compliance, found.history, found.history_periods
    tz = found.province.timezone
    rows = [
        UnitRow(
            unit=u["unit"],
            name=u["unit_name"],
            badge=badge(found.period, u["status"]),
            first_submitted=local_time(u["first_submitted_at"], tz),
            late=late_text(u["late_by_s"]),
            amended_after_due=u["amended_after_due"],
            history=[badge(p, history.get(u["unit"], {}).get(p)) for p in recent],
            after_close=u["after_close"],
        )
        for u in compliance["units"]
    ]
    return Dashboard(
        province=found.province,
        plan=found.plan,
        period=found.period,
        periods=found.periods,
        deadline=deadline_text(compliance["due_at"], tz),
        closed_at=local_time(compliance["closed_at"], tz),
        figures=summary_figures(compliance["summary"], final=compliance["final"]),
        rows=rows,
        history_periods=recent,
        closed_periods=frozenset(p for p, state in found.states.items() if state == "closed"),
        final=compliance["final"],
    )
