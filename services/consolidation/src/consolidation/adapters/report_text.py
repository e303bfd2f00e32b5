"""What the consolidated report says, word for word: one source for the Word document and the web page.

`report_text(report, issued_on=...)` lays a ConsolidatedReportV1 out as the lines of a Decree 30/2020/NĐ-CP
report (header, title, sections I–IV, recipients, signer, appendix of the units' figures). The Word
renderer (`docx_report`) and the page (`report_html`) only typeset these lines, so both show the same
numbers and the same names. Pure: no I/O, no markup (each renderer escapes or stores text as text).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from baocao_shared.events.reports import (
    ComparisonV1,
    ConsolidatedReportV1,
    CoverageV1,
    DisciplineV1,
    IndicatorTotalV1,
    LateUnitV1,
    ReportSectionV1,
    TaskSectionV1,
)
from consolidation.domain.months import TIMEZONE
from consolidation.domain.periods import HISTORY_NOTE
from consolidation.domain.report import CLOSING_DEFAULTS
from consolidation.domain.workflow import SENT_UP

QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
TIEU_NGU = "Độc lập - Tự do - Hạnh phúc"
DOC_TYPE = "BÁO CÁO"
DRAFT_MARK = "DỰ THẢO"
SECTION_I = "I. KẾT QUẢ THỰC HIỆN CÁC NHIỆM VỤ TRỌNG TÂM"
SECTION_II = "II. TÌNH HÌNH CHẤP HÀNH CHẾ ĐỘ BÁO CÁO"
NOTHING_REPORTED = "Chưa có đơn vị nào báo cáo nội dung này."
RECIPIENTS_LABEL = "Nơi nhận:"
APPENDIX_LABEL = "Phụ lục I"
ANNEX_LABEL = "Phụ lục II"
APPENDIX_TITLE = "Số liệu của các đơn vị"
ANNEX_TITLE = "Nội dung báo cáo của các đơn vị"
TOTAL_ROW = "TỔNG CỘNG"
MISSING_VALUE = "-"
NUMBER_BLANK = "\u00a0" * 6  # the clerk writes the number in by hand when the report is issued


def vn_number(n: int) -> str:
    """1250 → "1.250" (Vietnamese thousands separator)."""
    return f"{n:,}".replace(",", ".")


def vn_percent(part: int, whole: int) -> str:
    """2 of 3 → "66,7%". Rounded to tenths in integers, but never to "100,0%" while one unit is short of it
    (1999 of 2000) nor to "0,0%" once one has done it (1 of 2001)."""
    tenths = (2000 * part + whole) // (2 * whole)  # 1000 * part / whole, half up
    if part < whole:
        tenths = min(tenths, 999)
    if part > 0:
        tenths = max(tenths, 1)
    return f"{tenths // 10},{tenths % 10}%"


def period_parts(period: str) -> tuple[str, str]:
    """("06", "2019") for "2019-06"; a longer period keeps its suffix ("Q2", "2019")."""
    year, _, rest = period.partition("-")
    return rest, year


def summary_title(report: ConsolidatedReportV1) -> str:
    """The trích yếu: the plan's title with {month} and {year} filled in (a no-op when already filled)."""
    month, year = period_parts(report.period)
    return report.title.replace("{month}", month).replace("{year}", year).replace("{period}", report.period)


def number_line(number_code: str) -> str:
    """'Số:      /BC-BCĐNQ': the number stays blank, the clerk fills it in when the report is issued."""
    return f"Số:{NUMBER_BLANK}/{number_code}"


def date_words(day: date) -> str:
    """'ngày 18 tháng 6 năm 2019'; days below 10 and months 1, 2 get a leading zero (Decree 30)."""
    mm = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {mm} năm {day.year}"


def date_line(place_name: str, day: date) -> str:
    """'Hải Dương, ngày 18 tháng 6 năm 2019'."""
    return f"{place_name}, {date_words(day)}"


def indicator_line(indicator: IndicatorTotalV1) -> str:
    unit = f" {indicator.unit}" if indicator.unit else ""
    return f"– {indicator.label}: {vn_number(indicator.total)}{unit}."


def _delay(seconds: int | None) -> str:
    if not seconds or seconds <= 0:
        return ""
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    parts = [f"{days} ngày"] if days else []
    if hours:
        parts.append(f"{hours} giờ")
    if not parts:
        parts.append(f"{max(1, rest // 60)} phút")
    return f" (muộn {' '.join(parts)})"


def _names(units: list[LateUnitV1], *, delay: bool = False) -> str:
    return "; ".join(u.unit_name + (_delay(u.late_by_s) if delay else "") for u in units)


def local_moment(instant: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    return instant.astimezone(ZoneInfo(TIMEZONE)).strftime(fmt) if instant else ""


def discipline_lines(d: DisciplineV1) -> list[str]:
    """Section II: the deadline, the counts and rates, then the late and the missing units by name."""
    lines = []
    if d.due_at:
        due = f"trước {local_moment(d.due_at, '%H:%M')} ngày {local_moment(d.due_at, '%d/%m/%Y')}"
        lines.append(f"Hạn gửi báo cáo của các đơn vị: {due}.")
    counts = (
        f"Tổng số đơn vị phải gửi báo cáo: {vn_number(d.expected)}; gửi đúng hạn: {vn_number(d.on_time)}; "
        f"gửi muộn: {vn_number(d.late)}; chưa gửi: {vn_number(d.missing)}"
    )
    if d.pending:
        counts += f"; chưa đến hạn: {vn_number(d.pending)}"
    lines.append(counts + ".")
    if d.expected:
        rate, on_time = vn_percent(d.on_time + d.late, d.expected), vn_percent(d.on_time, d.expected)
        lines.append(f"Tỷ lệ gửi báo cáo: {rate}; tỷ lệ gửi đúng hạn: {on_time}.")
    if d.late_units:
        lines.append(f"– Các đơn vị gửi muộn ({vn_number(d.late)}): {_names(d.late_units, delay=True)}.")
    elif d.late:
        lines.append(f"– Có {vn_number(d.late)} đơn vị gửi muộn.")
    if d.missing_units:
        closed = " (đã hết thời hạn tiếp nhận)" if d.closed else ""
        lines.append(f"– Các đơn vị chưa gửi báo cáo{closed} ({vn_number(d.missing)}): {_names(d.missing_units)}.")
    elif d.missing:
        lines.append(f"– Có {vn_number(d.missing)} đơn vị chưa gửi báo cáo.")
    if not d.late and not d.missing and not d.pending and d.expected:
        lines.append("– Tất cả các đơn vị đã gửi báo cáo đúng hạn.")
    return lines


@dataclass(frozen=True)
class FiguresTable:
    """A task's indicators over time: [label, now, previous, a year ago, year to date] per row."""

    header: list[str]
    rows: list[list[str]]
    note: str


@dataclass(frozen=True)
class SectionText:
    """A section as printed: its heading, the office's text (or the draft) as paragraphs, its figures."""

    heading: str
    paragraphs: list[str]
    figures: FiguresTable | None = None


@dataclass(frozen=True)
class UnitNarratives:
    """Annex II: one unit's own words, under the title of each part it wrote."""

    unit_name: str
    parts: list[tuple[str, list[str]]]


@dataclass(frozen=True)
class Column:
    task_number: int
    code: str
    label: str
    unit: str | None


@dataclass(frozen=True)
class Appendix:
    """Units × indicators; `groups` are (task number, how many indicator columns) for a spanning header."""

    columns: list[Column]
    groups: list[tuple[int, int]]
    rows: list[tuple[str, list[str]]]
    total: list[str]


@dataclass(frozen=True)
class ReportText:
    draft: bool
    issuing_body: str
    number_line: str
    date_line: str
    summary: str
    replaces: str  # under the title of a report published again; empty otherwise
    intro: str
    results_heading: str
    results: list[SectionText]
    discipline_heading: str
    discipline: list[str]
    closing_sections: list[SectionText]
    closing: str
    recipients: list[str]
    signer_position: list[str]
    signer_name: str
    appendix: Appendix
    appendix_note: str
    annex_title: str
    annex: list[UnitNarratives]
    quoc_hieu: str = QUOC_HIEU
    tieu_ngu: str = TIEU_NGU
    doc_type: str = DOC_TYPE


def appendix(report: ConsolidatedReportV1) -> Appendix:
    columns = [Column(n, i.code, i.label, i.unit) for n, task in enumerate(report.tasks, 1) for i in task.indicators]
    groups = [(n, len(task.indicators)) for n, task in enumerate(report.tasks, 1) if task.indicators]
    rows = [
        (u.unit_name, [vn_number(u.values[c.code]) if c.code in u.values else MISSING_VALUE for c in columns])
        for u in report.units
    ]
    # The report's own totals: the same numbers as section I (they sum the same latest versions).
    total = [vn_number(report.totals.get(c.code, 0)) for c in columns]
    return Appendix(columns, groups, rows, total)


def _lower_first(text: str) -> str:
    """'Kết quả …' → 'kết quả …' inside a sentence; an acronym ('UBND …') keeps its capitals."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\r\n", "\n").split("\n") if p.strip()]


def figures_table(report: ConsolidatedReportV1, task: TaskSectionV1) -> FiguresTable | None:
    """The task's indicators now, before, a year ago and so far this year; '-' where no unit reported."""
    if not task.indicators:
        return None
    coverage = report.coverage
    month, year = period_parts(report.period)
    last_year = coverage.last_year_period if coverage and coverage.last_year_period else ""
    header = [
        "Chỉ tiêu",
        f"Kỳ này ({month}/{year})" if month else f"Kỳ này ({year})",
        "Kỳ trước",
        f"Cùng kỳ {last_year[:4]}" if last_year else "Cùng kỳ năm trước",
        f"Lũy kế {year}",
    ]

    def shown(value: int | None) -> str:
        return MISSING_VALUE if value is None else vn_number(value)

    rows = []
    for i in task.indicators:
        c = report.comparisons.get(i.code, ComparisonV1(total=i.total))
        label = f"{i.label} ({i.unit})" if i.unit else i.label
        rows.append([label, shown(c.total), shown(c.previous), shown(c.last_year), shown(c.year_to_date)])
    missing = any(MISSING_VALUE in row[1:] for row in rows)
    return FiguresTable(header, rows, f"Dấu “{MISSING_VALUE}”: kỳ đó không có đơn vị nào báo cáo." if missing else "")


def coverage_note(c: CoverageV1 | None) -> str:
    """What each column of the figures tables sums: 'Số liệu kỳ này tổng hợp từ báo cáo của 20/24 đơn vị; kỳ
    trước của 22 đơn vị; cùng kỳ năm trước của 18 đơn vị; lũy kế từ 130 báo cáo của 6 kỳ.'"""
    if c is None:
        return ""
    return (
        f"Số liệu kỳ này tổng hợp từ báo cáo của {vn_number(c.total)}/{vn_number(c.expected)} đơn vị; kỳ trước "
        f"của {vn_number(c.previous)} đơn vị; cùng kỳ năm trước của {vn_number(c.last_year)} đơn vị; lũy kế từ đầu "
        f"năm từ {vn_number(c.year_to_date)} báo cáo của {len(c.year_periods)} kỳ."
    )


def _sections(report: ConsolidatedReportV1) -> tuple[list[SectionText], list[SectionText]]:
    """Section I's tasks (each with its figures) and the general sections after section II, numbered III, IV…"""
    tasks = {t.code: t for t in report.tasks}
    by_key = {s.key: s for s in report.sections}
    results, closing = [], []
    task_sections = [s for s in report.sections if s.kind == "task"]
    if not report.sections:  # a snapshot from before the office wrote sections: the tasks and their totals
        for n, task in enumerate(report.tasks, 1):
            results.append(SectionText(f"{n}. {task.title}", [indicator_line(i) for i in task.indicators]))
    for n, section in enumerate(task_sections, 1):
        task = tasks.get(_task_of(section, tasks) or "")
        results.append(
            SectionText(
                f"{n}. {section.title}", paragraphs(section.text), figures_table(report, task) if task else None
            )
        )
    general = [s for s in report.sections if s.kind != "task"]
    for n, section in enumerate(general, 3):
        closing.append(SectionText(f"{ROMAN[n]}. {section.title.upper()}", paragraphs(by_key[section.key].text)))
    if not report.sections:
        labels = {**CLOSING_DEFAULTS, **report.closing_labels}
        for n, (key, items) in enumerate((("difficulties", report.difficulties), ("next_month", report.next_month)), 3):
            lines = [f"{e.unit_name}: {' '.join(paragraphs(e.text))}" for e in items]
            closing.append(SectionText(f"{ROMAN[n]}. {labels[key].upper()}", lines or [NOTHING_REPORTED]))
    return results, closing


def _task_of(section: ReportSectionV1, tasks: dict[str, TaskSectionV1]) -> str | None:
    """The task a task section assesses: the task whose code its quotes name, else the one its key names."""
    for quote in section.quotes:
        if quote in tasks:
            return quote
    upper = section.key.upper()
    return upper if upper in tasks else None


ROMAN = ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]


def annex(report: ConsolidatedReportV1) -> list[UnitNarratives]:
    """Each unit's own words, in the plan's order of units, under the titles of the tasks and closing parts."""
    labels = {**CLOSING_DEFAULTS, **report.closing_labels}
    titled = [(t.title, t.excerpts) for t in report.tasks]
    titled += [(labels["difficulties"], report.difficulties), (labels["next_month"], report.next_month)]
    found: dict[str, list[tuple[str, list[str]]]] = {u.unit_name: [] for u in report.units}
    for title, excerpts in titled:
        for excerpt in excerpts:
            lines = paragraphs(excerpt.text)
            if lines:
                found.setdefault(excerpt.unit_name, []).append((title, lines))
    return [UnitNarratives(name, parts) for name, parts in found.items() if parts]


def number_of(report: ConsolidatedReportV1) -> str:
    """'Số: 3/BC-BCĐNQ' once published; before, the number is left blank."""
    return f"Số: {report.number}" if report.number else number_line(report.number_code)


def replaces_words(report: ConsolidatedReportV1) -> str:
    """'Báo cáo số 3/BC-BCĐNQ ngày 20 tháng 6 năm 2019': the document a report published again replaces."""
    day = f" {date_words(report.replaces_issued_on)}" if report.replaces_issued_on else ""
    return f"Báo cáo số {report.replaces}{day}" if report.replaces else ""


def replaces_line(report: ConsolidatedReportV1) -> str:
    """The line under the title of a report published again: '(Báo cáo này thay thế Báo cáo số ... ngày ...)'."""
    return f"(Báo cáo này thay thế {replaces_words(report)})" if report.replaces else ""


def history_lines() -> list[str]:
    """Section II of a period before tracking: nobody owed it, so nobody is late or missing."""
    return [
        f"{HISTORY_NOTE}: kỳ báo cáo trước khi tỉnh bắt đầu theo dõi việc gửi báo cáo; "
        "không đánh giá việc chấp hành chế độ báo cáo của các đơn vị trong kỳ này."
    ]


def report_text(report: ConsolidatedReportV1, *, issued_on: date, history: bool = False) -> ReportText:
    """The document's lines; `history`: the period is before tracking and its figures are the office's import."""
    summary = summary_title(report)
    issued = date_line(report.place_name, issued_on)
    count = len(report.units)
    intro = (
        f"Tổng hợp từ báo cáo của {vn_number(count)} đơn vị (số liệu của từng đơn vị tại Phụ lục I, nội dung "
        "báo cáo của từng đơn vị tại Phụ lục II)."
        if count
        else "Chưa có đơn vị nào gửi báo cáo trong kỳ."
    )
    if history:
        intro = (
            f"{HISTORY_NOTE}: tổng hợp từ báo cáo của {vn_number(count)} đơn vị (số liệu của từng đơn vị tại "
            "Phụ lục I)."
            if count
            else f"{HISTORY_NOTE}: văn phòng chưa nhập báo cáo của đơn vị nào cho kỳ này."
        )
    if report.coverage is not None and report.sections:
        intro = f"{intro} {coverage_note(report.coverage)}"
    for continued in report.continuity:  # figures of a predecessor plan, before a reorganisation
        intro = f"{intro} {continued.note}"
    results, closing_sections = _sections(report)
    number = report.number or f"{NUMBER_BLANK}/{report.number_code}"
    return ReportText(
        draft=report.status not in SENT_UP,
        issuing_body=report.issuing_body.upper(),
        number_line=number_of(report),
        date_line=issued,
        summary=summary,
        replaces=replaces_line(report),
        intro=intro,
        results_heading=SECTION_I,
        results=results,
        discipline_heading=SECTION_II,
        discipline=history_lines() if history else discipline_lines(report.discipline),
        closing_sections=closing_sections,
        closing=f"Trên đây là báo cáo {_lower_first(summary)}./.",
        recipients=[f"- {r.strip()}" for r in report.recipients if r.strip()],
        signer_position=[line.strip().upper() for line in report.signer_position.splitlines() if line.strip()],
        signer_name=report.signer_name.strip(),
        appendix=appendix(report),
        appendix_note=f"(Kèm theo Báo cáo số {number} {date_words(issued_on)})",
        annex_title=ANNEX_TITLE,
        annex=annex(report),
    )
