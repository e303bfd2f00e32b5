"""Who reacts to what in intake: a published report locks its period; a reopened one, or one the national office
returned to the province, unlocks it (units may amend again, audited); an accepted one stays locked."""

from __future__ import annotations

from baocao_shared.events import topics
from baocao_shared.events.reports import (
    REPORT_ACCEPTED,
    REPORT_PUBLISHED,
    REPORT_REOPENED,
    REPORT_RETURNED,
    ConsolidatedReportV1,
    ReportStatusV1,
)
from baocao_shared.messaging.handlers import typed_handler
from baocao_shared.runtime import ConsumerSpec
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.errors import PeriodNotLocked
from intake.handlers import locks

GROUP = "intake"


async def report_published(uow: IntakeUnitOfWork, report: ConsolidatedReportV1) -> None:
    await locks.lock(
        uow,
        province=report.province,
        plan_id=report.plan_id,
        period=report.period,
        actor=report.published_by or "consolidation",
        reason="Báo cáo tổng hợp đã gửi lên",
        now=report.published_at,
    )


async def report_reopened(uow: IntakeUnitOfWork, change: ReportStatusV1) -> None:
    await _unlock(uow, change, reason=change.reason or "Mở lại kỳ báo cáo")


async def report_returned(uow: IntakeUnitOfWork, change: ReportStatusV1) -> None:
    """The national office returned the report to the province: as a reopen, units may amend again."""
    await _unlock(uow, change, reason=f"Văn phòng Thường trực trả lại báo cáo: {change.reason or ''}".strip(" :"))


async def report_accepted(uow: IntakeUnitOfWork, change: ReportStatusV1) -> None:
    """The national office accepted the report: final, the period stays locked (locked again if it was lifted)."""
    await locks.lock(
        uow,
        province=change.province,
        plan_id=change.plan_id,
        period=change.period,
        actor=change.by,
        reason="Văn phòng Thường trực đã tiếp nhận báo cáo tổng hợp",
        now=change.at,
    )


async def _unlock(uow: IntakeUnitOfWork, change: ReportStatusV1, *, reason: str) -> None:
    try:
        await locks.reopen(
            uow,
            province=change.province,
            plan_id=change.plan_id,
            period=change.period,
            actor=change.by,
            reason=reason,
            now=change.at,
        )
    except PeriodNotLocked:
        return  # already open: a replay, or a lock that was lifted by hand


def handlers(uow: type[IntakeUnitOfWork] = IntakeUnitOfWork) -> dict:
    """The map, its use cases run in `uow` (the rebuild's writes no audit row: the trail has them already)."""
    return {
        REPORT_PUBLISHED.type: typed_handler(report_published, uow=uow),
        REPORT_REOPENED.type: typed_handler(report_reopened, uow=uow),
        REPORT_RETURNED.type: typed_handler(report_returned, uow=uow),
        REPORT_ACCEPTED.type: typed_handler(report_accepted, uow=uow),
    }


CONSUMER = ConsumerSpec(group_id=GROUP, topics=[topics.REPORTS], handlers=handlers())
