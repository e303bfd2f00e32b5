"""The consolidated report's refusals, by name. Each extends a kind of `baocao_shared.errors` (which the
HTTP adapter maps to its status) and keeps the message and `details` the API has always answered with;
the pages read the attributes to explain the refusal in Vietnamese."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import ClassVar

from baocao_shared.errors import Conflict, Forbidden, NotFound, Unavailable, Unprocessable


class NotTheReportsReader(Forbidden):
    """Only the province's operators, the national office and admins read a consolidated report."""

    def __init__(self, *, province: str) -> None:
        super().__init__("The consolidated report is for the province's operators and the national office.")
        self.province = province


class ReportNotPublished(Forbidden):
    """The national office reads a province's report only once the province has sent it up."""

    def __init__(self, *, province: str, province_name: str, plan_id: str, period: str) -> None:
        super().__init__("The national office sees a province's report once it is published.")
        self.province, self.province_name, self.plan_id, self.period = province, province_name, plan_id, period


class NotTheProvincesOperator(Forbidden):
    """Only the province's own operators (and admins) approve and publish its report."""

    def __init__(self, *, province: str) -> None:
        super().__init__("Only the province's own operators approve and publish its report.")
        self.province = province


class NotTheNationalOffice(Forbidden):
    """The national roll-up is for the national office and admins; so are accepting and returning a province's
    published report (`action`: "accept" or "return")."""

    def __init__(self, *, action: str | None = None) -> None:
        if action:
            super().__init__("Only the national office accepts or returns a province's published report.")
        else:
            super().__init__("The national roll-up is for the national office.")
        self.action = action


class UnknownProvince(NotFound):
    """The catalogue has not told this service about the province (yet)."""

    def __init__(self, *, province: str) -> None:
        super().__init__(f"Province {province} is not known here yet.")
        self.province = province


class UnknownPlan(NotFound):
    """The province has no active plan of that id, or (without an id) none at all."""

    def __init__(self, *, province: str, plan_id: str | None) -> None:
        if plan_id:
            message = f"Province {province} has no active plan {plan_id!r}."
        else:
            message = f"No plan of province {province} is known here yet."
        super().__init__(message)
        self.province, self.plan_id = province, plan_id


class PlanAmbiguous(Unprocessable):
    """The province has several active plans and the request names none."""

    def __init__(self, *, province: str, plan_ids: Sequence[str]) -> None:
        super().__init__("This province has several plans; say which with plan_id.", {"plan_ids": list(plan_ids)})
        self.province, self.plan_ids = province, list(plan_ids)


class PeriodNotInPlan(Unprocessable):
    """The period is not one of the plan's (a month for a quarterly plan, say)."""

    def __init__(self, *, period: str, reason: str) -> None:
        super().__init__(reason)
        self.period, self.reason = period, reason


class PeriodOutsidePlan(NotFound):
    """The period is before the plan's first period or after its last: the plan has no report for it."""

    def __init__(self, *, plan_id: str, period: str, first_period: str, last_period: str | None = None) -> None:
        span = f"{first_period} to {last_period}" if last_period else f"{first_period} on"
        super().__init__(
            f"Period {period} is outside plan {plan_id} (its periods run from {span}): there is no report for it.",
            {"state": "outside_plan", "plan_id": plan_id, "period": period, "first_period": first_period,
             "last_period": last_period},
        )  # fmt: skip
        self.plan_id, self.period, self.first_period, self.last_period = plan_id, period, first_period, last_period


class PeriodNotOpen(Conflict):
    """The period's data window has not opened: no unit reports for it yet, so there is no report to read."""

    def __init__(self, *, plan_id: str, period: str, opens_at: datetime | None = None) -> None:
        when = f" before {opens_at.isoformat()}" if isinstance(opens_at, datetime) else " yet"
        super().__init__(
            f"Period {period} of plan {plan_id} is not open{when}: units cannot report for it, so it has no report.",
            {"state": "not_open", "plan_id": plan_id, "period": period, "opens_at": opens_at},
        )
        self.plan_id, self.period, self.opens_at = plan_id, period, opens_at


class StepNotAllowed(Conflict):
    """The report's status does not allow this workflow step now (approve a published report, say)."""

    def __init__(self, *, action: str, status: str, status_label: str, allowed: Collection[str]) -> None:
        needs = " or ".join(sorted(allowed))
        super().__init__(
            f"Cannot {action} a report that is {status} ({status_label}); it must be {needs}.", {"status": status}
        )
        self.action, self.status = action, status


class ReportAlreadyAccepted(StepNotAllowed):
    """The national office accepted the report: that is final, nothing moves it (no reopen, no return)."""

    def __init__(self, *, action: str) -> None:
        Conflict.__init__(
            self,
            f"Cannot {action} a report the national office accepted (đã tiếp nhận): acceptance is final.",
            {"status": "accepted"},
        )
        self.action, self.status = action, "accepted"


class ReturnReasonInvalid(Unprocessable):
    """Returning a report to the province needs a reason the province can act on."""

    def __init__(self, *, low: int, high: int, length: int) -> None:
        reason = f"Lý do trả lại cần từ {low} đến {high} ký tự ({length})."
        super().__init__(reason, [{"loc": ["body", "reason"], "msg": reason, "type": "reason_length"}])
        self.low, self.high, self.length, self.reason = low, high, length, reason


class UnknownSection(NotFound):
    """The report has no section of that key (the plan's data names its sections)."""

    def __init__(self, *, key: str, keys: Sequence[str]) -> None:
        super().__init__(f"The report has no section {key!r}.", {"sections": list(keys)})
        self.key, self.keys = key, list(keys)


class StaleReportVersion(Conflict):
    """Someone saved the report since the editor read it: the edit names an older version."""

    def __init__(self, *, base_version: int, current_version: int, edited_by: str | None = None) -> None:
        super().__init__(
            f"The report is at version {current_version}, not {base_version}: someone saved it meanwhile; "
            "read it again and redo the edit on the current text.",
            {"current_version": current_version, "base_version": base_version, "edited_by": edited_by},
        )
        self.base_version, self.current_version, self.edited_by = base_version, current_version, edited_by


class ReportAlreadyPublished(Conflict):
    """A published (or accepted) report is frozen: its text no longer changes (an admin may reopen a published
    period, the national office return it)."""

    def __init__(self, *, number: str | None, status: str = "published") -> None:
        super().__init__(
            f"The report is {status}{f' as {number}' if number else ''}; its text can no longer change.",
            {"status": status, "number": number},
        )
        self.number, self.status = number, status


class SectionTextInvalid(Unprocessable):
    """A section's text breaks the rules narratives follow (length, characters)."""

    def __init__(self, *, problem: str, reason: str) -> None:
        super().__init__(reason, [{"loc": ["body", "text"], "msg": reason, "type": problem}])
        self.problem, self.reason = problem, reason


class DocumentNotFound(NotFound):
    """No published document has this SHA-256."""

    def __init__(self, *, sha256: str) -> None:
        super().__init__("No document published here has this SHA-256.", {"sha256": sha256})
        self.sha256 = sha256


# What a page answers as "no such report": the province, plan or period the address names is not one here.
NO_SUCH_REPORT = (UnknownProvince, UnknownPlan, PlanAmbiguous, PeriodNotInPlan, PeriodOutsidePlan)


class SigningKeyUnavailable(Unavailable):
    """The issuing body's signing key (its PKCS#12 file) cannot be used now, so the report cannot be signed.

    `reason` says what an operator must fix: "not_configured", "missing_file", "unreadable", "no_passphrase",
    "wrong_passphrase" or "expired". The message never holds the passphrase."""

    REASONS: ClassVar[dict[str, str]] = {
        "not_configured": "chưa cấu hình tệp khóa ký (BAOCAO_SIGNING_PKCS12)",
        "missing_file": "không tìm thấy tệp khóa ký (PKCS#12)",
        "unreadable": "không đọc được tệp khóa ký (không phải tệp PKCS#12 hợp lệ, hoặc không có quyền đọc)",
        "no_passphrase": "tệp khóa ký (PKCS#12) cần mật khẩu mà chưa được cấu hình (BAOCAO_SIGNING_PASSPHRASE)",
        "wrong_passphrase": "sai mật khẩu của tệp khóa ký (PKCS#12)",
        "expired": "chứng thư số của tệp khóa ký đã hết hạn hoặc chưa có hiệu lực",
    }

    def __init__(self, *, province: str, reason: str, path: str | None = None) -> None:
        where = f", tệp {path}" if path else ""
        super().__init__(
            f"Không ký được báo cáo của tỉnh {province}: {self.REASONS.get(reason, reason)}{where}. "
            "Người quản trị cần kiểm tra tệp khóa ký và mật khẩu của cơ quan ban hành, rồi thử lại.",
            {"province": province, "reason": reason},
        )
        self.province, self.reason, self.path = province, reason, path
