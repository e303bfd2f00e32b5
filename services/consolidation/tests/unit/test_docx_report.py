"""The Word report, opened again with python-docx: Decree 30/2020 layout, the same numbers, text kept as text."""

import importlib.util
import io
import re
import shutil
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from lxml import etree

from consolidation.adapters.docx_report import render_docx
from consolidation.adapters.report_text import date_line, vn_number

_spec = importlib.util.spec_from_file_location("report_sample", Path(__file__).with_name("report_sample.py"))
sample = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sample)

ISSUED = date(2019, 6, 18)
HEADINGS = [
    "I. KẾT QUẢ THỰC HIỆN CÁC NHIỆM VỤ TRỌNG TÂM",
    "II. TÌNH HÌNH CHẤP HÀNH CHẾ ĐỘ BÁO CÁO",
    "III. ĐÁNH GIÁ CHUNG",
    "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ THÁNG TỚI",
    "V. ĐỀ XUẤT, KIẾN NGHỊ",
]


def opened(report=None):
    body = render_docx(report or sample.sample_report(), issued_on=ISSUED)
    return Document(io.BytesIO(body)), body


@pytest.fixture(scope="module")
def rendered():
    return opened()


@pytest.fixture(scope="module")
def doc(rendered):
    return rendered[0]


def texts(doc) -> list[str]:
    return [p.text for p in doc.paragraphs]


def between(doc, start: str, end: str | None) -> list[str]:
    lines = texts(doc)
    first = lines.index(start)
    return lines[first + 1 : lines.index(end) if end else None]


def test_the_header_is_a_borderless_two_column_table_issuing_body_left_quoc_hieu_right(doc):
    header = doc.tables[0]
    assert len(header.columns) == 2
    left, right = header.cell(0, 0), header.cell(0, 1)
    assert left.paragraphs[0].text == "BAN CHỈ ĐẠO NHÂN QUYỀN TỈNH HẢI DƯƠNG"
    assert left.paragraphs[0].runs[0].bold
    assert [p.text for p in right.paragraphs[:2]] == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
    ]
    assert all(p.runs[0].bold for p in right.paragraphs[:2])
    # a short rule (a paragraph's bottom border) under the issuing body and under the tiêu ngữ
    for cell in (left, right):
        assert cell.paragraphs[-1]._p.find(f".//{qn('w:pBdr')}/{qn('w:bottom')}") is not None
    borders = header._tbl.tblPr.find(qn("w:tblBorders"))
    assert {b.get(qn("w:val")) for b in borders} == {"nil"}


def test_number_and_date_lines_under_each_column(doc):
    number, place = doc.tables[0].cell(1, 0), doc.tables[0].cell(1, 1)
    assert re.fullmatch(r"Số:\s+/BC-BCĐNQ", number.text)  # the number itself is left for the clerk
    assert place.text == "Hải Dương, ngày 18 tháng 6 năm 2019"
    assert place.paragraphs[0].runs[0].italic


def test_decree_30_zero_pads_days_below_10_and_months_1_and_2():
    assert date_line("Hải Dương", date(2020, 2, 5)) == "Hải Dương, ngày 05 tháng 02 năm 2020"
    assert date_line("Hải Dương", date(2019, 11, 30)) == "Hải Dương, ngày 30 tháng 11 năm 2019"


def test_title_and_summary_are_centred_bold_with_the_month(doc):
    paragraphs = doc.paragraphs
    title = next(p for p in paragraphs if p.text == "BÁO CÁO")
    summary = next(p for p in paragraphs if p.text == "Kết quả công tác bảo đảm nhân quyền tháng 06/2019")
    for p in (title, summary):
        assert p.alignment == WD_ALIGN_PARAGRAPH.CENTER
        assert p.runs[0].bold
    assert title.runs[0].font.size.pt == 14


def test_sections_one_to_four_in_order_after_the_title(doc):
    lines = texts(doc)
    positions = [lines.index(h) for h in HEADINGS]
    assert positions == sorted(positions)
    assert lines.index("BÁO CÁO") < positions[0]


def test_section_one_has_the_offices_words_per_task_with_its_figures_over_time(doc):
    part = between(doc, HEADINGS[0], HEADINGS[1])
    for number, (_, title, _) in enumerate(sample.TASKS, 1):
        assert f"{number}. {title}" in part
    assert "Các đơn vị quán triệt đầy đủ Chỉ thị 44." in part
    assert "Công an tỉnh tổ chức nhiều hội nghị nhất." in part  # a second line stays a paragraph of its own
    assert not any(line.startswith("Công an tỉnh: ") for line in part)  # the units' words are in the annex
    grid = next(t for t in doc.tables if t.rows[0].cells[0].text == "Chỉ tiêu")
    assert [c.text for c in grid.rows[0].cells][1:] == ["Kỳ này (06/2019)", "Kỳ trước", "Cùng kỳ 2018", "Lũy kế 2019"]
    first = [c.text for c in grid.rows[1].cells]
    sessions = sample.TOTALS["t1_sessions"]
    expected = [vn_number(sessions), vn_number(sessions - 1), "-", vn_number(sessions * 6)]
    assert first == ["Số hội nghị, buổi quán triệt (buổi)", *expected]
    assert any("kỳ này tổng hợp từ báo cáo của 4/6 đơn vị; kỳ trước của 5 đơn vị" in line for line in part)
    assert "Dấu “-”: kỳ đó không có đơn vị nào báo cáo." in part  # a year ago: nobody reported


def test_the_annex_carries_each_units_own_words(doc):
    annex = between(doc, "NỘI DUNG BÁO CÁO CỦA CÁC ĐƠN VỊ", None)
    assert "Tổ chức 4 hội nghị quán triệt Chỉ thị 44 cho cán bộ, chiến sĩ toàn lực lượng." in annex
    assert "Các xã đã lập kế hoạch riêng." in annex
    assert "1. Công an tỉnh" in annex


def test_the_script_in_a_narrative_is_plain_text(rendered):
    doc, body = rendered
    assert any("Ghi chú kỹ thuật: <script>alert(1)</script>" in line for line in texts(doc))
    xml = zipfile.ZipFile(io.BytesIO(body)).read("word/document.xml").decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in xml
    assert "<script>" not in xml


def test_section_two_names_the_late_and_the_missing_units_with_the_figures(doc):
    part = " ".join(between(doc, HEADINGS[1], HEADINGS[2]))
    assert "Tổng số đơn vị phải gửi báo cáo: 6; gửi đúng hạn: 3; gửi muộn: 1; chưa gửi: 2." in part
    assert "UBND huyện Thanh Hà (muộn 2 ngày 3 giờ)" in part
    assert "UBND huyện Tứ Kỳ; Sở Tư pháp" in part
    assert "trước 00:00 ngày 16/06/2019" in part  # the deadline in Hải Dương's time, not UTC


def test_the_general_sections_follow_section_two_in_the_plans_order(doc):
    assert between(doc, HEADINGS[2], HEADINGS[3]) == [
        "Ưu điểm: các đơn vị báo cáo đầy đủ.",
        "Hạn chế: còn hai đơn vị chưa báo cáo.",
    ]
    five = between(doc, HEADINGS[4], None)
    assert five[0] == "Đề nghị bố trí kinh phí cho công tác tuyên truyền."
    assert "Trên đây là báo cáo kết quả công tác bảo đảm nhân quyền tháng 06/2019./." in five


def test_the_appendix_total_row_equals_the_totals_and_the_units_add_up_to_it(doc):
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "STT")
    header = [c.text for c in table.rows[1].cells]
    assert header[2] == "Số hội nghị, buổi quán triệt (buổi)"
    for row in table.rows[:2]:
        assert row._tr.trPr.find(qn("w:tblHeader")) is not None  # repeated on every page
    names = [row.cells[1].text for row in table.rows[2:-1]]
    assert names == [name for _, name, _ in sample.UNITS]
    total = [c.text for c in table.rows[-1].cells]
    assert total[0] == "TỔNG CỘNG"
    assert total[2:] == [vn_number(sample.TOTALS[code]) for code in sample.CODES]
    for i in range(len(sample.CODES)):
        column = [int(row.cells[2 + i].text.replace(".", "")) for row in table.rows[2:-1]]
        assert sum(column) == int(total[2 + i].replace(".", ""))
    assert "Phụ lục I" in texts(doc) and "SỐ LIỆU CỦA CÁC ĐƠN VỊ" in texts(doc)


def test_recipients_bottom_left_and_the_signer_bottom_right(doc):
    signature = next(t for t in doc.tables if t.cell(0, 0).paragraphs[0].text == "Nơi nhận:")
    left, right = signature.cell(0, 0), signature.cell(0, 1)
    assert left.paragraphs[0].text == "Nơi nhận:"
    run = left.paragraphs[0].runs[0]
    assert run.bold and run.italic and run.font.size.pt == 12
    assert [p.text for p in left.paragraphs[1:]] == [f"- {r}" for r in sample.sample_report().recipients]
    lines = [p.text for p in right.paragraphs]
    assert lines[:2] == ["KT. TRƯỞNG BAN", "PHÓ TRƯỞNG BAN THƯỜNG TRỰC"]
    assert lines[-1] == "Hà Xuân Duy"
    assert lines[2:-1] == [""] * 4  # room for the signature
    assert all(p.runs[0].bold for p in right.paragraphs if p.text)


# The schema's order of the children of the properties the renderer writes by hand (ECMA-376, part 1).
SEQUENCES = {
    "tblPr": "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc tblCellSpacing "
    "tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption tblDescription",
    "pPr": "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd tabs "
    "suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi adjustRightInd "
    "snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection textAlignment "
    "textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange",
    "rPr": "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof snapToGrid "
    "vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText vertAlign rtl cs em "
    "lang eastAsianLayout specVanish oMath",
}


def test_hand_written_properties_are_in_schema_order_so_word_opens_the_file(rendered):
    archive = zipfile.ZipFile(io.BytesIO(rendered[1]))
    parts = [n for n in archive.namelist() if re.fullmatch(r"word/(document|header\d+|styles)\.xml", n)]
    for part in parts:
        root = etree.fromstring(archive.read(part))
        for name, sequence in SEQUENCES.items():
            order = {tag: i for i, tag in enumerate(sequence.split())}
            for props in root.iter(qn(f"w:{name}")):
                tags = [etree.QName(child).localname for child in props]
                assert all(tag in order for tag in tags), (part, name, tags)
                indexes = [order[tag] for tag in tags]
                assert indexes == sorted(set(indexes)), (part, name, tags)  # in order, none twice


def test_a4_with_the_decrees_margins(doc):
    section = doc.sections[0]
    expected = {
        "page_width": 210,
        "page_height": 297,
        "top_margin": 20,
        "bottom_margin": 20,
        "left_margin": 30,
        "right_margin": 15,
    }
    for name, mm in expected.items():
        assert abs(getattr(section, name).mm - mm) < 0.5, name


def test_normal_style_is_times_new_roman_13_to_14_pt_for_every_script(doc):
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman"
    assert 13 <= normal.font.size.pt <= 14
    fonts = normal.element.rPr.find(qn("w:rFonts"))
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        assert fonts.get(qn(attr)) == "Times New Roman"
    body = next(p for p in doc.paragraphs if p.text.startswith("Tổng hợp từ báo cáo"))
    assert body.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY and body.paragraph_format.first_line_indent.mm >= 10


def test_until_published_the_report_says_du_thao_on_every_page(doc):
    section = doc.sections[0]
    assert "DỰ THẢO" in section.first_page_header.paragraphs[0].text
    assert "DỰ THẢO" in section.header.paragraphs[0].text
    approved = opened(sample.sample_report("approved"))[0].sections[0]  # approved, not yet numbered nor signed
    assert "DỰ THẢO" in approved.first_page_header.paragraphs[0].text
    published = opened(sample.sample_report("published"))[0].sections[0]
    assert "DỰ THẢO" not in published.first_page_header.paragraphs[0].text + published.header.paragraphs[0].text


def test_a_month_without_reports_still_renders_without_an_appendix_row():
    doc, _ = opened(sample.sample_report(units=[]))
    assert "Tổng hợp từ báo cáo" not in " ".join(texts(doc))
    appendix = next(t for t in doc.tables if t.rows[0].cells[0].text == "STT")
    assert appendix.rows[-1].cells[0].text == "TỔNG CỘNG"
    assert len(appendix.rows) == 3  # two header rows and the totals


LIBREOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
POPPLER = shutil.which("pdftotext") and shutil.which("pdfinfo")


def test_libreoffice_opens_it_as_pages_that_read_bao_cao(rendered, tmp_path):
    """An extra check with a real office suite: the file converts to PDF and its text reads right."""
    if not LIBREOFFICE or not POPPLER:
        pytest.skip("soffice or pdftotext/pdfinfo is not installed (apt-get install libreoffice-writer poppler-utils)")
    source = tmp_path / "bao-cao.docx"
    source.write_bytes(rendered[1])
    profile = f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}"
    convert = [LIBREOFFICE, profile, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)]
    subprocess.run(convert, check=True, capture_output=True, timeout=240)
    pdf = tmp_path / "bao-cao.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages > 0
    assert "595" in info and "841" in info  # A4 in points
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "BÁO CÁO" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert "<script>alert(1)</script>" in text
