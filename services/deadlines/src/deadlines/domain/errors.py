"""The ways deadlines says no, by name. Each extends a kind of baocao_shared.errors, which the HTTP adapter maps
to a status; `code`, message and `details` are what the API has always answered, and pages read the attributes.
"""

from __future__ import annotations

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
    """The scheduler has not opened this period of the plan (yet)."""

    def __init__(self, *, province: str, plan_id: str, period: str) -> None:
        super().__init__(f"Period {period} of plan {plan_id} is not open (yet) in province {province}.")
        self.province, self.plan_id, self.period = province, plan_id, period


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
