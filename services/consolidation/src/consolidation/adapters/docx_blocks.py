"""python-docx building blocks for documents in the Decree 30/2020/NĐ-CP style (used by `docx_report`).

Body paragraphs (justified, first-line indent), centred cell paragraphs, borderless or gridded tables of
fixed column widths, short horizontal rules, header rows repeated on every page. Every element added to
the XML by hand goes in its schema position, so that Word (stricter than LibreOffice) opens the file
without a repair.
"""

from __future__ import annotations

from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph
from docx.text.run import Run

FONT = "Times New Roman"
INDENT = Mm(10)  # first-line indent of body paragraphs (1–1.27 cm)
CENTER = WD_ALIGN_PARAGRAPH.CENTER
LEFT = WD_ALIGN_PARAGRAPH.LEFT
RIGHT = WD_ALIGN_PARAGRAPH.RIGHT
JUSTIFY = WD_ALIGN_PARAGRAPH.JUSTIFY
CELL_MARGINS_MM = 3.8  # Word's default cell margins, left and right together

# What may follow each element in its parent (the schema's sequence).
_FOLLOWING = {
    "w:pBdr": ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:spacing", "w:ind", "w:jc", "w:rPr", "w:sectPr"),
    "w:tblBorders": ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription"),
    "w:tblCellMar": ("w:tblLook", "w:tblCaption", "w:tblDescription"),
    "w:bdr": ("w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout"),
}
_FOLLOWERS = {qn(tag): after for tag, after in _FOLLOWING.items()}


def element(tag: str, **attrs: str):
    made = OxmlElement(tag)
    for name, value in attrs.items():
        made.set(qn(f"w:{name}"), value)
    return made


def insert(parent, child) -> None:
    """Add `child` to `parent` before any element the schema puts after it."""
    parent.insert_element_before(child, *_FOLLOWERS[child.tag])


def set_fonts(rpr) -> None:
    """Times New Roman for every script (ascii, hAnsi, cs and eastAsia), no theme font; language vi-VN."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "vi-VN")


def run(p: Paragraph, content: str, *, bold=False, italic=False, size: float | None = None, boxed=False) -> Run:
    added = p.add_run(content)
    added.bold, added.italic = bold or None, italic or None
    if size:
        added.font.size = Pt(size)
    if boxed:
        insert(added._r.get_or_add_rPr(), element("w:bdr", val="single", sz="8", space="1", color="auto"))
    return added


def para(container, content: str = "", *, align=JUSTIFY, indent=INDENT, after=6, before=0, **fmt) -> Paragraph:
    """A body paragraph (justified, first-line indent, 6 pt after) with one run of `content`."""
    p = container.add_paragraph()
    p.alignment = align
    p.paragraph_format.first_line_indent = indent
    p.paragraph_format.space_before, p.paragraph_format.space_after = Pt(before), Pt(after)
    if content:
        run(p, content, **fmt)
    return p


def cell_para(cell: _Cell, content: str = "", *, first=False, align=CENTER, after=0, before=0, **fmt) -> Paragraph:
    """A single-spaced, centred paragraph in a cell; `first` reuses the cell's empty first paragraph."""
    p = cell.paragraphs[0] if first else cell.add_paragraph()
    p.alignment = align
    p.paragraph_format.first_line_indent = Mm(0)
    p.paragraph_format.space_before, p.paragraph_format.space_after = Pt(before), Pt(after)
    p.paragraph_format.line_spacing = 1.0
    if content:
        run(p, content, **fmt)
    return p


def _borders(tag: str, sides: tuple[str, ...], val: str, size: int):
    borders = OxmlElement(tag)
    for side in sides:
        space = "0" if val == "nil" else "1"
        borders.append(element(f"w:{side}", val=val, sz=str(size), space=space, color="auto"))
    return borders


def rule(cell: _Cell, cell_mm: float, rule_mm: float) -> None:
    """A centred horizontal line `rule_mm` long: the bottom border of a 3 pt paragraph, narrowed by indents."""
    p = cell.add_paragraph()
    insert(p._p.get_or_add_pPr(), _borders("w:pBdr", ("bottom",), "single", 8))
    side = Mm(max(0.0, (cell_mm - CELL_MARGINS_MM - rule_mm) / 2))
    fmt = p.paragraph_format
    fmt.left_indent = fmt.right_indent = side
    fmt.first_line_indent = Mm(0)
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = Pt(3)  # exact
    p.alignment = CENTER


def table(
    doc: DocumentObject, rows: int, widths: list[float], *, grid: bool, cell_margin: float | None = None
) -> Table:
    """A centred table of fixed column widths (mm): gridded, or without any border."""
    made = doc.add_table(rows=rows, cols=len(widths))
    made.alignment = WD_TABLE_ALIGNMENT.CENTER
    made.autofit = False  # python-docx writes <w:tblLayout w:type="fixed"/>
    props = made._tbl.tblPr
    if grid:
        made.style = doc.styles["Table Grid"]
    else:
        insert(props, _borders("w:tblBorders", ("top", "left", "bottom", "right", "insideH", "insideV"), "nil", 0))
    if cell_margin is not None:
        margins = OxmlElement("w:tblCellMar")
        for side in ("left", "right"):
            margins.append(element(f"w:{side}", w=str(round(cell_margin * 56.7)), type="dxa"))
        insert(props, margins)
    for column, width in zip(made.columns, widths, strict=True):
        column.width = Mm(width)
    for row in made.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Mm(width)
    return made


def keep_row(row: _Row, *, header: bool = False) -> None:
    """The row never splits across pages; a header row is repeated on every page of the table."""
    props = row._tr.get_or_add_trPr()
    props.append(OxmlElement("w:cantSplit"))
    if header:
        props.append(OxmlElement("w:tblHeader"))


def page_field(p: Paragraph) -> None:
    """The current page number (a PAGE field; '2' shows until the reader updates fields)."""
    field = element("w:fldSimple", instr="PAGE")
    p._p.append(field)
    field.append(p.add_run("2")._r)
