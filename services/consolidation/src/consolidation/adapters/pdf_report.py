"""The consolidated report as a PDF, laid out per Decree 30/2020/NĐ-CP like the Word document: the frozen
copy that is issued and signed.

    body: bytes = render_pdf(report, issued_on=date(2019, 6, 18))

A4, margins top 20, bottom 20, left 30, right 15 mm; Tinos (Times New Roman's metrics) 14 pt, embedded as
subsets. Header: a borderless two-column table, the issuing body over "Số:      /BC-…" on the left, the quốc
hiệu and the underlined tiêu ngữ over "place, ngày … tháng … năm …" on the right. Then BÁO CÁO and its summary,
the sections with each task's figures, the closing line, the recipients (Nơi nhận) and the signer side by
side; on new pages the appendix of the units' figures and the units' own words. A draft carries a boxed
DỰ THẢO at the top of every page; pages from the second on are numbered at the top centre. The wording is
`report_text`'s, the same as the Word document's and the page's. The same report gives the same bytes.
"""

from __future__ import annotations

import io
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, CondPageBreak, Frame, KeepTogether, PageBreak, PageTemplate, Spacer

from baocao_shared.events.reports import ConsolidatedReportV1
from consolidation.adapters import pdf_blocks as b
from consolidation.adapters.report_text import (
    ANNEX_LABEL,
    APPENDIX_LABEL,
    APPENDIX_TITLE,
    DRAFT_MARK,
    NOTHING_REPORTED,
    RECIPIENTS_LABEL,
    TOTAL_ROW,
    FiguresTable,
    ReportText,
    SectionText,
    report_text,
)

PAGE_W, PAGE_H = A4
TOP, BOTTOM, LEFT, RIGHT = 20, 20, 30, 15  # mm
TEXT_W = 210 - LEFT - RIGHT  # 165 mm
HEAD_LEFT, HEAD_RIGHT = 62.0, 103.0  # the quốc hiệu takes ~95 mm at 12 pt bold
SIGN_LEFT, SIGN_RIGHT = 72.0, 93.0  # "PHÓ TRƯỞNG BAN THƯỜNG TRỰC" fits one line at 13 pt bold
FIGURE_W = 24.0  # mm, each of a task's four columns of numbers (the indicator takes the rest)
KEEP_WITH_HEADING = 30 * mm  # a heading and the first three lines under it
CELL_PAD = 0.8  # mm, left and right in the appendix's cells
MIN_NAME = 30.0  # mm, the narrowest the units' names get in the appendix
NO_PADDING = {"leftPadding": 0, "rightPadding": 0, "topPadding": 0, "bottomPadding": 0}
MARK_Y = PAGE_H - 12 * mm  # the baseline of the page number and of DỰ THẢO, in the top margin


def render_pdf(report: ConsolidatedReportV1, *, issued_on: date, history: bool = False) -> bytes:
    """The report as PDF bytes; `issued_on` fills the date line (the number stays blank for the clerk)."""
    return typeset_pdf(report_text(report, issued_on=issued_on, history=history))


def typeset_pdf(text: ReportText) -> bytes:
    """The PDF of a report's words."""
    b.register_fonts()
    out = io.BytesIO()
    doc = BaseDocTemplate(
        out,
        pagesize=A4,
        title=b.nfc(f"{text.doc_type} {text.summary}"),
        author=b.nfc(text.issuing_body),
        subject=b.nfc(text.summary),
        creator="Baocao",
        producer="Baocao",
        lang="vi-VN",
        displayDocTitle=1,
        invariant=1,  # no creation time nor random id: the same words give the same bytes
        pageCompression=1,
        initialFontName=b.REGULAR,  # not Helvetica: no font the reader would substitute
    )
    # The frame is the text area itself: reportlab's default 6 pt padding would narrow the margins' text
    # and let a table of the full text width overhang them.
    frame = Frame(LEFT * mm, BOTTOM * mm, TEXT_W * mm, PAGE_H - (TOP + BOTTOM) * mm, id="text", **NO_PADDING)
    doc.addPageTemplates([PageTemplate("page", [frame], onPage=lambda canvas, _doc: _page_marks(canvas, text))])
    doc.build([*_header(text), *_body(text), _signature(text), *_appendix(text), *_annex(text)])
    return out.getvalue()


def _page_marks(canvas: Canvas, text: ReportText) -> None:
    """The page number from the second page on (top centre); a boxed DỰ THẢO on every page of a draft."""
    canvas.saveState()
    page = canvas.getPageNumber()
    if page > 1:
        canvas.setFont(b.REGULAR, 13)
        canvas.drawCentredString(LEFT * mm + TEXT_W * mm / 2, MARK_Y, str(page))
    if text.draft:
        mark, size = b.nfc(DRAFT_MARK), 12
        width = b.text_width(mark, size, bold=True)
        right = PAGE_W - RIGHT * mm
        canvas.setFont(b.BOLD, size)
        canvas.drawRightString(right - 2 * mm, MARK_Y, mark)
        canvas.setLineWidth(0.8)
        canvas.rect(right - width - 4 * mm, MARK_Y - 1.6 * mm, width + 4 * mm, size + 1.6 * mm)
    canvas.restoreState()


def _header(text: ReportText) -> list:
    body_rule = b.Rule(22 * mm)  # a third to a half of the issuing body's line
    motto_rule = b.Rule(b.text_width(text.tieu_ngu, 13, bold=True))  # as long as the tiêu ngữ
    rows = [
        [
            [b.cell(text.issuing_body, 13, bold=True), body_rule],
            [b.cell(text.quoc_hieu, 12, bold=True), b.cell(text.tieu_ngu, 13, bold=True), motto_rule],
        ],
        [
            b.cell(text.number_line, 13, before=6),
            b.cell(text.date_line, 14, italic=True, before=6),
        ],
    ]
    title = [
        b.table(rows, [HEAD_LEFT, HEAD_RIGHT], grid=False),
        b.para(text.doc_type, 14, bold=True, align=b.CENTER, before=18),
    ]
    if text.replaces:  # published again: the line under the title names the document it replaces
        return [*title, b.para(text.summary, 14, bold=True, align=b.CENTER), b.para(
            text.replaces, 13, italic=True, align=b.CENTER, after=18)]  # fmt: skip
    return [*title, b.para(text.summary, 14, bold=True, align=b.CENTER, after=18)]


def _heading(content: str, *, bold: bool = True, italic: bool = False) -> list:
    """A heading that never ends a page: a new page unless it and a few lines after it fit (keepWithNext
    would move a heading's whole next paragraph along, leaving half a page blank)."""
    return [CondPageBreak(KEEP_WITH_HEADING), b.body(content, bold=bold, italic=italic, before=6 if bold else 0)]


def _figures(figures: FiguresTable) -> list:
    """A task's indicators over time (now, before, a year ago, so far this year), and what each column covers."""
    widths = [TEXT_W - 4 * FIGURE_W] + [FIGURE_W] * 4
    rows = [[b.cell(head, 11, bold=True) for head in figures.header]]
    for label, *values in figures.rows:
        rows.append([b.cell(label, 11, align=b.LEFT), *(b.cell(v, 11, align=b.RIGHT) for v in values)])
    grid = b.table(rows, widths, grid=True, padding=0.8 * mm, repeatRows=1)
    grid.setStyle([("VALIGN", (0, 0), (-1, 0), "MIDDLE")])
    note = [b.para(figures.note, 11, italic=True, align=b.JUSTIFY, before=3)] if figures.note else []
    return [Spacer(1, 2), KeepTogether([grid, *note]), Spacer(1, 6)]  # the note never parts from its table


def _section(section: SectionText) -> list:
    found = [*_heading(section.heading), *(b.body(line) for line in section.paragraphs or [NOTHING_REPORTED])]
    if section.figures is not None:
        found += _figures(section.figures)
    return found


def _body(text: ReportText) -> list:
    story = [*_heading(text.results_heading), b.body(text.intro)]
    for section in text.results:
        story += _section(section)
    story += _heading(text.discipline_heading)
    story += [b.body(line) for line in text.discipline]
    for section in text.closing_sections:
        story += _section(section)
    return story


def _signature(text: ReportText) -> KeepTogether:
    """The closing line, then Nơi nhận (bold italic 12 pt, recipients 11 pt) left and the signer right."""
    left = [b.para(RECIPIENTS_LABEL, 12, bold=True, italic=True, align=b.LEFT)]
    # a wrapped recipient hangs after its dash
    left += [b.para(line, 11, align=b.LEFT, left=2.5 * mm, indent=-2.5 * mm, leading=13) for line in text.recipients]
    right = [b.cell(line, 13, bold=True) for line in text.signer_position or [""]]
    right += [Spacer(1, 4 * 14 * b.LINE), b.cell(text.signer_name, 13, bold=True)]  # room for signature and seal
    return KeepTogether([b.body(text.closing, after=12), b.table([[left, right]], [SIGN_LEFT, SIGN_RIGHT], grid=False)])


def _appendix(text: ReportText) -> list:
    """On a new page: units × indicators, two header rows repeated on every page, and the TỔNG CỘNG row."""
    data = text.appendix
    if not data.columns:
        return []
    count = len(data.columns)
    size, head = (10, 8) if count > 6 else (11, 10)
    value_w = _value_width(data, size)
    while value_w * count > TEXT_W - 10 - MIN_NAME and size > 7:  # very large numbers: a smaller size
        size, head = size - 1, min(head, size - 1)
        value_w = _value_width(data, size)
    name_w = TEXT_W - 10 - value_w * count
    last = 1 + len(data.columns)
    top = [b.cell("STT", head, bold=True), b.cell("Đơn vị", head, bold=True)] + [""] * len(data.columns)
    sub = ["", ""] + [b.cell(c.label + (f" ({c.unit})" if c.unit else ""), head, bold=True) for c in data.columns]
    spans = [("SPAN", (0, 0), (0, 1)), ("SPAN", (1, 0), (1, 1))]
    start = 2
    for number, span in data.groups:
        top[start] = b.cell(f"Nhiệm vụ {number}", head, bold=True)
        spans.append(("SPAN", (start, 0), (start + span - 1, 0)))
        start += span
    rows = [top, sub]
    for n, (name, values) in enumerate(data.rows, 1):
        cells = [b.cell(str(n), size), b.cell(name.strip() or "-", size, align=b.LEFT)]
        rows.append(cells + [b.cell(v, size, align=b.RIGHT) for v in values])
    total = [b.cell(TOTAL_ROW, size, bold=True), ""] + [b.cell(v, size, bold=True, align=b.RIGHT) for v in data.total]
    rows.append(total)
    spans.append(("SPAN", (0, len(rows) - 1), (1, len(rows) - 1)))
    grid = b.table(rows, [10.0, name_w] + [value_w] * len(data.columns), grid=True, padding=CELL_PAD * mm, repeatRows=2)
    grid.setStyle([*spans, ("VALIGN", (0, 0), (last, 1), "MIDDLE")])
    return [
        PageBreak(),
        b.para(APPENDIX_LABEL, 14, bold=True, align=b.CENTER),
        b.para(APPENDIX_TITLE.upper(), 13, bold=True, align=b.CENTER),
        b.para(text.appendix_note, 13, italic=True, align=b.CENTER, after=12),
        grid,
    ]


def _value_width(data, size: float) -> float:
    """A column of numbers as narrow as its widest number allows (the units' names then wrap little), at
    least 11 mm and at most 16 mm, or narrower where the columns would leave the names too little room."""
    widest = max(b.text_width(v, size, bold=True) for v in [*data.total, *(v for _, row in data.rows for v in row)])
    fits = widest / mm + 2 * CELL_PAD + 0.5
    wanted = min(16.0, max(11.0, (TEXT_W - 10 - 50) / len(data.columns)))
    return max(fits, min(wanted, (TEXT_W - 10 - MIN_NAME) / len(data.columns)))


def _annex(text: ReportText) -> list:
    """On a new page: each unit's own words, under the titles of the parts it wrote."""
    if not text.annex:
        return []
    story: list = [
        PageBreak(),
        b.para(ANNEX_LABEL, 14, bold=True, align=b.CENTER),
        b.para(text.annex_title.upper(), 13, bold=True, align=b.CENTER),
        b.para(text.appendix_note, 13, italic=True, align=b.CENTER, after=12),
    ]
    for n, unit in enumerate(text.annex, 1):
        story += _heading(f"{n}. {unit.unit_name}")
        for title, lines in unit.parts:
            story += _heading(f"{title}:", bold=False, italic=True)
            story += [b.body(line) for line in lines]
    return story
