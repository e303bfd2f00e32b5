"""Events on baocao.submissions: a unit's monthly report received, then amended (intake)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from baocao_shared.events import topics
from baocao_shared.events.registry import events_on, unit_key, unit_period_subject

# How a version of a report came in (SubmissionV1.channel).
Channel = Literal["api", "web", "on_behalf", "import"]


class SubmissionV1(BaseModel):
    """The full content of one version of a unit's report (báo cáo của đơn vị) for one period."""

    submission_id: uuid.UUID
    province: str = Field(description="Official 2-digit province code, e.g. '30'")
    unit: str = Field(description="Unit code within the province, e.g. 'CA'")
    plan_id: str
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4]|H[12]|Y)$")
    version: int = Field(ge=1, description="1 for the first submission; +1 per amendment")
    values: dict[str, int] = Field(description="Indicator code -> non-negative figure")
    narratives: dict[str, str] = Field(description="Task code, 'difficulties' or 'next_month' -> text")
    received_at: datetime = Field(description="When this version was accepted")
    first_received_at: datetime = Field(description="When version 1 was accepted (timeliness)")
    submitted_by: str | None = Field(None, description="The account that sent this version")
    imported: bool = Field(
        False, description="The staff office imported it on the unit's behalf for a period before tracking (history)"
    )
    after_close: bool = Field(
        False, description="Accepted after the period's close, under an exception the province's office granted"
    )
    channel: Channel | None = Field(
        None,
        description="How this version came in: the unit's own account by the API ('api') or its web form ('web'), "
        "the province's office entering a report that came on paper or by email on the unit's behalf "
        "('on_behalf'), or the office's import of a history period ('import'); absent on earlier events",
    )
    entered_by: str | None = Field(
        None, description="The office's account that entered this version on the unit's behalf (on_behalf, import)"
    )


submission_event = events_on(topics.SUBMISSIONS, key=unit_key, subject=unit_period_subject)
SUBMISSION_RECEIVED = submission_event(
    "vn.baocao.submission.received.v1", SubmissionV1, "A unit's first accepted report for a period."
)
SUBMISSION_AMENDED = submission_event(
    "vn.baocao.submission.amended.v1", SubmissionV1, "A new version of a unit's report; the highest version wins."
)
