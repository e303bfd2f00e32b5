"""reportlab building blocks for documents in the Decree 30/2020/NĐ-CP style (used by `pdf_report`).

The vendored Tinos fonts (Times New Roman's metrics, every Vietnamese letter), registered once and embedded
as subsets; paragraph styles by size and weight; text made safe for reportlab's paragraph markup (it is
markup, unlike python-docx's runs) and normalised to NFC, so a letter typed as base + combining marks
draws as the font's precomposed glyph; short centred rules; tables without borders or with a grid.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
FAMILY = "Tinos"
REGULAR, BOLD, ITALIC, BOLD_ITALIC = FAMILY, f"{FAMILY}-Bold", f"{FAMILY}-Italic", f"{FAMILY}-BoldItalic"
CENTER, LEFT, RIGHT, JUSTIFY = TA_CENTER, TA_LEFT, TA_RIGHT, TA_JUSTIFY
LINE = 1.2  # leading per point of size: Word's single spacing of Times New Roman is ~1.15 em, then "1.15"
INDENT = 10 * mm  # first-line indent of body paragraphs (1–1.27 cm)


@cache
def register_fonts() -> str:
    """Register the Tinos family with reportlab (once per process); its name for styles."""
    for name, file in (
        (REGULAR, "Tinos-Regular.ttf"),
        (BOLD, "Tinos-Bold.ttf"),
        (ITALIC, "Tinos-Italic.ttf"),
        (BOLD_ITALIC, "Tinos-BoldItalic.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, str(FONTS_DIR / file)))
    pdfmetrics.registerFontFamily(FAMILY, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC)
    return FAMILY


def font(*, bold: bool = False, italic: bool = False) -> str:
    return {(False, False): REGULAR, (True, False): BOLD, (False, True): ITALIC, (True, True): BOLD_ITALIC}[
        (bold, italic)
    ]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def markup(text: str) -> str:
    """Plain text as reportlab paragraph markup: NFC, &, < and > escaped, line breaks kept."""
    return escape(nfc(text)).replace("\n", "<br/>")


@cache
def style(
    size: float,
    *,
    bold: bool = False,
    italic: bool = False,
    align: int = JUSTIFY,
    indent: float = 0,
    left: float = 0,
    before: float = 0,
    after: float = 0,
    leading: float | None = None,
    keep: bool = False,
) -> ParagraphStyle:
    """A paragraph style; `indent` is the first line's (negative: a hanging line), `keep` keeps it with the next."""
    register_fonts()
    return ParagraphStyle(
        name=f"s{size}{'b' if bold else ''}{'i' if italic else ''}{align}/{indent}/{left}/{before}/{after}/{keep}",
        fontName=font(bold=bold, italic=italic),
        fontSize=size,
        leading=leading or size * LINE,
        alignment=align,
        firstLineIndent=indent,
        leftIndent=left,
        spaceBefore=before,
        spaceAfter=after,
        keepWithNext=keep,
        allowWidows=0,
        allowOrphans=0,
    )


def para(text: str, size: float = 14, **fmt) -> Paragraph:
    """`text` (plain text, never markup) as a paragraph of the given style."""
    return Paragraph(markup(text), style(size, **fmt))


def body(text: str, **fmt) -> Paragraph:
    """A body paragraph: 14 pt, justified, first-line indent, 6 pt after."""
    return para(text, 14, **{"indent": INDENT, "after": 6, **fmt})


def cell(text: str, size: float, **fmt) -> Paragraph:
    """A single-spaced paragraph in a table cell (centred unless told)."""
    return para(text, size, **{"align": CENTER, "leading": size * 1.15, **fmt})


class Rule(Flowable):
    """A centred horizontal line `width` long (the rule under the issuing body and under the tiêu ngữ)."""

    def __init__(self, width: float, *, before: float = 3.5, after: float = 0) -> None:
        super().__init__()
        self.rule_width, self.before, self.after = width, before, after

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.available = available_width
        return available_width, self.before + self.after + 0.5

    def draw(self) -> None:
        x = (self.available - self.rule_width) / 2
        self.canv.setLineWidth(0.6)
        self.canv.line(x, self.after, x + self.rule_width, self.after)


def table(rows: list[list], widths_mm: list[float], *, grid: bool, padding: float = 0, **kw) -> Table:
    """A centred table of fixed column widths (mm), cells on top; gridded, or without any border."""
    register_fonts()
    made = Table(rows, colWidths=[w * mm for w in widths_mm], hAlign="CENTER", **kw)
    commands = [
        ("FONTNAME", (0, 0), (-1, -1), REGULAR),  # what an empty cell is set in: not Helvetica
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), padding),
        ("RIGHTPADDING", (0, 0), (-1, -1), padding),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
    ]
    if grid:
        commands += [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ]
    made.setStyle(TableStyle(commands))
    return made


def text_width(text: str, size: float, *, bold: bool = False, italic: bool = False) -> float:
    register_fonts()
    return pdfmetrics.stringWidth(nfc(text), font(bold=bold, italic=italic), size)
