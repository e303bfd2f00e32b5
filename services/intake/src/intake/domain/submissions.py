"""Rules for a unit's monthly report: what a valid submission is, and what an amendment changed.

Pure functions over the plan's template and calendar (no I/O). Each problem names the field it
concerns and says, in Vietnamese, what to fix; `type` is a stable code for API clients.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from baocao_shared import periods
from baocao_shared.calendar import PeriodError
from baocao_shared.events.catalog import PlanV1
from baocao_shared.text import bad_character
from intake.domain.errors import PeriodClosed, PeriodIsHistory, PeriodNotClosed, PeriodNotHistory

MAX_NARRATIVE_CHARS = 20_000
MAX_FIGURE = 10_000_000


@dataclass(frozen=True)
class FieldProblem:
    loc: tuple[str, ...]
    msg: str
    type: str

    def as_dict(self) -> dict[str, Any]:
        return {"loc": ["body", *self.loc], "msg": self.msg, "type": self.type}


def indicator_codes(plan: PlanV1) -> list[str]:
    return [i.code for task in plan.template.tasks for i in task.indicators]


def narrative_keys(plan: PlanV1) -> list[str]:
    return [task.code for task in plan.template.tasks] + list(plan.template.closing_narratives)


def check_period(
    plan: PlanV1, period: str, timezone: str, now: datetime
) -> tuple[periods.PeriodStanding | None, list[FieldProblem]]:
    """Where the period stands (`baocao_shared.periods.standing`; None for a code that is not a period of the
    plan's frequency), and its 422 problems: none when it exists for this plan and its data window has opened
    (it is neither malformed, outside the plan nor not open)."""
    try:
        found = periods.standing(plan, period, timezone, now)
    except PeriodError:
        message = f"Kỳ báo cáo {period!r} không đúng dạng (ví dụ 2019-06)."
        return None, [FieldProblem(("period",), message, "period_format")]
    if found.state == "outside_plan":
        bounds = f"từ {plan.first_period}" + (f" đến {plan.last_period}" if plan.last_period else "")
        return found, [FieldProblem(("period",), f"Kỳ {period} nằm ngoài kế hoạch ({bounds}).", "period_outside_plan")]
    if found.state == "not_open":
        opens = found.opens_at.date() if found.opens_at else "?"
        return found, [FieldProblem(("period",), f"Kỳ {period} chưa bắt đầu (mở từ {opens}).", "period_not_open")]
    return found, []


def unit_may_report(found: periods.PeriodStanding, *, timezone: str, excepted: bool) -> bool:
    """Whether a unit's own report (or amendment) for a period in the plan and open is accepted; raises the
    409 that says why not. True when it comes after the close under the office's exception (`after_close`)."""
    if found.state == "history":
        raise PeriodIsHistory(period=found.period, tracking_from=found.tracking_from)
    if found.state == "closed":
        if not excepted:
            assert found.closes_at is not None
            closed_on = found.closes_at.astimezone(ZoneInfo(timezone)).strftime("%d/%m/%Y (%H:%M)")
            raise PeriodClosed(period=found.period, closes_at=found.closes_at, closed_on=closed_on)
        return True
    return False


def office_may_import(found: periods.PeriodStanding) -> None:
    """The staff office imports a unit's report only for a history period (before the start of tracking)."""
    if found.state != "history":
        raise PeriodNotHistory(period=found.period, state=found.state)


def may_grant_exception(found: periods.PeriodStanding) -> None:
    """An exception opens a closed period only."""
    if found.state != "closed":
        raise PeriodNotClosed(period=found.period, state=found.state)


def check_content(plan: PlanV1, values: dict[str, Any], narratives: dict[str, Any]) -> list[FieldProblem]:
    """Every indicator of the template has a non-negative whole figure; narratives fit the template."""
    problems: list[FieldProblem] = []
    known = indicator_codes(plan)
    for code, value in values.items():
        if code not in known:
            problems.append(
                FieldProblem(("values", code), f"Mẫu báo cáo không có chỉ tiêu {code!r}.", "unknown_indicator")
            )
        elif isinstance(value, bool) or not isinstance(value, int):
            problems.append(FieldProblem(("values", code), "Số liệu phải là số nguyên.", "not_an_integer"))
        elif value < 0:
            problems.append(FieldProblem(("values", code), "Số liệu không được âm.", "negative_figure"))
        elif value > MAX_FIGURE:
            problems.append(
                FieldProblem(("values", code), "Số liệu quá lớn, vui lòng kiểm tra lại.", "figure_too_large")
            )
    for code in known:
        if code not in values:
            problems.append(FieldProblem(("values", code), "Chưa nhập số liệu (ghi 0 nếu không có).", "missing_figure"))
    allowed = narrative_keys(plan)
    for key, text in narratives.items():
        if key not in allowed:
            problems.append(FieldProblem(("narratives", key), f"Mẫu báo cáo không có mục {key!r}.", "unknown_section"))
        elif not isinstance(text, str):
            problems.append(FieldProblem(("narratives", key), "Nội dung phải là văn bản.", "not_text"))
        elif len(text) > MAX_NARRATIVE_CHARS:
            problems.append(
                FieldProblem(
                    ("narratives", key), f"Nội dung dài quá {MAX_NARRATIVE_CHARS:,} ký tự.", "narrative_too_long"
                )
            )
        elif found := bad_character(text, narrative=True):
            position, character = found
            problems.append(
                FieldProblem(
                    ("narratives", key),
                    f"Nội dung có ký tự điều khiển {character} (ở vị trí {position + 1}) không hiển thị được "
                    "trong báo cáo; vui lòng xóa ký tự đó rồi gửi lại.",
                    "invalid_character",
                )
            )
    return problems


def clean_narratives(narratives: dict[str, str]) -> dict[str, str]:
    """Trim whitespace and drop empty sections, so 'nothing written' has one form."""
    return {k: v.strip() for k, v in narratives.items() if isinstance(v, str) and v.strip()}


def changes(old_values: dict, old_narratives: dict, new_values: dict, new_narratives: dict) -> dict[str, Any]:
    """What an amendment changed: figures old -> new, and which narrative sections were edited."""
    figures = {
        code: {"from": old_values.get(code), "to": new_values.get(code)}
        for code in sorted(set(old_values) | set(new_values))
        if old_values.get(code) != new_values.get(code)
    }
    sections = sorted(
        k for k in set(old_narratives) | set(new_narratives) if old_narratives.get(k) != new_narratives.get(k)
    )
    return {"figures": figures, "narratives": sections}


def request_fingerprint(body: dict[str, Any]) -> str:
    """A stable hash of a request body: the same content in any key order has one fingerprint."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
