"""The consolidated report as a Word document, laid out per Decree 30/2020/NĐ-CP (Art. 8, Appendix I).

    body: bytes = render_docx(report, issued_on=date(2019, 6, 18))

A4, margins top 20, bottom 20, left 30, right 15 mm; Times New Roman 14 pt, line spacing 1.15. Header: a
borderless two-column table, the issuing body over "Số:      /BC-…" on the left, the quốc hiệu and tiêu
ngữ over "place, ngày … tháng … năm …" on the right. Then BÁO CÁO and its summary, sections I–IV, the
closing line, the recipients (Nơi nhận) and the signer side by side, and after them, on a new page, the
appendix of the units' figures. A draft carries a boxed DỰ THẢO in the page header of every page; pages
from the second on are numbered at the top centre. The wording comes from `report_text`, shared with the
web page; python-docx stores it as text, so nothing in it is markup.
"""

from __future__ import annotations

import copy
import io
from datetime import date

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_BREAK, WD_TAB_ALIGNMENT
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from baocao_shared.events.reports import ConsolidatedReportV1
from consolidation.adapters import docx_blocks as b
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

BODY_PT = 14
PAGE_W, PAGE_H = 210, 297  # mm, A4
TOP, BOTTOM, LEFT, RIGHT = 20, 20, 30, 15  # mm
TEXT_W = PAGE_W - LEFT - RIGHT  # 165 mm
HEAD_LEFT, HEAD_RIGHT = 62.0, 103.0  # the quốc hiệu takes ~95 mm at 12 pt bold
SIGN_LEFT, SIGN_RIGHT = 72.0, 93.0  # "PHÓ TRƯỞNG BAN THƯỜNG TRỰC" fits one line at 13 pt bold
NO_INDENT = Mm(0)


def render_docx(report: ConsolidatedReportV1, *, issued_on: date, history: bool = False) -> bytes:
    """The report as .docx bytes; `issued_on` fills the date line, the register's number the number line."""
    text = report_text(report, issued_on=issued_on, history=history)
    doc = Document()
    _page_setup(doc, text)
    _header(doc, text)
    _body(doc, text)
    _signature(doc, text)
    _appendix(doc, text)
    _annex(doc, text)
    doc.core_properties.title = f"{text.doc_type} {text.summary}"
    doc.core_properties.author = text.issuing_body
    doc.core_properties.language = "vi-VN"
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _page_setup(doc: DocumentObject, text: ReportText) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE_W), Mm(PAGE_H)
    section.top_margin, section.bottom_margin = Mm(TOP), Mm(BOTTOM)
    section.left_margin, section.right_margin = Mm(LEFT), Mm(RIGHT)
    section.header_distance = section.footer_distance = Mm(10)

    defaults = doc.styles.element.find(qn("w:docDefaults"))
    default_run = defaults.find(qn("w:rPrDefault")) if defaults is not None else None
    if default_run is not None and default_run.find(qn("w:rPr")) is not None:
        b.set_fonts(default_run.find(qn("w:rPr")))
    normal = doc.styles["Normal"]
    normal.font.name = b.FONT
    normal.font.size = Pt(BODY_PT)
    b.set_fonts(normal.element.get_or_add_rPr())
    normal.paragraph_format.line_spacing = 1.15
    normal.paragraph_format.space_before, normal.paragraph_format.space_after = Pt(0), Pt(6)

    # Page numbers from the second page on, at the top centre (Decree 30); DỰ THẢO on every page of a draft.
    section.different_first_page_header_footer = True
    first = section.first_page_header.paragraphs[0]
    first.alignment = b.RIGHT
    numbered = section.header.paragraphs[0]
    numbered.paragraph_format.tab_stops.add_tab_stop(Mm(TEXT_W / 2), WD_TAB_ALIGNMENT.CENTER)
    numbered.paragraph_format.tab_stops.add_tab_stop(Mm(TEXT_W - 1), WD_TAB_ALIGNMENT.RIGHT)
    numbered.add_run("\t")
    b.page_field(numbered)
    numbered.add_run("\t")
    if text.draft:
        for p in (first, numbered):
            b.run(p, f" {DRAFT_MARK} ", bold=True, size=12, boxed=True)


def _header(doc: DocumentObject, text: ReportText) -> None:
    table = b.table(doc, 2, [HEAD_LEFT, HEAD_RIGHT], grid=False)
    left, right = table.rows[0].cells
    b.cell_para(left, text.issuing_body, first=True, bold=True, size=13)
    b.rule(left, HEAD_LEFT, 22)  # a third to a half of the issuing body's line
    b.cell_para(right, text.quoc_hieu, first=True, bold=True, size=12)
    b.cell_para(right, text.tieu_ngu, bold=True, size=13)
    b.rule(right, HEAD_RIGHT, 56)  # as long as the tiêu ngữ
    number, place = table.rows[1].cells
    b.cell_para(number, text.number_line, first=True, before=6, size=13)
    b.cell_para(place, text.date_line, first=True, before=6, italic=True, size=14)

    b.para(doc, text.doc_type, align=b.CENTER, indent=NO_INDENT, before=18, after=0, bold=True, size=14)
    if text.replaces:
        b.para(doc, text.summary, align=b.CENTER, indent=NO_INDENT, after=0, bold=True, size=14)
        b.para(doc, text.replaces, align=b.CENTER, indent=NO_INDENT, after=18, italic=True, size=13)
    else:
        b.para(doc, text.summary, align=b.CENTER, indent=NO_INDENT, after=18, bold=True, size=14)


def _heading(doc: DocumentObject, content: str) -> None:
    b.para(doc, content, before=6, bold=True).paragraph_format.keep_with_next = True


def _figures(doc: DocumentObject, figures: FiguresTable) -> None:
    """A task's indicators over time: a small grid, and under it what each column covers."""
    widths = [TEXT_W - 4 * 24.0] + [24.0] * 4
    table = b.table(doc, 1 + len(figures.rows), widths, grid=True, cell_margin=0.8)
    b.keep_row(table.rows[0], header=True)
    for cell, head in zip(table.rows[0].cells, figures.header, strict=True):
        b.cell_para(cell, head, first=True, bold=True, size=11)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    for row, values in zip(table.rows[1:], figures.rows, strict=True):
        for i, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
            b.cell_para(cell, value, first=True, align=b.LEFT if i == 0 else b.RIGHT, before=1, after=1, size=11)
    if figures.note:
        b.para(doc, figures.note, indent=NO_INDENT, before=3, italic=True, size=11)


def _section(doc: DocumentObject, section: SectionText) -> None:
    _heading(doc, section.heading)
    for line in section.paragraphs or [NOTHING_REPORTED]:
        b.para(doc, line)
    if section.figures is not None:
        _figures(doc, section.figures)


def _body(doc: DocumentObject, text: ReportText) -> None:
    _heading(doc, text.results_heading)
    b.para(doc, text.intro)
    for section in text.results:
        _section(doc, section)
    _heading(doc, text.discipline_heading)
    for line in text.discipline:
        b.para(doc, line)
    for section in text.closing_sections:
        _section(doc, section)
    b.para(doc, text.closing, after=12).paragraph_format.keep_with_next = True


def _signature(doc: DocumentObject, text: ReportText) -> None:
    """Nơi nhận (bold italic 12 pt, recipients 11 pt) bottom left; the signer (bold, centred) bottom right."""
    table = b.table(doc, 1, [SIGN_LEFT, SIGN_RIGHT], grid=False)
    b.keep_row(table.rows[0])
    left, right = table.rows[0].cells
    b.cell_para(left, RECIPIENTS_LABEL, first=True, align=b.LEFT, bold=True, italic=True, size=12)
    for line in text.recipients:  # a wrapped line hangs after its dash
        fmt = b.cell_para(left, line, align=b.LEFT, size=11).paragraph_format
        fmt.left_indent, fmt.first_line_indent = Mm(2.5), Mm(-2.5)
    for i, line in enumerate(text.signer_position or [""]):
        b.cell_para(right, line, first=i == 0, bold=True, size=13)
    for _ in range(4):  # room for the signature and the seal
        b.cell_para(right, size=14)
    b.cell_para(right, text.signer_name, bold=True, size=13)
    for cell in (left, right):
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP


def _appendix(doc: DocumentObject, text: ReportText) -> None:
    """On a new page: units × indicators, two header rows repeated on every page, and the TỔNG CỘNG row."""
    data = text.appendix
    if not data.columns:
        return
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    b.para(doc, APPENDIX_LABEL, align=b.CENTER, indent=NO_INDENT, after=0, bold=True, size=14)
    b.para(doc, APPENDIX_TITLE.upper(), align=b.CENTER, indent=NO_INDENT, after=0, bold=True, size=13)
    b.para(doc, text.appendix_note, align=b.CENTER, indent=NO_INDENT, after=12, italic=True, size=13)

    many = len(data.columns) > 6
    size, head = (10, 8) if many else (11, 10)
    name_w = 38.0 if many else 55.0
    value_w = (TEXT_W - 11 - name_w) / len(data.columns)
    widths = [11.0, name_w] + [value_w] * len(data.columns)
    table = b.table(doc, 4, widths, grid=True, cell_margin=0.8)
    top, sub, model, total = table.rows
    b.keep_row(top, header=True)
    b.keep_row(sub, header=True)
    heads = [top.cells[0].merge(sub.cells[0]), top.cells[1].merge(sub.cells[1])]
    b.cell_para(heads[0], "STT", first=True, bold=True, size=head)
    b.cell_para(heads[1], "Đơn vị", first=True, bold=True, size=head)
    start = 2
    for number, span in data.groups:
        heads.append(top.cells[start].merge(top.cells[start + span - 1]))
        b.cell_para(heads[-1], f"Nhiệm vụ {number}", first=True, bold=True, size=head)
        start += span
    for cell, column in zip(sub.cells[2:], data.columns, strict=True):
        heads.append(cell)
        b.cell_para(cell, column.label + (f" ({column.unit})" if column.unit else ""), first=True, bold=True, size=head)
    for cell in heads:
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    # One formatted row, copied for every unit: python-docx costs ~1 ms a cell, a copy a few µs a row.
    cells = model.cells
    b.cell_para(cells[0], "0", first=True, before=1, after=1, size=size)
    b.cell_para(cells[1], "-", first=True, align=b.LEFT, before=1, after=1, size=size)
    for cell in cells[2:]:
        b.cell_para(cell, "0", first=True, align=b.RIGHT, before=1, after=1, size=size)
    for n, (name, values) in enumerate(data.rows, 1):
        row = copy.deepcopy(model._tr)
        for slot, value in zip(row.iter(qn("w:t")), [str(n), name.strip() or "-", *values], strict=True):
            slot.text = value
        total._tr.addprevious(row)
    model._tr.getparent().remove(model._tr)
    cells = total.cells
    b.cell_para(cells[0].merge(cells[1]), TOTAL_ROW, first=True, before=1, after=1, bold=True, size=size)
    for cell, value in zip(cells[2:], data.total, strict=True):
        b.cell_para(cell, value, first=True, align=b.RIGHT, before=1, after=1, bold=True, size=size)


def _annex(doc: DocumentObject, text: ReportText) -> None:
    """On a new page: each unit's own words, under the titles of the parts it wrote."""
    if not text.annex:
        return
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    b.para(doc, ANNEX_LABEL, align=b.CENTER, indent=NO_INDENT, after=0, bold=True, size=14)
    b.para(doc, text.annex_title.upper(), align=b.CENTER, indent=NO_INDENT, after=0, bold=True, size=13)
    b.para(doc, text.appendix_note, align=b.CENTER, indent=NO_INDENT, after=12, italic=True, size=13)
    for n, unit in enumerate(text.annex, 1):
        _heading(doc, f"{n}. {unit.unit_name}")
        for title, lines in unit.parts:
            b.para(doc, f"{title}:", italic=True).paragraph_format.keep_with_next = True
            for line in lines:
                b.para(doc, line)
