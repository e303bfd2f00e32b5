"""A unit's report as the use cases take and give it: the submission and amendment sent, the receipt, the
stored report with its history (the API's v1 schemas), and the plan as a submission finds it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, WithJsonSchema

from baocao_shared.events.catalog import PlanV1, UnitV1
from baocao_shared.events.submissions import Channel

Figures = Annotated[
    dict[str, Any],
    WithJsonSchema({"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}),
]
Narratives = Annotated[
    dict[str, Any], WithJsonSchema({"type": "object", "additionalProperties": {"type": "string", "maxLength": 20000}})
]
Source = Literal["paper", "email"]
SOURCE_FIELD = Field(
    None,
    description="Entered on the unit's behalf by its province's office: the report came on paper or by email "
    "(a unit's own account sends none)",
)


class SubmissionIn(BaseModel):
    plan_id: str = Field(max_length=64, examples=["hd-467-2019"])
    unit: str = Field(max_length=40, examples=["CA"])
    period: str = Field(max_length=10, examples=["2019-06"])
    values: Figures = Field(examples=[{"t1_sessions": 3, "t1_participants": 420}])
    narratives: Narratives = Field(default_factory=dict, examples=[{"T1": "Tổ chức 3 hội nghị quán triệt Chỉ thị 44."}])
    province: str | None = Field(
        None,
        pattern=r"^\d{2}$",
        description="The unit's province; the caller's own when absent (an admin entering for a unit names it "
        "when the plan's id is held by more than one province)",
    )
    source: Source | None = SOURCE_FIELD


class ImportIn(BaseModel):
    """A unit's report for a history period, which the province's office imports on its behalf."""

    unit: str = Field(max_length=40, examples=["CA"])
    values: Figures = Field(examples=[{"t1_sessions": 3, "t1_participants": 420}])
    narratives: Narratives = Field(default_factory=dict, examples=[{"T1": "Tổ chức 3 hội nghị quán triệt Chỉ thị 44."}])


class AmendmentIn(BaseModel):
    values: Figures
    narratives: Narratives = Field(default_factory=dict)
    base_version: int | None = Field(
        None, ge=1, description="The version this amendment was made from; another version in between gives 409"
    )
    source: Source | None = SOURCE_FIELD


class Receipt(BaseModel):
    id: uuid.UUID
    version: int
    received_at: datetime
    status: str = Field(description="received (version 1) or amended")
    channel: Channel | None = Field(None, description="How this version came in: api, web, on_behalf, import")
    entered_by: str | None = Field(None, description="The office's account that entered it on the unit's behalf")


class VersionOut(BaseModel):
    version: int
    received_at: datetime
    submitted_by: str | None
    changes: dict[str, Any]
    imported: bool = Field(False, description="The staff office imported it for a period before tracking")
    after_close: bool = Field(False, description="Accepted after the period's close, under the office's exception")
    channel: Channel | None = Field(
        None,
        description="api or web (the unit's own account), on_behalf (its province's office), import; "
        "null for versions stored before it was recorded",
    )
    entered_by: str | None = Field(None, description="The office's account that entered it on the unit's behalf")
    source: Source | None = Field(None, description="On the unit's behalf: the report came on paper or by email")


class Submission(BaseModel):
    """A unit's report as stored: its latest version."""

    id: uuid.UUID
    province: str
    plan_id: str
    unit: str
    period: str
    version: int
    values: dict[str, int]
    narratives: dict[str, str]
    first_received_at: datetime
    received_at: datetime
    submitted_by: str | None
    # Of the latest version: stored with it in the history (not on the latest row), carried by its event.
    imported: bool = Field(False, description="The staff office imported the latest version")
    after_close: bool = Field(False, description="The latest version was accepted after the close, by exception")
    channel: Channel | None = Field(None, description="How the latest version came in (see the history's)")
    entered_by: str | None = Field(None, description="The office's account that entered the latest version")
    source: Source | None = Field(None, description="On the unit's behalf: where the latest version came from")


class SubmissionOut(Submission):
    locked: bool
    history: list[VersionOut] = []


@dataclass(frozen=True)
class PlanHolder:
    """A province holding a plan of the id a submission names, and whether the period is locked there."""

    province: str
    plan: PlanV1
    timezone: str  # the province's
    locked: bool
    unit: UnitV1 | None  # the unit the submission names, as this province's catalogue holds it (None: no such unit)
