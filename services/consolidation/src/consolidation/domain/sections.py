"""The sections the staff office writes (pure): which there are, the draft the figures make of each, what a
unit changed under one since the office wrote it, and whether an edit may be saved.

The plan's data names the sections (`report.sections`); a plan that names none gets one per task and the
three general ones. A section's draft is built from the figures by its kind: totals with their comparisons,
how many units reported, who was late or missing. The units' own words are never pasted in: they stand
beside the section in the console and go to the document's annex.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from baocao_shared.events.catalog import PlanV1, ReportSectionDefV1
from baocao_shared.events.reports import (
    ComparisonV1,
    CoverageV1,
    DisciplineV1,
    ReportSectionV1,
    SourceChangeV1,
)
from baocao_shared.text import bad_character
from consolidation.domain.errors import (
    ReportAlreadyPublished,
    SectionTextInvalid,
    StaleReportVersion,
    UnknownSection,
)
from consolidation.domain.periods import HISTORY_NOTE
from consolidation.domain.workflow import SENT_UP

MAX_SECTION_CHARS = 20_000  # as a unit's narrative


@dataclass(frozen=True)
class EditedSection:
    """What the office saved for a section, and a fingerprint of each unit's sources then."""

    key: str
    text: str
    version: int
    edited_by: str
    edited_at: datetime
    sources: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitSource:
    """One unit's latest report, as far as sections read it."""

    unit: str
    unit_name: str
    values: Mapping[str, int]
    narratives: Mapping[str, str]


def definitions(plan: PlanV1) -> list[ReportSectionDefV1]:
    """The plan's sections, or, when it names none, one per task and then the general ones."""
    if plan.report.sections:
        return list(plan.report.sections)
    labels = plan.template.closing_narratives
    found = [
        ReportSectionDefV1(key=task.code.lower(), title=task.title, kind="task", task=task.code, quotes=[task.code])
        for task in plan.template.tasks
    ]
    return [
        *found,
        ReportSectionDefV1(key="danh_gia_chung", title="Đánh giá chung", kind="assessment"),
        ReportSectionDefV1(
            key="phuong_huong", title=labels.get("next_month", "Phương hướng, nhiệm vụ tháng tới"),
            kind="direction", quotes=["next_month"],
        ),
        ReportSectionDefV1(
            key="de_xuat", title="Đề xuất, kiến nghị", kind="proposals", quotes=["difficulties"]
        ),
    ]  # fmt: skip


def find(plan: PlanV1, key: str) -> ReportSectionDefV1:
    sections = definitions(plan)
    for section in sections:
        if section.key == key:
            return section
    raise UnknownSection(key=key, keys=[s.key for s in sections])


def indicator_codes(plan: PlanV1, section: ReportSectionDefV1) -> list[str]:
    """The figures a section reads: its task's for a task, all for the general assessment, none otherwise."""
    if section.kind == "task":
        return [i.code for t in plan.template.tasks if t.code == section.task for i in t.indicators]
    if section.kind == "assessment":
        return [i.code for t in plan.template.tasks for i in t.indicators]
    return []


def fingerprints(plan: PlanV1, section: ReportSectionDefV1, sources: Sequence[UnitSource]) -> dict[str, str]:
    """Per unit, a digest of what it reported under the section (its figures there and its words quoted);
    a unit that said nothing under it has none."""
    codes = indicator_codes(plan, section)
    found = {}
    for source in sources:
        words = {k: source.narratives[k] for k in section.quotes if source.narratives.get(k, "").strip()}
        figures = {c: source.values[c] for c in codes if c in source.values}
        if words or figures:
            blob = json.dumps({"n": words, "v": figures}, sort_keys=True, ensure_ascii=False)
            found[source.unit] = hashlib.sha256(blob.encode()).hexdigest()[:16]
    return found


def source_changes(saved: Mapping[str, str], now: Mapping[str, str], names: Mapping[str, str]) -> list[SourceChangeV1]:
    """Which units' sources differ from those the office wrote from."""
    changes = []
    for unit in sorted(set(saved) | set(now)):
        if saved.get(unit) == now.get(unit):
            continue
        change = "added" if unit not in saved else "withdrawn" if unit not in now else "amended"
        changes.append(SourceChangeV1(unit=unit, unit_name=names.get(unit, unit), change=change))
    return changes


def check_text(text: str) -> str:
    """The rules of a unit's narrative: at most 20,000 characters, no control characters. Line ends become \\n;
    markup is kept as text (every renderer escapes it)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_SECTION_CHARS:
        raise SectionTextInvalid(
            problem="text_too_long",
            reason=f"Nội dung dài quá {MAX_SECTION_CHARS:,} ký tự ({len(text):,}).".replace(",", "."),
        )
    bad = bad_character(text, narrative=True)
    if bad is not None:
        raise SectionTextInvalid(
            problem="control_character", reason=f"Nội dung có ký tự điều khiển {bad[1]} ở vị trí {bad[0] + 1}."
        )
    return text


def check_edit(*, status: str, number: str | None, version: int, base_version: int, edited_by: str | None) -> int:
    """The report's version after an edit made on `base_version`; a published report or a stale base refuses."""
    if status in SENT_UP:
        raise ReportAlreadyPublished(number=number, status=status)
    if base_version != version:
        raise StaleReportVersion(base_version=base_version, current_version=version, edited_by=edited_by)
    return version + 1


# --- drafts -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """What a draft is written from."""

    period_label: str  # "tháng 06/2019"
    plan_number: str
    indicators: Mapping[str, tuple[str, str | None]]  # code -> (label, counted unit)
    comparisons: Mapping[str, ComparisonV1]
    coverage: CoverageV1 | None
    discipline: DisciplineV1
    quoted: Mapping[str, list[str]]  # narrative key -> names of the units that wrote under it
    history: bool = False  # a period before tracking: the figures are the office's import, nobody was owed


def number(n: int | None) -> str:
    return "chưa có số liệu" if n is None else f"{n:,}".replace(",", ".")


def _change(now: int | None, before: int | None) -> str:
    if now is None or before is None:
        return ""
    if now == before:
        return ", bằng"
    return f", {'tăng' if now > before else 'giảm'} {number(abs(now - before))}"


def indicator_sentence(label: str, unit: str | None, c: ComparisonV1) -> str:
    """'– Số hội nghị, buổi quán triệt: 35 buổi (kỳ trước 30, tăng 5; cùng kỳ năm trước 28; lũy kế 210).'"""
    counted = f" {unit}" if unit and c.total is not None else ""
    return (
        f"– {label}: {number(c.total)}{counted} (kỳ trước {number(c.previous)}{_change(c.total, c.previous)}; "
        f"cùng kỳ năm trước {number(c.last_year)}; lũy kế từ đầu năm {number(c.year_to_date)})."
    )


def _reported(f: Figures) -> str:
    expected = f.coverage.expected if f.coverage else f.discipline.expected
    reported = f.coverage.total if f.coverage else 0
    return f"{reported}/{expected} đơn vị"


def _names(units) -> str:
    return ", ".join(u.unit_name for u in units)


def draft(plan: PlanV1, section: ReportSectionDefV1, f: Figures) -> str:
    """The section as the figures tell it, for the office to rewrite."""
    quoted = [name for key in section.quotes for name in f.quoted.get(key, [])]
    quoted = list(dict.fromkeys(quoted))
    if section.kind == "task":
        lines = [f"Trong {f.period_label}, {_reported(f)} gửi báo cáo có số liệu về nhiệm vụ này."]
        if f.history:
            lines = [f"{HISTORY_NOTE}: trong {f.period_label}, có số liệu của {_reported(f)} về nhiệm vụ này."]
        for code in indicator_codes(plan, section):
            label, unit = f.indicators[code]
            lines.append(indicator_sentence(label, unit, f.comparisons.get(code, ComparisonV1())))
        if quoted:
            lines.append(f"Có {len(quoted)} đơn vị nêu kết quả cụ thể (chi tiết tại Phụ lục II).")
        return "\n".join(lines)
    if section.kind == "assessment" and f.history:
        return (
            f"{HISTORY_NOTE}: {f.period_label} là kỳ trước khi tỉnh bắt đầu theo dõi việc gửi báo cáo; số liệu "
            f"của {_reported(f)} do văn phòng nhập, không đánh giá việc chấp hành chế độ báo cáo."
        )
    if section.kind == "assessment":
        d = f.discipline
        good = [f"Ưu điểm: {_reported(f)} đã gửi báo cáo, trong đó {d.on_time} đơn vị gửi đúng hạn."]
        rising = [
            f.indicators[code][0].lower()
            for code, c in f.comparisons.items()
            if c.total is not None and c.previous is not None and c.total > c.previous
        ]
        if rising:
            good.append(f"Tăng so với kỳ trước: {', '.join(rising)}.")
        weak = []
        if d.late_units:
            weak.append(f"{d.late} đơn vị gửi báo cáo muộn ({_names(d.late_units)})")
        if d.missing_units:
            weak.append(f"{d.missing} đơn vị chưa gửi báo cáo ({_names(d.missing_units)})")
        if d.pending:
            weak.append(f"{d.pending} đơn vị chưa đến hạn gửi")
        good.append("Hạn chế: " + ("; ".join(weak) + "." if weak else "không có đơn vị chậm hoặc thiếu báo cáo."))
        return "\n".join(good)
    if section.kind == "direction":
        lines = [
            f"Tiếp tục triển khai thực hiện Kế hoạch số {f.plan_number}; các đơn vị gửi báo cáo đúng thời hạn.",
        ]
        late = [*f.discipline.late_units, *f.discipline.missing_units]
        if late:
            lines.append(f"Đôn đốc các đơn vị chậm, thiếu báo cáo: {_names(late)}.")
        if quoted:
            lines.append(f"Có {len(quoted)} đơn vị nêu phương hướng cụ thể (chi tiết tại Phụ lục II).")
        return "\n".join(lines)
    if section.kind == "proposals":
        if quoted:
            names = ", ".join(quoted)
            return f"Có {len(quoted)} đơn vị nêu khó khăn, đề xuất, kiến nghị: {names} (chi tiết tại Phụ lục II)."
        return "Các đơn vị không nêu khó khăn, đề xuất, kiến nghị."
    return ""


def sections(
    plan: PlanV1,
    *,
    figures: Figures,
    sources: Sequence[UnitSource],
    edited: Mapping[str, EditedSection],
    names: Mapping[str, str],
) -> list[ReportSectionV1]:
    """Every section: the office's text where it wrote one (flagged when a unit changed what it read), else
    the draft."""
    found = []
    for section in definitions(plan):
        drafted = draft(plan, section, figures)
        saved = edited.get(section.key)
        changes = source_changes(saved.sources, fingerprints(plan, section, sources), names) if saved else []
        found.append(
            ReportSectionV1(
                key=section.key,
                title=section.title,
                kind=section.kind,
                text=saved.text if saved else drafted,
                draft=drafted,
                edited=saved is not None,
                edited_by=saved.edited_by if saved else None,
                edited_at=saved.edited_at if saved else None,
                source_changed=bool(changes),
                source_changes=changes,
                quotes=list(section.quotes),
            )
        )
    return found
