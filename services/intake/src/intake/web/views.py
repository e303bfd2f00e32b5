"""What the unit's pages show, built from the plan and the use cases' answers: no rule lives here.

Which periods a unit may report on, and whether a report is valid, are the domain's rules
(`intake.domain.submissions`, `baocao_shared.calendar`); these functions only lay their answers
out for the templates, in Vietnamese.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from starlette.datastructures import FormData

from baocao_shared.calendar import Period, cutoff_window, due_at, local_date, parse_period, period_containing
from baocao_shared.errors import Conflict
from baocao_shared.events.catalog import PlanV1, TemplateV1
from baocao_shared.periods import ACCEPTING, standing
from baocao_shared.web import local_time
from intake.domain import submissions as rules
from intake.domain.errors import (
    AlreadySubmitted,
    IdempotencyKeyReused,
    PeriodClosed,
    PeriodIsHistory,
    PeriodLocked,
    StaleVersion,
)
from intake.domain.models import SubmissionOut, VersionOut

TASK_NARRATIVE_LABEL = "Kết quả thực hiện"
# The template's default closing sections, in the order of the consolidated report (III, IV).
USUAL_CLOSING = list(TemplateV1.model_fields["closing_narratives"].default_factory())
WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,30}")


# ----------------------------------------------------------------------------- the periods table


@dataclass(frozen=True)
class PeriodRow:
    period: str
    window: tuple[date, date]
    deadline: str  # e.g. "trước 00:00 ngày 16/06/2019"
    status: str
    status_class: str
    submission: SubmissionOut | None
    state: str = "open"  # where the period stands (baocao_shared.periods)
    can_report: bool = True  # the unit may send or amend it now (open, overdue, or closed under an exception)


SHOWN_PERIODS = 12  # the home shows the periods open now and the 12 newest; "Xem tất cả các kỳ" shows the rest


def deadline_text(due: datetime, timezone: str) -> str:
    return f"trước {local_time(due, timezone, '%H:%M')} ngày {local_time(due, timezone, '%d/%m/%Y')}"


def reportable_periods(plan: PlanV1, timezone: str, now: datetime) -> list[Period]:
    """The plan's periods from its first one to the one open now, newest first."""
    calendar = plan.calendar
    current = period_containing(local_date(now, timezone), calendar)
    first = parse_period(plan.first_period)  # first_period is always written as a month
    periods: dict[str, Period] = {}
    # From a month early: with an early cut-off day, the first period's window starts the month before.
    index, last = first.year * 12 + first.last_month - 2, current.year * 12 + current.last_month - 1
    while index <= last:
        period = period_containing(date(index // 12, index % 12 + 1, 1), calendar)
        # The same rule a submission meets: inside the plan and its data window open.
        if not rules.check_period(plan, period.code, timezone, now)[1]:
            periods[period.code] = period
        index += 1
    return sorted(periods.values(), key=lambda p: (p.year, p.last_month), reverse=True)


def period_rows(
    plan: PlanV1,
    timezone: str,
    now: datetime,
    submitted: dict[str, SubmissionOut],
    locked: set[str],
    excepted: set[str] | frozenset[str] = frozenset(),
) -> list[PeriodRow]:
    """Every period of the plan the unit sees, newest first, with where it stands for the unit."""
    rows = []
    for period in reportable_periods(plan, timezone, now):
        due = due_at(period, plan.calendar, timezone)
        found = submitted.get(period.code)
        state = standing(plan, period.code, timezone, now).state
        can_report = state in ACCEPTING or (state == "closed" and period.code in excepted)
        if period.code in locked or (found and found.locked):
            status, css, can_report = "Đã khóa", "locked", False
        elif found:
            status, css = f"Đã nộp (phiên bản {found.version})", "done"
        elif state == "history":
            status, css = "Số liệu lịch sử", "history"
        elif state == "closed":
            status, css = (
                ("Đã khóa sổ, được nộp bổ sung", "overdue") if can_report else ("Đã khóa sổ, chưa nộp", "closed")
            )
        elif state == "overdue":
            status, css = "Quá hạn, chưa nộp", "overdue"
        else:
            status, css = "Chưa nộp", "open"
        window = cutoff_window(period, plan.calendar)
        rows.append(PeriodRow(period.code, window, deadline_text(due, timezone), status, css, found, state, can_report))
    return rows


def shown_rows(rows: list[PeriodRow], *, show_all: bool) -> tuple[list[PeriodRow], int]:
    """The rows the home shows (the periods the unit may report now and the 12 newest, or all), and how many
    it leaves out."""
    if show_all:
        return rows, 0
    shown = [r for i, r in enumerate(rows) if i < SHOWN_PERIODS or r.can_report]
    return shown, len(rows) - len(shown)


# ----------------------------------------------------------------------------- the report form


@dataclass
class Field:
    id: str
    name: str
    label: str
    value: str
    error: str | None = None
    unit: str | None = None

    @property
    def numeric(self) -> bool:
        """Whether a number input can show the value (it blanks anything else)."""
        try:
            return not self.value or math.isfinite(float(self.value))
        except ValueError:
            return False


@dataclass
class TaskSection:
    code: str
    title: str
    figures: list[Field]
    narrative: Field


@dataclass
class ReportForm:
    tasks: list[TaskSection]
    closing: list[Field]
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (field id, label, message)
    general_errors: list[str] = field(default_factory=list)


def figure_id(code: str) -> str:
    return f"v-{code}"


def narrative_id(key: str) -> str:
    return f"n-{key}"


def read_form(plan: PlanV1, form: FormData) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """The figures and narratives a posted form holds, and every raw input to show again.

    A figure that is not a whole number is passed on as typed, so the domain's rule names the problem.
    """
    values: dict[str, Any] = {}
    narratives: dict[str, str] = {}
    raw: dict[str, str] = {}
    for code in rules.indicator_codes(plan):
        text = str(form.get(f"v.{code}", "")).strip()
        raw[figure_id(code)] = text
        if text:
            values[code] = int(text) if WHOLE_NUMBER.fullmatch(text) else text
    for key in rules.narrative_keys(plan):
        text = str(form.get(f"n.{key}", ""))
        raw[narrative_id(key)] = text
        narratives[key] = text
    return values, narratives, raw


def stored_inputs(submission: SubmissionOut | None) -> dict[str, str]:
    """A stored report as form inputs, for an amendment."""
    if submission is None:
        return {}
    inputs = {figure_id(code): str(value) for code, value in submission.values.items()}
    inputs |= {narrative_id(key): text for key, text in submission.narratives.items()}
    return inputs


def report_form(plan: PlanV1, inputs: dict[str, str], details: list[dict] | None = None) -> ReportForm:
    """The form of the plan's template, filled with `inputs`, with each problem of `details` at its field."""
    problems, general = _problems_by_field(details or [])
    tasks = []
    for task in plan.template.tasks:
        figures = [
            _field(figure_id(i.code), f"v.{i.code}", i.label, inputs, problems, unit=i.unit) for i in task.indicators
        ]
        narrative = _field(narrative_id(task.code), f"n.{task.code}", TASK_NARRATIVE_LABEL, inputs, problems)
        tasks.append(TaskSection(task.code, task.title, figures, narrative))
    closing = [
        _field(narrative_id(key), f"n.{key}", label, inputs, problems) for key, label in closing_narratives(plan)
    ]
    form = ReportForm(tasks, closing, general_errors=general)
    for task in tasks:
        for f in [*task.figures, task.narrative]:
            if f.error:
                label = f"{task.code}: {f.label}" if f.id.startswith("n-") else f.label
                form.errors.append((f.id, label, f.error))
    form.errors += [(f.id, f.label, f.error) for f in closing if f.error]
    return form


def closing_narratives(plan: PlanV1) -> list[tuple[str, str]]:
    """The closing sections, difficulties before next month's direction as the report lays them out.

    The stored plan is JSONB, which keeps no key order, so the file's order cannot be relied on.
    """
    rank = {key: i for i, key in enumerate(USUAL_CLOSING)}
    return sorted(plan.template.closing_narratives.items(), key=lambda item: rank.get(item[0], len(rank)))


def _field(fid: str, name: str, label: str, inputs: dict, problems: dict, unit: str | None = None) -> Field:
    return Field(fid, name, label, inputs.get(fid, ""), problems.pop(fid, None), unit)


def _problems_by_field(details: list[dict]) -> tuple[dict[str, str], list[str]]:
    by_field: dict[str, str] = {}
    general: list[str] = []
    for problem in details:
        loc = [str(part) for part in problem.get("loc", []) if part != "body"]
        message = str(problem.get("msg", ""))
        if len(loc) == 2 and loc[0] == "values":
            by_field.setdefault(figure_id(loc[1]), message)
        elif len(loc) == 2 and loc[0] == "narratives":
            by_field.setdefault(narrative_id(loc[1]), message)
        else:
            general.append(message)
    return by_field, general


def conflict_message(exc: Conflict) -> str:
    """A 409 of the use cases, said in Vietnamese for the unit."""
    match exc:
        case StaleVersion(current_version=version):
            return (
                f"Báo cáo đã được sửa ở nơi khác và hiện là phiên bản {version}. "
                "Vui lòng mở lại biểu mẫu để xem nội dung mới nhất rồi sửa tiếp."
            )
        case AlreadySubmitted():
            return "Đơn vị đã nộp báo cáo kỳ này. Vui lòng mở lại biểu mẫu để sửa báo cáo đã nộp."
        case IdempotencyKeyReused():
            return "Biểu mẫu này đã được gửi với nội dung khác. Vui lòng mở lại biểu mẫu rồi gửi lại."
        case PeriodLocked():
            return LOCKED_MESSAGE
        case PeriodClosed() | PeriodIsHistory():
            return exc.message
    return "Không thể lưu báo cáo lúc này. Vui lòng mở lại biểu mẫu rồi thử lại."


LOCKED_MESSAGE = (
    "Kỳ báo cáo này đã khóa vì báo cáo tổng hợp đã phát hành, nên không thể sửa. "
    "Nếu cần sửa, đề nghị phòng Tham mưu mở lại kỳ báo cáo."
)


# ----------------------------------------------------------------------------- the history


@dataclass(frozen=True)
class VersionView:
    version: int
    received_at: datetime
    submitted_by: str | None
    first: bool
    figures: list[tuple[str, Any, Any]]  # (label, from, to)
    sections: list[str]
    channel: str | None = None  # how it came in: api, web, on_behalf (the office, nhập hộ), import
    entered_by: str | None = None
    source: str | None = None


def section_labels(plan: PlanV1) -> dict[str, str]:
    labels = {t.code: f"{t.code}. {TASK_NARRATIVE_LABEL}" for t in plan.template.tasks}
    return labels | dict(closing_narratives(plan))


def history(plan: PlanV1, versions: list[VersionOut]) -> list[VersionView]:
    """Each version with what it changed, newest first, labelled as on the form."""
    indicators = {i.code: i.label for t in plan.template.tasks for i in t.indicators}
    sections = section_labels(plan)
    views = []
    for v in sorted(versions, key=lambda v: v.version, reverse=True):
        figures = [
            (indicators.get(code, code), change.get("from"), change.get("to"))
            for code, change in (v.changes.get("figures") or {}).items()
        ]
        edited = [sections.get(key, key) for key in v.changes.get("narratives") or []]
        views.append(
            VersionView(
                v.version,
                v.received_at,
                v.submitted_by,
                bool(v.changes.get("first")),
                figures,
                edited,
                v.channel,
                v.entered_by,
                v.source,
            )
        )
    return views
