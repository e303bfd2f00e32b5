"""Events on baocao.deadlines: what is owed and when, reminders, overdue notices, escalation, close.

deadlines owns these. Unit-level events are keyed `<province>.<unit>` so that one unit's notices
stay in order; province-level ones are keyed `<province>`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from baocao_shared.events import topics
from baocao_shared.events.registry import events_on, plan_period_subject, province_key, unit_key, unit_period_subject

STATUSES = "pending | on_time | late | missing"


class ObligationV1(BaseModel):
    """One unit's duty to report one period of one plan, and how it stands (timeliness)."""

    province: str
    plan_id: str
    period: str
    unit: str
    unit_name: str
    due_at: datetime
    status: str = Field(description=STATUSES)
    first_submitted_at: datetime | None = None
    late_by_s: int | None = Field(None, description="Seconds after due_at of the first submission")
    amended_after_due: bool = False
    closed: bool = False


class UnitNoticeV1(BaseModel):
    """A reminder before the deadline, an overdue notice after it, or an operator's manual nudge."""

    province: str
    plan_id: str
    period: str
    unit: str
    unit_name: str
    due_at: datetime
    kind: str = Field(description="reminder | overdue | nudge")
    sequence: int = Field(ge=0, description="Which notice of its kind for this obligation (0, 1, 2, ...)")
    day_offset: int | None = Field(None, description="Days from the last day before due_at (-3, -1, 0, 1, ...)")
    fire_at: datetime
    late_by_s: int | None = Field(None, description="For an overdue notice: seconds past due_at at fire time")
    requested_by: str | None = Field(None, description="For a nudge: the operator account")
    message: str | None = None


class EscalationV1(BaseModel):
    """A digest to the province's operators listing every unit still missing."""

    province: str
    plan_id: str
    period: str
    due_at: datetime
    fire_at: datetime
    expected: int
    missing_units: list[dict[str, str]] = Field(description="[{unit, unit_name}]")


class PeriodClosedV1(BaseModel):
    """The period is closed: `missing` is final, and the discipline figures are settled."""

    province: str
    plan_id: str
    period: str
    due_at: datetime
    closed_at: datetime
    expected: int
    on_time: int
    late: int
    missing: int
    units: list[ObligationV1]


# A unit's obligation and notices are keyed `<province>.<unit>` so that they stay in order; a period's, by province.
unit_event = events_on(topics.DEADLINES, key=unit_key, subject=unit_period_subject)
period_event = events_on(topics.DEADLINES, key=province_key, subject=plan_period_subject)
OBLIGATION_UPDATED = unit_event(
    "vn.baocao.obligation.updated.v1", ObligationV1, "An obligation was opened or its timeliness changed."
)
REMINDER_DUE = unit_event(
    "vn.baocao.reminder.due.v1", UnitNoticeV1, "Remind a unit that has not submitted yet, before the deadline."
)
DEADLINE_MISSED = unit_event(
    "vn.baocao.deadline.missed.v1", UnitNoticeV1, "Overdue notice to a unit that is still missing."
)
NUDGE_REQUESTED = unit_event(
    "vn.baocao.nudge.requested.v1", UnitNoticeV1, "An operator urges (đôn đốc) a unit by hand."
)
ESCALATION_RAISED = period_event(
    "vn.baocao.escalation.raised.v1", EscalationV1, "Digest to the province operators listing the missing units."
)
PERIOD_CLOSED = period_event("vn.baocao.period.closed.v1", PeriodClosedV1, "The period closed; missing is final.")


# The national level (issue 18 §1): the national office is a reporting level whose reporting units are the provinces;
# a province's "submission" is its published consolidated report (report.published), due at the national office on
# the plan's `province_due_day` (baocao_shared.calendar.province_due_at).


class ProvinceObligationV1(BaseModel):
    """One province's duty to publish its consolidated report of one plan's period to the national office, and how
    it stands (timeliness against the province's deadline)."""

    province: str
    province_name: str
    plan_id: str
    period: str
    due_at: datetime = Field(description="00:00 local on the plan's province_due_day (exclusive)")
    status: str = Field(description=STATUSES)
    first_published_at: datetime | None = None
    late_by_s: int | None = Field(None, description="Seconds after due_at of the first publication")
    closed: bool = False


class ProvinceNoticeV1(BaseModel):
    """A reminder before the province's deadline, an overdue notice after it, or the national office's nudge: to
    the province's operators (its cơ quan thường trực)."""

    province: str
    province_name: str
    plan_id: str
    period: str
    due_at: datetime
    kind: str = Field(description="reminder | overdue | nudge")
    sequence: int = Field(ge=0, description="Which notice of its kind for this province's period (0, 1, 2, ...)")
    day_offset: int | None = Field(None, description="Days from the last day before due_at (-3, -1, 0, 1, ...)")
    fire_at: datetime
    late_by_s: int | None = Field(None, description="For an overdue notice or a nudge: seconds past due_at then")
    requested_by: str | None = Field(None, description="For a nudge: the national office's account")
    message: str | None = None


class MissingProvinceV1(BaseModel):
    province: str
    province_name: str
    plan_id: str


class NationalEscalationV1(BaseModel):
    """A digest to the national office listing every province whose report of the period is still missing."""

    period: str
    plan_ids: list[str] = Field(description="The plans whose provinces the digest looked at")
    due_at: datetime = Field(description="The provinces' deadline (the earliest, if the plans' differ)")
    fire_at: datetime
    expected: int = Field(description="Provinces that owe the period under these plans")
    missing_provinces: list[MissingProvinceV1]


NATIONAL_KEY = "national"


def national_key(_: NationalEscalationV1) -> str:
    """The national office's notices keep their order under one key."""
    return NATIONAL_KEY


def national_subject(e: NationalEscalationV1) -> str:
    return f"{NATIONAL_KEY}/{e.period}"


province_event = events_on(topics.DEADLINES, key=province_key, subject=plan_period_subject)
national_event = events_on(topics.DEADLINES, key=national_key, subject=national_subject)
PROVINCE_OBLIGATION_UPDATED = province_event(
    "vn.baocao.province_obligation.updated.v1",
    ProvinceObligationV1,
    "A province's report to the national office was first published: its timeliness.",
)
PROVINCE_REMINDER_DUE = province_event(
    "vn.baocao.province_reminder.due.v1",
    ProvinceNoticeV1,
    "Remind a province's operators that its report to the national office is due.",
)
PROVINCE_DEADLINE_MISSED = province_event(
    "vn.baocao.province_deadline.missed.v1",
    ProvinceNoticeV1,
    "Overdue notice to a province's operators: its report to the national office is missing.",
)
PROVINCE_NUDGE_REQUESTED = province_event(
    "vn.baocao.province_nudge.requested.v1",
    ProvinceNoticeV1,
    "The national office urges (đôn đốc) a province by hand.",
)
NATIONAL_ESCALATION_RAISED = national_event(
    "vn.baocao.national_escalation.raised.v1",
    NationalEscalationV1,
    "Digest to the national office listing the provinces whose report is missing.",
)
