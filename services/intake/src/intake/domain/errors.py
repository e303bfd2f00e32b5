"""intake's refusals, by name: what went wrong, with what a program or a page needs to explain it.

Each extends a kind of `baocao_shared.errors` (the kind gives the HTTP status, in one place) and keeps the
message and `details` the API has always answered with; pages read the attributes, never `details`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from baocao_shared.errors import Conflict, Forbidden, NotFound, Unprocessable

# ----------------------------------------------------------------------------- a unit's report


class PeriodLocked(Conflict):
    """The period's consolidated report was published: no submission or amendment now."""

    def __init__(self, *, province: str, plan_id: str, period: str) -> None:
        super().__init__(
            f"Period {period} is locked: its consolidated report was published. Ask the province's operator "
            "to reopen it before amending.",
            {"province": province, "plan_id": plan_id, "period": period},
        )
        self.province, self.plan_id, self.period = province, plan_id, period


class PeriodClosed(Conflict):
    """The period closed (its `missing` is final): a unit's report or amendment needs the office's exception."""

    code = "period_closed"  # the word programs read for this refusal (issue 17), not the kind's "conflict"

    def __init__(self, *, period: str, closes_at: datetime, closed_on: str) -> None:
        """`closed_on`: the close in the province's time, as a person reads it (25/07/2019 (00:00))."""
        super().__init__(
            f"Kỳ {period} đã khóa sổ ngày {closed_on}; liên hệ văn phòng để được mở ngoại lệ.",
            {"period": period, "closes_at": closes_at},
        )
        self.period, self.closes_at = period, closes_at


class PeriodIsHistory(Conflict):
    """The period is before the province's start of tracking: the staff office imports its reports."""

    code = "period_history"  # the word programs read for this refusal (issue 17), not the kind's "conflict"

    def __init__(self, *, period: str, tracking_from: str) -> None:
        super().__init__(
            f"Kỳ {period} là số liệu lịch sử (trước kỳ bắt đầu theo dõi {tracking_from}); văn phòng nhập báo cáo "
            "kỳ này thay đơn vị.",
            {"period": period, "tracking_from": tracking_from},
        )
        self.period, self.tracking_from = period, tracking_from


class PeriodNotHistory(Conflict):
    """Only a period before the start of tracking is imported by the office."""

    def __init__(self, *, period: str, state: str) -> None:
        super().__init__(
            f"Kỳ {period} không phải số liệu lịch sử (tình trạng: {state}); chỉ nhập thay đơn vị các kỳ trước "
            "khi bắt đầu theo dõi.",
            {"period": period, "state": state},
        )
        self.period, self.state = period, state


class PeriodNotClosed(Conflict):
    """An exception is granted for a closed period only."""

    def __init__(self, *, period: str, state: str) -> None:
        super().__init__(
            f"Kỳ {period} chưa khóa sổ (tình trạng: {state}); chỉ mở ngoại lệ cho kỳ đã khóa sổ.",
            {"period": period, "state": state},
        )
        self.period, self.state = period, state


class ExceptionNotFound(NotFound):
    """The unit has no exception for the period."""

    def __init__(self, *, province: str, plan_id: str, period: str, unit: str) -> None:
        super().__init__(f"Unit {province}.{unit} has no exception for period {period} of plan {plan_id}.")
        self.unit, self.period = unit, period


class ReasonRequired(Unprocessable):
    """An exception is granted with a reason."""

    def __init__(self) -> None:
        super().__init__(
            "Cần ghi lý do mở ngoại lệ.",
            [{"loc": ["body", "reason"], "msg": "Cần ghi lý do mở ngoại lệ.", "type": "reason_required"}],
        )


class MayNotOperateProvince(Forbidden):
    """Exceptions, imports and the start of tracking belong to the province's operators and admins."""

    def __init__(self, province: str) -> None:
        super().__init__(f"Only province {province}'s operators or an admin may do this.")
        self.province = province


class UnknownUnit(NotFound):
    """The province has no unit of this code under the plan."""

    def __init__(self, *, province: str, unit: str) -> None:
        super().__init__(f"Province {province} has no unit {unit} under this plan.")
        self.province, self.unit = province, unit


class PlanNotFound(NotFound):
    """The province has no plan in force of this id (or, with none named, no single one to pick)."""

    def __init__(self, *, province: str, plan_id: str | None, choices: list[str] | None = None) -> None:
        if plan_id:
            message = f"Province {province} has no plan {plan_id} in force."
        elif choices:
            message = f"Province {province} has several plans ({', '.join(choices)}); name one with plan_id."
        else:
            message = f"Province {province} has no plan in force."
        super().__init__(message, {"province": province, "plan_id": plan_id, "choices": choices or []})
        self.province, self.plan_id = province, plan_id


class PeriodMalformed(Unprocessable):
    """Not a period of the plan's frequency."""

    def __init__(self, *, period: str) -> None:
        msg = f"Kỳ báo cáo {period!r} không đúng dạng (ví dụ 2019-06)."
        super().__init__(msg, [{"loc": ["path", "period"], "msg": msg, "type": "period_format"}])
        self.period = period


class AlreadySubmitted(Conflict):
    """The unit already reported this period: the next version is an amendment."""

    def __init__(self, *, unit: str, period: str, submission_id: uuid.UUID | None) -> None:
        super().__init__(
            f"Unit {unit} already submitted period {period}; amend it with PUT /v1/submissions/{submission_id}.",
            {"submission_id": str(submission_id)},
        )
        self.submission_id = submission_id


class StaleVersion(Conflict):
    """The amendment was made from an older version than the stored one."""

    def __init__(self, *, current_version: int, base_version: int) -> None:
        super().__init__(
            f"The report is at version {current_version}, not {base_version}; reload it and amend again.",
            {"current_version": current_version},
        )
        self.current_version, self.base_version = current_version, base_version


class IdempotencyKeyReused(Conflict):
    """An Idempotency-Key already answered a request with another body."""

    def __init__(self, key: str) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request body; use a new key.",
            {"idempotency_key": key},
        )
        self.key = key


class ReportInvalid(Unprocessable):
    """The report does not fit its plan; `problems` name each field ({loc, msg, type})."""

    def __init__(self, problems: list[dict[str, Any]], message: str = "") -> None:
        super().__init__(message or "The report does not match the plan's template.", problems)
        self.problems = problems


class UnknownPlan(ReportInvalid):
    """The province has no plan of this id in force."""

    def __init__(self, *, province: str, plan_id: str) -> None:
        msg = f"Tỉnh {province} không có kế hoạch {plan_id!r}."
        super().__init__([{"loc": ["body", "plan_id"], "msg": msg, "type": "unknown_plan"}], "Unknown plan.")
        self.province, self.plan_id = province, plan_id


class UnitNotInPlan(ReportInvalid):
    """The unit does not report under this plan."""

    def __init__(self, *, unit: str, plan_number: str) -> None:
        msg = f"Đơn vị {unit} không thuộc kế hoạch {plan_number}."
        problem = {"loc": ["body", "unit"], "msg": msg, "type": "unit_not_in_plan"}
        super().__init__([problem], "The unit does not report under this plan.")
        self.unit, self.plan_number = unit, plan_number


class NotAReporter(Forbidden):
    """The national office reads reports: a unit's own account, or its province's office on its behalf, sends them."""

    def __init__(self) -> None:
        super().__init__(
            "Only a unit's reporter account or API token, or its province's office on its behalf, "
            "can submit its report."
        )


class NotYourProvincesUnit(Forbidden):
    """A province's office enters reports on behalf of its own province's units only."""

    def __init__(self, *, province: str, unit: str, own_province: str | None) -> None:
        super().__init__(
            f"Unit {province}.{unit} is not of province {own_province}: "
            "an office enters reports only on behalf of its own province's units.",
            {"province": province, "unit": unit, "own_province": own_province},
        )
        self.province, self.unit, self.own_province = province, unit, own_province


class SourceOnlyOnBehalf(ReportInvalid):
    """Where a report came from (paper, email) is said only by the office entering it on a unit's behalf."""

    def __init__(self) -> None:
        msg = "Chỉ văn phòng nhập hộ đơn vị mới ghi nguồn báo cáo (giấy, email)."
        problem = {"loc": ["body", "source"], "msg": msg, "type": "source_not_on_behalf"}
        super().__init__([problem], "Only an entry on the unit's behalf names a source.")


class NotYourUnit(Forbidden):
    """A reporter submits for its own unit only."""

    def __init__(self, *, unit: str, own_unit: str | None) -> None:
        super().__init__(f"This account reports for unit {own_unit}, not {unit}.")
        self.unit, self.own_unit = unit, own_unit


class UnitNotInForce(Forbidden):
    """The unit is not in force in the period (a reorganisation ended it, or it starts later): its reports of that
    period belong to its successors; its past reports stay readable."""

    def __init__(self, *, unit: str, name: str, period: str, ended_from: str | None, starts: str | None,
                 successors: list[str]) -> None:  # fmt: skip
        if ended_from is not None:
            went = "; báo cáo chuyển cho " + ", ".join(successors) if successors else ""
            message = f"Đơn vị {name} ({unit}) đã chấm dứt từ kỳ {ended_from}{went}."
        else:
            message = f"Đơn vị {name} ({unit}) chỉ có hiệu lực từ kỳ {starts}, không báo cáo kỳ {period}."
        super().__init__(message, {"unit": unit, "period": period, "ended_from": ended_from, "starts": starts,
                                   "successors": successors})  # fmt: skip
        self.unit, self.period, self.ended_from, self.successors = unit, period, ended_from, successors


class ProvinceNotNamed(Unprocessable):
    """A caller of no province (an admin) entered a report under a plan id that several provinces hold, without
    naming the province: plan ids are the province's own, so the body says which one."""

    def __init__(self, *, plan_id: str, provinces: list[str]) -> None:
        msg = (
            f'Kế hoạch {plan_id} có ở các tỉnh {", ".join(provinces)}: ghi rõ tỉnh (trường "province") '
            "của đơn vị báo cáo."
        )
        super().__init__(msg, [{"loc": ["body", "province"], "msg": msg, "type": "province_required"}])
        self.plan_id, self.provinces = plan_id, provinces


class PlanOfAnotherProvince(Forbidden):
    """The plan belongs to another province than the reporter's."""

    def __init__(self, *, plan_id: str, plan_province: str, own_province: str) -> None:
        super().__init__(
            f"Plan {plan_id} belongs to province {plan_province}; this account reports to province {own_province}."
        )
        self.plan_id, self.plan_province, self.own_province = plan_id, plan_province, own_province


class NotYourReport(Forbidden):
    """Only the unit's own reporter account or API token (or its province's office, on its behalf) amends its
    report."""

    def __init__(self) -> None:
        super().__init__(
            "Only the unit's own reporter account or API token, or its province's office on its behalf, "
            "can amend its report."
        )


class ReportNotReadable(Forbidden):
    """The caller may not read that unit's (or province's) reports."""


class SubmissionNotFound(NotFound):
    """No report of this id."""

    def __init__(self, submission_id: uuid.UUID) -> None:
        super().__init__(f"No submission {submission_id}.")
        self.submission_id = submission_id


# ----------------------------------------------------------------------------- the unit's form


class UnitNotInCatalogue(NotFound):
    """The signed-in reporter's unit is not in the catalogue."""

    def __init__(self, *, province: str | None, unit: str | None) -> None:
        super().__init__(f"Province {province} has no unit {unit}.")
        self.province, self.unit = province, unit


class PlanNotForUnit(NotFound):
    """The unit does not report under this plan (or the plan is not in force)."""

    def __init__(self, *, plan_id: str, unit: str | None) -> None:
        super().__init__(f"Unit {unit} does not report under plan {plan_id}.")
        self.plan_id, self.unit = plan_id, unit


class PeriodNotReportable(NotFound):
    """The plan has no such period open to reports; `reason` says why, in Vietnamese."""

    def __init__(self, *, period: str, reason: str) -> None:
        super().__init__(f"Period {period} is not open to reports.")
        self.period, self.reason = period, reason


# ----------------------------------------------------------------------------- catalogue and period locks


class ProvinceNotFound(NotFound):
    """The catalogue has no province of this code."""

    def __init__(self, province: str) -> None:
        super().__init__(f"No province with code {province}.")
        self.province = province


class PeriodNotLocked(NotFound):
    """Reopening a period that is not locked."""

    def __init__(self, *, province: str, plan_id: str, period: str) -> None:
        super().__init__(f"Period {period} of plan {plan_id} in province {province} is not locked.")
        self.province, self.plan_id, self.period = province, plan_id, period
