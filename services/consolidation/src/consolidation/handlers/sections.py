"""The staff office writes its report: saving one section's text on the version it read.

An edit is stored, published on baocao.reports (so a rebuild from the topics restores it) and audited, in
the caller's transaction. It never touches the units' reports, and their amendments never touch it: a
section whose sources changed since it was written says so until the office saves it again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from baocao_shared.events.reports import (
    REPORT_REVERTED,
    REPORT_SECTION_EDITED,
    ConsolidatedReportV1,
    ReportStatusV1,
    SectionEditedV1,
)
from baocao_shared.principal import Principal
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.domain import sections
from consolidation.domain.report import ReportAddress
from consolidation.domain.workflow import SENT_UP, next_status
from consolidation.handlers import workflow
from consolidation.handlers.reports import current, plan_and_period


def may_edit(principal: Principal, report: ConsolidatedReportV1) -> bool:
    """The province's operators write its report until it is published (the page shows the editors)."""
    return principal.may_operate_province(report.province) and report.status not in SENT_UP


async def edit_section(
    uow: ConsolidationUnitOfWork,
    *,
    principal: Principal,
    address: ReportAddress,
    key: str,
    text: str,
    base_version: int,
    now: datetime,
) -> ConsolidatedReportV1:
    """The province's operator saves a section written on `base_version`; an approved report goes back to draft."""
    workflow.check_operator(principal, province=address.province)
    plan, _ = await plan_and_period(uow, address)
    definition = sections.find(plan, key)
    text = sections.check_text(text)
    province, period = address.province, address.period
    revision = await uow.unit_reports.revision(province, plan.id, period)
    state = await uow.reports.lock(province, plan.id, period, revision=revision)
    assert state is not None  # made when missing
    written = await uow.sections.edited(province, plan.id, period)
    last = max(written.values(), key=lambda s: s.version, default=None)
    version = sections.check_edit(
        status=state.status,
        number=(state.content or {}).get("number"),
        version=state.version,
        base_version=base_version,
        edited_by=last.edited_by if last else None,
    )
    names = await uow.catalogue.unit_names(province)
    latest = await uow.unit_reports.latest(province, plan.id, period)
    sources = [sections.UnitSource(r.unit, names.get(r.unit, r.unit), r.values, r.narratives) for r in latest]
    edit = SectionEditedV1(
        province=province, plan_id=plan.id, period=period, key=key, text=text, version=version,
        by=principal.subject, at=now, sources=sections.fingerprints(plan, definition, sources),
    )  # fmt: skip
    await apply_section_edit(uow, edit)
    await uow.publish(REPORT_SECTION_EDITED, edit, province=province, at=now)
    subject = f"report:{province}.{plan.id}.{period}"
    await uow.audit(
        at=now, actor=principal.subject, action="report.section_edited", subject=subject,
        details={"section": key, "version": version, "base_version": base_version, "chars": len(text)},
    )  # fmt: skip
    if state.status == "approved":  # the approval saw other words
        await workflow.take_step(
            uow,
            REPORT_REVERTED,
            ReportStatusV1(
                province=province, plan_id=plan.id, period=period, status=next_status("revert", state.status),
                revision=state.revision, at=now, by=principal.subject,
                reason=f"Trở lại dự thảo: mục “{definition.title}” được sửa sau khi đã duyệt.",
            ),
        )  # fmt: skip
    return await current(uow, address=replace(address, plan_id=plan.id), now=now)


async def apply_section_edit(uow: ConsolidationUnitOfWork, edit: SectionEditedV1) -> None:
    """Store an edit as its event says (live, or replayed on a rebuild)."""
    saved = sections.EditedSection(
        key=edit.key, text=edit.text, version=edit.version, edited_by=edit.by, edited_at=edit.at, sources=edit.sources
    )
    await uow.sections.save(edit.province, edit.plan_id, edit.period, saved)
    await uow.reports.raise_version(edit.province, edit.plan_id, edit.period, version=edit.version)
