"""The national dashboard (tiến độ các tỉnh): what the page shows of the provinces' reports to the national office,
in Vietnamese. The use case (deadlines.handlers.national_compliance) reads; this turns its answer into labels,
local times and rows, and holds no timeliness rule of its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from baocao_shared.web import local_time
from deadlines.handlers.national_compliance import NationalBoard
from deadlines.web.dashboard import STATUSES, Badge, Figure, deadline_text, late_text, share

NATIONAL_TIMEZONE = "Asia/Ho_Chi_Minh"  # the national office's wall clock
# A province sends (gửi) its report up; the other words are the units' dashboard's.
PROVINCE_STATUSES = {**STATUSES, "missing": ("Chưa gửi", "overdue", "✗"), None: ("Không phải gửi", "none", "–")}


def badge(period: str, status: str | None) -> Badge:
    label, css, symbol = PROVINCE_STATUSES[status]
    return Badge(period, status, label, css, symbol)


@dataclass(frozen=True)
class ProvinceRow:
    province: str
    name: str
    plan_id: str
    badge: Badge
    deadline: str
    first_published: str
    late: str
    history: list[Badge]

    @property
    def submitted(self) -> bool:
        return self.badge.status in ("on_time", "late")


@dataclass(frozen=True)
class NationalDashboard:
    period: str
    periods: list[str]  # newest first
    plan_id: str | None
    deadline: str
    figures: list[Figure]
    rows: list[ProvinceRow]
    history_periods: list[str]
    several_plans: bool
    final: bool

    @property
    def nudgeable(self) -> list[ProvinceRow]:
        return [row for row in self.rows if not row.submitted]

    @property
    def legend(self) -> list[Badge]:
        return [badge("", status) for status in ("on_time", "late", "missing", "pending")]


def national_figures(summary: dict[str, Any], *, final: bool) -> list[Figure]:
    return [
        Figure("Số tỉnh phải báo cáo", str(summary["expected"])),
        Figure("Đúng hạn", str(summary["on_time"]), "done"),
        Figure("Muộn", str(summary["late"]), "locked"),
        Figure("Không gửi (đã khóa sổ)" if final else "Chưa gửi (quá hạn)", str(summary["missing"]), "overdue"),
        Figure("Chưa đến hạn", str(summary["pending"]), "open"),
        Figure("Tỷ lệ báo cáo", share(summary["on_time"] + summary["late"], summary["expected"])),
        Figure("Tỷ lệ đúng hạn", share(summary["on_time"], summary["expected"])),
    ]


def national_dashboard(found: NationalBoard) -> NationalDashboard:
    """The period's figures and provinces, each with its status in the last periods."""
    compliance, tz = found.compliance, NATIONAL_TIMEZONE
    rows = [
        ProvinceRow(
            province=u["unit"],
            name=u["unit_name"],
            plan_id=u["plan_id"],
            badge=badge(found.period or "", u["status"]),
            deadline=deadline_text(u["due_at"], tz),
            first_published=local_time(u["first_submitted_at"], tz),
            late=late_text(u["late_by_s"]),
            history=[badge(p, found.history.get((u["unit"], u["plan_id"]), {}).get(p)) for p in found.history_periods],
        )
        for u in compliance["units"]
    ]
    return NationalDashboard(
        period=found.period or "",
        periods=found.periods,
        plan_id=found.plan_id,
        deadline=deadline_text(compliance["due_at"], tz),
        figures=national_figures(compliance["summary"], final=compliance["final"]),
        rows=rows,
        history_periods=found.history_periods,
        several_plans=len(compliance["plan_ids"]) > 1,
        final=compliance["final"],
    )
