"""The period's standing as every service answers it: `GET /v1/periods/{province}/{period}` in intake,
deadlines and consolidation returns this same model, computed by `baocao_shared.periods.standing` over the
service's own copy of the catalogue. A test walks a plan's periods through the three and compares them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from baocao_shared.periods import PeriodStanding


class PeriodOut(BaseModel):
    province: str = Field(examples=["30"])
    plan_id: str
    period: str = Field(examples=["2019-06"])
    state: str = Field(
        description="outside_plan | history | not_open | open | overdue | closed",
        examples=["open"],
    )
    label: str = Field(description="The state in Vietnamese, as pages show it", examples=["Đang mở"])
    tracked: bool = Field(description="Units owe it: it has obligations and its report counts them")
    accepting: bool = Field(description="A unit may send or amend its report without an exception")
    tracking_from: str = Field(description="The province's first tracked period of the plan")
    opens_at: datetime | None = Field(description="When units may start sending")
    due_at: datetime | None = Field(description="A report first received at or after it is late")
    closes_at: datetime | None = Field(description="From then on missing is final and reports are refused")

    @classmethod
    def of(cls, province: str, found: PeriodStanding) -> PeriodOut:
        return cls(province=province, **found.as_dict())
