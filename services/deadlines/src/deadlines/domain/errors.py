"""The ways deadlines says no, by name. Each extends a kind of baocao_shared.errors, which the HTTP adapter maps
to a status; `code`, message and `details` are what the API has always answered, and pages read the attributes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from baocao_shared.errors import Forbidden, NotFound, Unprocessable


class ComplianceNotVisible(Forbidden):
    """A province's compliance is for its operators, the national office and admins; never a unit's reporter."""

    def __init__(self, *, province: str) -> None:
        super().__init__("Compliance of a province is for its operators and the national office.")
        self.province = province


class NotTheProvincesOperator(Forbidden):
    """Only the province's own operators (and admins) urge its units; `oversees` tells whether the caller may at
    least read the province's compliance."""

    def __init__(self, *, province: str, oversees: bool) -> None:
        super().__init__("Only the province's own operators can urge its units.")
        self.province, self.oversees = province, oversees


class UnknownProvince(NotFound):
    """The catalogue has not told deadlines of this province."""

    def __init__(self, *, province: str) -> None:
        super().__init__(f"Province {province} is not in the catalogue here.")
        self.province = province


class UnknownPlan(NotFound):
    """The province has no active plan of that id (or, when none was named, no active plan at all);
    `province_name` when the catalogue told it, for pages."""

    def __init__(self, *, province: str, plan_id: str | None, province_name: str | None = None) -> None:
        message = (
            f"Province {province} has no active plan {plan_id!r}."
            if plan_id
            else f"Province {province} has no active plan here yet."
        )
        super().__init__(message)
        self.province, self.plan_id, self.province_name = province, plan_id, province_name


class PlanAmbiguous(Unprocessable):
    """No plan was named and the province has several."""

    def __init__(self, *, province: str, plan_ids: list[str]) -> None:
        super().__init__("This province has several plans; say which with plan_id.", {"plan_ids": plan_ids})
        self.province, self.plan_ids = province, plan_ids


class PeriodNotOpen(NotFound):
    """A tracked period the scheduler has not opened yet (it opens within a tick)."""

    def __init__(self, *, province: str, plan_id: str, period: str) -> None:
        super().__init__(f"Period {period} of plan {plan_id} is not open (yet) in province {province}.")
        self.province, self.plan_id, self.period = province, plan_id, period


class PeriodMalformed(Unprocessable):
    """The period is not a period of the plan's frequency (e.g. 2019-13, or 2019-Q1 for a monthly plan)."""

    def __init__(self, *, period: str, reason: str) -> None:
        super().__init__(
            f"{period!r} is not a period of this plan: {reason}",
            [{"loc": ["query", "period"], "msg": f"Kỳ báo cáo không hợp lệ: {period}.", "type": "period"}],
        )
        self.period = period


class PeriodNotTracked(NotFound):
    """The period exists for the calendar but nobody owes it (baocao_shared.periods): history before the
    province's start of tracking, not open yet, or outside the plan. `details` says which, for programs; the
    message says it in Vietnamese."""

    def __init__(
        self,
        *,
        province: str,
        plan_id: str,
        period: str,
        state: str,
        tracking_from: str,
        opens_at: datetime | None = None,
        timezone: str = "Asia/Ho_Chi_Minh",
    ) -> None:
        if state == "history":
            message = (
                f"Kỳ {period} là số liệu lịch sử, trước khi tỉnh bắt đầu theo dõi kế hoạch {plan_id} "
                f"(từ kỳ {tracking_from}): không đơn vị nào có nghĩa vụ báo cáo kỳ này."
            )
        elif state == "not_open" and opens_at is not None:
            day = opens_at.astimezone(ZoneInfo(timezone)).strftime("%d/%m/%Y")
            message = f"Kỳ {period} chưa mở: các đơn vị gửi báo cáo kỳ này từ ngày {day}."
        else:
            message = f"Kỳ {period} nằm ngoài kế hoạch {plan_id}."
        super().__init__(
            message,
            {
                "state": state,
                "tracking_from": tracking_from,
                # as the API writes instants (PeriodOut): UTC, with a Z
                "opens_at": opens_at.astimezone(UTC).isoformat().replace("+00:00", "Z") if opens_at else None,
            },
        )
        self.province, self.plan_id, self.period = province, plan_id, period
        self.state, self.tracking_from, self.opens_at = state, tracking_from, opens_at


class UnitsOweNothing(Unprocessable):
    """A nudge named units that owe no report for the period."""

    def __init__(self, *, period: str, units: list[str]) -> None:
        super().__init__(
            "Some units owe nothing for this period.",
            [
                {
                    "loc": ["body", "units", unit],
                    "msg": f"Đơn vị {unit} không có nghĩa vụ báo cáo kỳ {period}.",
                    "type": "no_obligation",
                }
                for unit in units
            ],
        )
        self.period, self.units = period, units


# The national level (issue 18 §1): the provinces report to the national office.


class NationalComplianceNotVisible(Forbidden):
    """The national level's compliance (every province) is for the national office and admins."""

    def __init__(self) -> None:
        super().__init__("The provinces' compliance is for the national office and admins.")


class NotTheNationalOffice(Forbidden):
    """Only the national office (and admins) urge provinces."""

    def __init__(self) -> None:
        super().__init__("Only the national office can urge provinces.")


class NoProvinceOwes(NotFound):
    """No province owes the national office this period (of this plan): not opened yet, history, or no such
    period of any plan."""

    def __init__(self, *, period: str, plan_id: str | None = None) -> None:
        which = f" of plan {plan_id}" if plan_id else ""
        super().__init__(
            f"No province owes the national office period {period}{which} here.",
            {"period": period, "plan_id": plan_id},
        )
        self.period, self.plan_id = period, plan_id


class ProvincesOweNothing(Unprocessable):
    """A national nudge named provinces that owe no report for the period."""

    def __init__(self, *, period: str, provinces: list[str]) -> None:
        super().__init__(
            "Some provinces owe nothing for this period.",
            [
                {
                    "loc": ["body", "provinces", province],
                    "msg": f"Tỉnh {province} không có nghĩa vụ gửi báo cáo kỳ {period}.",
                    "type": "no_obligation",
                }
                for province in provinces
            ],
        )
        self.period, self.provinces = period, provinces


class ProvinceRequired(Unprocessable):
    """A province's compliance (level=province, the default) names the province."""

    def __init__(self) -> None:
        super().__init__(
            "province is required at level=province.",
            [{"loc": ["query", "province"], "msg": "Field required", "type": "missing"}],
        )
