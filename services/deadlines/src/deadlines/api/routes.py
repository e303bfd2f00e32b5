"""HTTP adapter of deadlines: the compliance figures and manual nudges (v1 contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, field_validator

from baocao_shared.errors import Forbidden
from baocao_shared.http.deps import CurrentPrincipal, Db, Now, require
from baocao_shared.http.errors import error_responses
from baocao_shared.principal import Principal, Role
from baocao_shared.text import bad_character
from deadlines.handlers import compliance as use_cases

router = APIRouter(tags=["compliance"])


Operator = Annotated[Principal, Depends(require(Role.PROVINCE_OPERATOR, Role.ADMIN))]


class UnitCompliance(BaseModel):
    unit: str
    unit_name: str
    status: str = Field(description="pending | on_time | late | missing")
    first_submitted_at: datetime | None
    late_by_s: int | None
    amended_after_due: bool


class Summary(BaseModel):
    expected: int
    on_time: int
    late: int
    missing: int
    pending: int
    reporting_rate: float
    on_time_rate: float


class Compliance(BaseModel):
    province: str
    plan_id: str
    period: str
    due_at: datetime
    closed_at: datetime | None
    summary: Summary
    units: list[UnitCompliance]


class NudgeIn(BaseModel):
    province: str = Field(pattern=r"^\d{2}$", examples=["30"])
    period: str = Field(max_length=10, examples=["2019-06"])
    units: list[str] = Field(min_length=1, max_length=5000, examples=[["UBND-NS", "SYT"]])
    plan_id: str | None = None
    message: str | None = Field(None, max_length=2000, examples=["Đề nghị đơn vị gửi báo cáo trước 17h hôm nay."])

    @field_validator("message")
    @classmethod
    def _message_shows_as_written(cls, message: str | None) -> str | None:
        """The message goes into mails and pages: no control or bidi-override characters (as in narratives)."""
        if message and (found := bad_character(message, narrative=True)):
            position, character = found
            raise ValueError(
                f"Lời nhắn có ký tự điều khiển {character} (ở vị trí {position + 1}) không hiển thị được; "
                "vui lòng xóa ký tự đó rồi gửi lại."
            )
        return message


@router.get(
    "/v1/compliance",
    response_model=Compliance,
    responses=error_responses(403, 404),
    summary="Who reported a period, on time or late",
)
async def get_compliance(
    principal: CurrentPrincipal,
    db: Db,
    now: Now,
    province: Annotated[str, Query(pattern=r"^\d{2}$", examples=["30"])],
    period: Annotated[str, Query(max_length=10, examples=["2019-06"])],
    plan_id: Annotated[str | None, Query(max_length=64)] = None,
):
    if not principal.may_read_province(province) or principal.role is Role.REPORTER:
        raise Forbidden("Compliance of a province is for its operators and the national office.")
    async with db.begin():
        return await use_cases.compliance(db, province=province, plan_id=plan_id, period=period, now=now)


@router.post(
    "/v1/nudges", status_code=202, responses=error_responses(403, 404), summary="Urge chosen units by hand (đôn đốc)"
)
async def post_nudge(body: NudgeIn, principal: Operator, db: Db, now: Now):
    if not principal.may_operate_province(body.province):
        raise Forbidden("Only the province's own operators can urge its units.")
    async with db.begin():
        return await use_cases.nudge(
            db,
            province=body.province,
            plan_id=body.plan_id,
            period=body.period,
            units=body.units,
            requested_by=principal.subject,
            message=body.message,
            now=now,
        )
