"""Manual nudges (đôn đốc): a province's operator urges chosen units that have not reported a period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from baocao_shared.events.deadlines import NUDGE_REQUESTED, UnitNoticeV1
from baocao_shared.principal import Principal
from baocao_shared.text import bad_character
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.domain.errors import NotTheProvincesOperator, UnitsOweNothing
from deadlines.handlers.compliance import resolve_plan
from deadlines.handlers.views import period_views


# A nudge as asked for, by POST /v1/nudges or the dashboard's form. (No docstring: it would enter the OpenAPI
# document as the schema's description.)
class NudgeIn(BaseModel):
    province: str = Field(pattern=r"^\d{2}$", examples=["30"])
    period: str = Field(max_length=10, examples=["2019-06"])
    units: list[str] = Field(min_length=1, max_length=5000, examples=[["UBND-NS", "SYT"]])
    plan_id: str | None = None
    message: str | None = Field(None, max_length=2000, examples=["Đề nghị đơn vị gửi báo cáo trước 17h hôm nay."])

    @field_validator("message")
    @classmethod
    def _message_shows_as_written(cls, message: str | None) -> str | None:
        return shows_as_written(message)


def shows_as_written(message: str | None) -> str | None:
    """A nudge's message goes into mails and pages: no control or bidi-override characters (as in narratives)."""
    if message and (found := bad_character(message, narrative=True)):
        position, character = found
        raise ValueError(
            f"Lời nhắn có ký tự điều khiển {character} (ở vị trí {position + 1}) không hiển thị được; "
            "vui lòng xóa ký tự đó rồi gửi lại."
        )
    return message


def check_may_nudge(principal: Principal, province: str) -> None:
    """Only the province's own operators, and admins, urge its units."""
    if not principal.may_operate_province(province):
        raise NotTheProvincesOperator(province=province, oversees=principal.oversees(province))


async def nudge(uow: DeadlinesUnitOfWork, *, principal: Principal, order: NudgeIn, now: datetime) -> dict[str, Any]:
    """A manual reminder to the chosen units that have not submitted; the others are listed as skipped."""
    check_may_nudge(principal, order.province)
    province, period = order.province, order.period
    plan_id = await resolve_plan(uow, province, order.plan_id)
    views, _ = await period_views(uow, province, plan_id, period, now=now)
    by_unit = {v.unit: v for v in views}
    unknown = [u for u in order.units if u not in by_unit]
    if unknown:
        raise UnitsOweNothing(period=period, units=unknown)
    sent, skipped, notices = [], [], []
    for unit in dict.fromkeys(order.units):
        view = by_unit[unit]
        if view.status in ("on_time", "late"):
            skipped.append({"unit": unit, "reason": "already_submitted"})
            continue
        sequence = await uow.notices.count(province, plan_id, period, unit, kind="nudge")
        await uow.notices.add(
            province,
            plan_id,
            period,
            unit,
            kind="nudge",
            sequence=sequence,
            fired_at=now,
            requested_by=principal.subject,
            message=order.message,
        )
        notices.append(
            UnitNoticeV1(
                province=province,
                plan_id=plan_id,
                period=period,
                unit=unit,
                unit_name=view.unit_name,
                due_at=view.due_at,
                kind="nudge",
                sequence=sequence,
                fire_at=now,
                requested_by=principal.subject,
                message=order.message,
                late_by_s=max(0, int((now - view.due_at).total_seconds())) if now >= view.due_at else None,
            )
        )
        sent.append(unit)
    await uow.publish(NUDGE_REQUESTED, notices, province=province, at=now)
    return {"province": province, "plan_id": plan_id, "period": period, "sent": sent, "skipped": skipped}
