"""The office writes its report: sections from the plan's data, drafts from the figures, edits on a version,
and a unit's amendment that flags a section without touching the office's words."""

from __future__ import annotations

from datetime import timedelta

import pytest

from baocao_shared.events.reports import REPORT_REVERTED, REPORT_SECTION_EDITED
from consolidation.domain import sections as rules
from consolidation.domain.errors import (
    NotTheProvincesOperator,
    ReportAlreadyPublished,
    SectionTextInvalid,
    StaleReportVersion,
    UnknownSection,
)
from consolidation.handlers import projection, reports, sections, workflow
from services.consolidation.tests.unit.fakes import FakePress
from services.consolidation.tests.unit.world import JUNE, NOW, PLAN, Who, submission, world


async def edit(uow, key="t1", text="Văn phòng đánh giá.", base=0, who=Who.OPERATOR, at=NOW):
    return await sections.edit_section(uow, principal=who, address=JUNE, key=key, text=text, base_version=base, now=at)


def section(report, key):
    return next(s for s in report.sections if s.key == key)


async def test_the_plan_names_the_sections_and_each_starts_as_a_draft_of_the_figures():
    uow = await world()
    report = await reports.current(uow, address=JUNE, now=NOW)
    assert [s.key for s in report.sections] == [s.key for s in PLAN.report.sections]
    t1 = section(report, "t1")
    assert not t1.edited and t1.text == t1.draft
    assert "1/2 đơn vị" in t1.text and "Số hội nghị, buổi quán triệt: 3 buổi" in t1.text
    assert "kỳ trước chưa có số liệu" in t1.text  # May: nobody reported, not zero
    assert "Ưu điểm" in section(report, "danh_gia_chung").text


def test_a_plan_without_sections_gets_one_per_task_and_the_general_ones():
    plain = PLAN.model_copy(update={"report": PLAN.report.model_copy(update={"sections": []})})
    keys = [s.key for s in rules.definitions(plain)]
    assert keys == [t.code.lower() for t in PLAN.template.tasks] + ["danh_gia_chung", "phuong_huong", "de_xuat"]


async def test_an_edit_is_stored_published_audited_and_raises_the_version():
    uow = await world()
    report = await edit(uow, text="Đã tổ chức 3 hội nghị.\n<b>không phải thẻ</b>")
    t1 = section(report, "t1")
    assert report.version == 1 and t1.edited and t1.edited_by == "op-30"
    assert t1.text == "Đã tổ chức 3 hội nghị.\n<b>không phải thẻ</b>"  # kept as text; renderers escape it
    (event,) = uow.events_of(REPORT_SECTION_EDITED)
    assert event.key == "t1" and event.version == 1 and event.sources.keys() == {"CA"}
    assert uow.audited[-1]["action"] == "report.section_edited"


async def test_a_stale_base_version_is_refused_naming_the_current_one():
    uow = await world()
    await edit(uow, text="Người thứ nhất.", base=0)
    with pytest.raises(StaleReportVersion) as refused:
        await edit(uow, text="Người thứ hai.", base=0, who=Who.ADMIN)
    assert refused.value.current_version == 1 and refused.value.edited_by == "op-30"
    assert section(await reports.current(uow, address=JUNE, now=NOW), "t1").text == "Người thứ nhất."


async def test_a_published_report_and_other_provinces_operators_cannot_edit():
    uow = await world()
    with pytest.raises(NotTheProvincesOperator):
        await edit(uow, who=Who.NEIGHBOURS_OPERATOR)
    with pytest.raises(NotTheProvincesOperator):
        await edit(uow, who=Who.REPORTER)
    await workflow.approve(uow, principal=Who.OPERATOR, address=JUNE, now=NOW)
    await workflow.publish(uow, principal=Who.OPERATOR, address=JUNE, now=NOW, press=FakePress())
    with pytest.raises(ReportAlreadyPublished):
        await edit(uow, base=0)


async def test_bad_text_and_unknown_sections_are_refused():
    uow = await world()
    with pytest.raises(SectionTextInvalid, match=r"20\.000"):
        await edit(uow, text="x" * 20_001)
    with pytest.raises(SectionTextInvalid, match=r"U\+0007"):
        await edit(uow, text="chuông\x07")
    with pytest.raises(UnknownSection):
        await edit(uow, key="khong_co")
    assert not uow.events_of(REPORT_SECTION_EDITED)


async def test_an_amendment_flags_the_section_and_keeps_the_offices_words():
    uow = await world()
    await edit(uow, text="Lời của văn phòng.")
    await projection.submission_recorded(uow, submission("CA", 2, {"t1_sessions": 5}))
    report = await reports.current(uow, address=JUNE, now=NOW)
    t1 = section(report, "t1")
    assert t1.text == "Lời của văn phòng." and t1.source_changed
    assert [(c.unit, c.change) for c in t1.source_changes] == [("CA", "amended")]
    assert "5 buổi" in t1.draft  # the draft follows the figures
    again = await edit(uow, text="Lời đã xem lại.", base=report.version)
    assert not section(again, "t1").source_changed


async def test_an_amendment_elsewhere_does_not_flag_a_section_it_does_not_touch():
    uow = await world()
    await edit(uow, key="t4", text="Không có đoàn.")
    await projection.submission_recorded(uow, submission("CA", 2, {"t1_sessions": 5}))  # T1 only
    assert not section(await reports.current(uow, address=JUNE, now=NOW), "t4").source_changed


async def test_editing_an_approved_report_sends_it_back_to_draft():
    uow = await world()
    await workflow.approve(uow, principal=Who.OPERATOR, address=JUNE, now=NOW)
    report = await edit(uow, at=NOW + timedelta(minutes=1))
    assert report.status == "draft" and "được sửa sau khi đã duyệt" in (report.status_note or "")
    assert uow.events_of(REPORT_REVERTED)
