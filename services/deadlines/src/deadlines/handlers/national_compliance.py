"""The national level's compliance (issue 18 §1): which provinces published their report of a period to the
national office, on time or late; the national office's nudges (đôn đốc) to provinces; what its dashboard reads."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from baocao_shared.calendar import PeriodError, chronological, period_months
from baocao_shared.events.deadlines import PROVINCE_NUDGE_REQUESTED, ProvinceNoticeV1
from baocao_shared.principal import Principal
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.domain.errors import (
    NationalComplianceNotVisible,
    NoProvinceOwes,
    NotTheNationalOffice,
    PeriodMalformed,
    ProvincesOweNothing,
)
from deadlines.domain.timeliness import summarize
from deadlines.handlers.national import province_view
from deadlines.handlers.nudges import shows_as_written

HISTORY_PERIODS = 6
NUDGE_KIND = "province_nudge"  # in `notices`, the province's code standing for the unit


# A national nudge as asked for, by POST /v1/nudges/national or the national dashboard's form. (No docstring: it
# would enter the OpenAPI document as the schema's description.)
class NationalNudgeIn(BaseModel):
    period: str = Field(max_length=10, examples=["2026-11"])
    provinces: list[str] = Field(min_length=1, max_length=100, examples=[["30", "31"]])
    plan_id: str | None = Field(None, max_length=64)
    message: str | None = Field(None, max_length=2000, examples=["Đề nghị tỉnh gửi báo cáo trước ngày 22."])

    @field_validator("provinces")
    @classmethod
    def _province_codes(cls, provinces: list[str]) -> list[str]:
        bad = [p for p in provinces if not (len(p) == 2 and p.isdigit())]
        if bad:
            raise ValueError(f"a province is a 2-digit code, not {bad[0]!r}")
        return provinces

    @field_validator("message")
    @classmethod
    def _message_shows_as_written(cls, message: str | None) -> str | None:
        return shows_as_written(message)


def check_national(principal: Principal) -> None:
    """Every province's compliance is for the national office and admins."""
    if not principal.is_national:
        raise NationalComplianceNotVisible()


def _checked_period(period: str) -> str:
    try:
        period_months(period)
    except PeriodError as malformed:
        raise PeriodMalformed(period=period, reason=str(malformed)) from None
    return period


async def national_compliance(
    uow: DeadlinesUnitOfWork, *, principal: Principal, period: str, plan_id: str | None, now: datetime
) -> dict[str, Any]:
    """Which provinces published the period to the national office, on time or late (GET /v1/compliance at
    level=national): the provinces stand where a province's units stand, `unit` being the province's code."""
    check_national(principal)
    rows = await uow.province_obligations.of_period(_checked_period(period), plan_id=plan_id)
    if not rows:
        raise NoProvinceOwes(period=period, plan_id=plan_id)
    views = [province_view(row, now=now) for row in rows]
    due_at = min(v.due_at for v in views)
    final = all(v.closed for v in views)
    plans = sorted({v.plan_id for v in views})
    return {
        "level": "national",
        "period": period,
        "plan_id": plans[0] if len(plans) == 1 else None,
        "plan_ids": plans,
        "state": "closed" if final else "overdue" if now >= due_at else "open",
        "final": final,
        "due_at": due_at,
        "closed_at": max((r.closed_at for r in rows), default=None) if final else None,
        "summary": summarize(v.status for v in views),
        "units": [
            {
                "unit": v.province,
                "unit_name": v.province_name,
                "plan_id": v.plan_id,
                "due_at": v.due_at,
                "status": v.status,
                "first_submitted_at": v.first_published_at,
                "late_by_s": v.late_by_s,
            }
            for v in views
        ],
    }


def check_may_urge_provinces(principal: Principal) -> None:
    """Only the national office, and admins, urge provinces."""
    if not principal.is_national:
        raise NotTheNationalOffice()


async def nudge_provinces(
    uow: DeadlinesUnitOfWork, *, principal: Principal, order: NationalNudgeIn, now: datetime
) -> dict[str, Any]:
    """A manual reminder from the national office to the chosen provinces that have not published the period (to
    their operators, by notify); the provinces that have are listed as skipped."""
    check_may_urge_provinces(principal)
    rows = await uow.province_obligations.of_period(_checked_period(order.period), plan_id=order.plan_id)
    by_province: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_province[row.province].append(row)
    unknown = [p for p in order.provinces if p not in by_province]
    if unknown:
        raise ProvincesOweNothing(period=order.period, provinces=unknown)
    sent, skipped, notices = [], [], []
    for province in dict.fromkeys(order.provinces):
        for row in by_province[province]:
            view = province_view(row, now=now)
            if view.status in ("on_time", "late"):
                skipped.append({"province": province, "plan_id": row.plan_id, "status": view.status})
                continue
            sequence = await uow.notices.count(province, row.plan_id, row.period, province, kind=NUDGE_KIND)
            await uow.notices.add(
                province, row.plan_id, row.period, province, kind=NUDGE_KIND, sequence=sequence, fired_at=now,
                requested_by=principal.subject, message=order.message,
            )  # fmt: skip
            notices.append(
                ProvinceNoticeV1(
                    province=province,
                    province_name=view.province_name,
                    plan_id=row.plan_id,
                    period=row.period,
                    due_at=row.due_at,
                    kind="nudge",
                    sequence=sequence,
                    fire_at=now,
                    late_by_s=int((now - row.due_at).total_seconds()) if now >= row.due_at else None,
                    requested_by=principal.subject,
                    message=order.message,
                )
            )
            sent.append({"province": province, "plan_id": row.plan_id})
    for notice in notices:
        await uow.publish(PROVINCE_NUDGE_REQUESTED, notice, province=notice.province, at=now)
    return {"period": order.period, "sent": sent, "skipped": skipped}


@dataclass(frozen=True)
class NationalBoard:
    """One period of the national level as its dashboard shows it; `period` None when no province owes any."""

    periods: list[str] = field(default_factory=list)  # owed by some province, newest first
    period: str | None = None
    plan_id: str | None = None
    compliance: dict[str, Any] = field(default_factory=dict)
    history_periods: list[str] = field(default_factory=list)  # oldest first, up to and with `period`
    history: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # {(province, plan): {period: st}}


async def national_board(
    uow: DeadlinesUnitOfWork, *, principal: Principal, period: str | None, plan_id: str | None, now: datetime
) -> NationalBoard:
    """The period asked for (else the newest one already due) with every province's standing in it and in the
    periods before it."""
    check_national(principal)
    owed = sorted(await uow.province_obligations.periods(plan_id=plan_id), key=lambda r: chronological(r.period))
    owed.reverse()  # newest first, whatever the frequencies of the plans mixed here
    codes = [row.period for row in owed]
    if period is None:
        due = [row.period for row in owed if row.due_at <= now]
        period = due[0] if due else (codes[0] if codes else None)
    if period is None:
        return NationalBoard(plan_id=plan_id)
    found = await national_compliance(uow, principal=principal, period=period, plan_id=plan_id, now=now)
    recent = [code for code in reversed(codes) if chronological(code) <= chronological(period)][-HISTORY_PERIODS:]
    history: dict[tuple[str, str], dict[str, str]] = {}
    for row in await uow.province_obligations.of_periods(recent, plan_id=plan_id):
        history.setdefault((row.province, row.plan_id), {})[row.period] = province_view(row, now=now).status
    return NationalBoard(codes, period, plan_id, found, recent, history)
