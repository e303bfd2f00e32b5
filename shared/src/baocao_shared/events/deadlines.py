"""Events on baocao.deadlines: what is owed and when, reminders, overdue notices, escalation, close.

deadlines owns these. Unit-level events are keyed `<province>.<unit>` so that one unit's notices
stay in order; province-level ones are keyed `<province>`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from baocao_shared.events import topics
from baocao_shared.events.registry import EventSpec, register

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


def _unit_key(e) -> str:
    return f"{e.province}.{e.unit}"


def _province_key(e) -> str:
    return e.province


def _unit_subject(e) -> str:
    return f"{e.province}/{e.unit}/{e.period}"


def _period_subject(e) -> str:
    return f"{e.province}/{e.plan_id}/{e.period}"


OBLIGATION_UPDATED = register(
    EventSpec(
        type="vn.baocao.obligation.updated.v1",
        topic=topics.DEADLINES,
        model=ObligationV1,
        key=_unit_key,
        subject=_unit_subject,
        description="An obligation was opened or its timeliness changed.",
    )
)
REMINDER_DUE = register(
    EventSpec(
        type="vn.baocao.reminder.due.v1",
        topic=topics.DEADLINES,
        model=UnitNoticeV1,
        key=_unit_key,
        subject=_unit_subject,
        description="Remind a unit that has not submitted yet, before the deadline.",
    )
)
DEADLINE_MISSED = register(
    EventSpec(
        type="vn.baocao.deadline.missed.v1",
        topic=topics.DEADLINES,
        model=UnitNoticeV1,
        key=_unit_key,
        subject=_unit_subject,
        description="Overdue notice to a unit that is still missing.",
    )
)
NUDGE_REQUESTED = register(
    EventSpec(
        type="vn.baocao.nudge.requested.v1",
        topic=topics.DEADLINES,
        model=UnitNoticeV1,
        key=_unit_key,
        subject=_unit_subject,
        description="An operator urges (đôn đốc) a unit by hand.",
    )
)
ESCALATION_RAISED = register(
    EventSpec(
        type="vn.baocao.escalation.raised.v1",
        topic=topics.DEADLINES,
        model=EscalationV1,
        key=_province_key,
        subject=_period_subject,
        description="Digest to the province operators listing the missing units.",
    )
)
PERIOD_CLOSED = register(
    EventSpec(
        type="vn.baocao.period.closed.v1",
        topic=topics.DEADLINES,
        model=PeriodClosedV1,
        key=_province_key,
        subject=_period_subject,
        description="The period closed; missing is final.",
    )
)
