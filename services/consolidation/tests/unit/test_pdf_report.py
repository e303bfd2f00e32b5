"""The PDF report, read again with pypdf: Decree 30/2020's header, the same words as the Word document, the
Tinos fonts embedded, DỰ THẢO on every page of a draft, page numbers, the appendix, and the same bytes
for the same report."""

import io
import unicodedata

import pytest
from pypdf import PdfReader

from consolidation.adapters.pdf_report import render_pdf
from services.consolidation.tests.unit.office_report_sample import ISSUED, report

NUMBER = "3/BC-BCĐNQ"


def pages(pdf: bytes) -> list[str]:
    return [unicodedata.normalize("NFC", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def draft() -> bytes:
    return render_pdf(report("approved"), issued_on=ISSUED)  # a draft until it is published


@pytest.fixture(scope="module")
def published() -> bytes:
    return render_pdf(report("published", number=NUMBER), issued_on=ISSUED)


def test_the_first_page_has_the_header_the_title_and_the_issuing_body(published):
    first = pages(published)[0]
    for line in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Hải Dương, ngày 18 tháng 6 năm 2019",
        "BÁO CÁO",
        "Kết quả công tác bảo đảm nhân quyền tháng 06/2019",
        "I. KẾT QUẢ THỰC HIỆN CÁC NHIỆM VỤ TRỌNG TÂM",
    ):
        assert line in first
    assert "BAN CHỈ ĐẠO NHÂN QUYỀN TỈNH HẢI DƯƠNG" in " ".join(first.split())  # it wraps in its column
    assert f"Số: {NUMBER}" in first


def test_every_section_recipient_and_the_signer_are_there_in_order(published):
    text = " ".join(" ".join(pages(published)).split())
    order = [
        "I. KẾT QUẢ THỰC HIỆN CÁC NHIỆM VỤ TRỌNG TÂM",
        "1. Quán triệt, phổ biến Chỉ thị 44",
        "II. TÌNH HÌNH CHẤP HÀNH CHẾ ĐỘ BÁO CÁO",
        "III. ĐÁNH GIÁ CHUNG",
        "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ THÁNG TỚI",
        "Trên đây là báo cáo",
        "Nơi nhận:",
        "- Văn phòng Thường trực BCĐNQ của Chính phủ;",
        "PHÓ TRƯỞNG BAN THƯỜNG TRỰC",
        "Hà Xuân Duy",
        "SỐ LIỆU CỦA CÁC ĐƠN VỊ",
        "NỘI DUNG BÁO CÁO CỦA CÁC ĐƠN VỊ",
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)


def test_the_appendix_starts_a_new_page_with_each_units_figures_and_the_total(published):
    texts = pages(published)
    assert len(texts) > 1
    (page,) = [t for t in texts if "SỐ LIỆU CỦA CÁC ĐƠN VỊ" in t]
    assert "Hà Xuân Duy" not in page
    for name in ("Sở Thông tin và Truyền thông", "UBND huyện Nam Sách", "TỔNG CỘNG", "1.250", "2.645"):
        assert name in page


def test_a_figures_table_follows_its_task(published):
    text = " ".join(" ".join(pages(published)).split())
    first = text.index("1. Quán triệt")
    assert text.index("Kỳ này (06/2019) Kỳ trước Cùng kỳ 2018 Lũy kế 2019", first) < text.index("2. Tuyên truyền")
    assert "Số liệu kỳ này tổng hợp từ báo cáo của 4/6 đơn vị" in text  # once, in section I's introduction
    assert text.count("tổng hợp từ báo cáo của 4/6 đơn vị") == 1


def test_pages_from_the_second_on_are_numbered_at_the_top(published):
    texts = pages(published)
    assert not texts[0].startswith("1")
    for number, text in enumerate(texts[1:], 2):
        assert text.split("\n")[0].strip() == str(number)


def test_a_draft_says_du_thao_on_every_page_and_a_published_report_nowhere(draft, published):
    assert all("DỰ THẢO" in text for text in pages(draft))
    assert not any("DỰ THẢO" in text for text in pages(published))


def test_the_tinos_fonts_are_embedded_as_subsets(published):
    fonts = {}
    for page in PdfReader(io.BytesIO(published)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font
    names = {name.split("+")[-1] for name in fonts}
    assert {"Tinos-Regular", "Tinos-Bold", "Tinos-Italic", "Tinos-BoldItalic"} <= names
    for name, font in fonts.items():
        assert name.split("+")[-1].startswith("Tinos"), name  # no standard font the reader would substitute
        assert "/FontFile2" in font["/FontDescriptor"], name


def test_text_is_text_not_markup(published):
    text = " ".join(" ".join(pages(published)).split())
    assert "Ghi chú kỹ thuật: <script>alert(1)</script>" in text  # a unit's words, in the annex


def test_decomposed_vietnamese_is_drawn_precomposed():
    """A name typed as letters and combining marks is drawn with the font's precomposed glyphs (NFC)."""
    decomposed = report("published").model_copy(update={"signer_name": unicodedata.normalize("NFD", "Nguyễn Thị Vân")})
    pdf = render_pdf(decomposed, issued_on=ISSUED)
    raw = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)  # not normalised here
    assert "Nguyễn Thị Vân" in raw


def test_the_same_report_gives_the_same_bytes(published):
    assert render_pdf(report("published", number=NUMBER), issued_on=ISSUED) == published


def test_the_document_says_what_it_is(published):
    meta = PdfReader(io.BytesIO(published)).metadata
    assert meta.title == "BÁO CÁO Kết quả công tác bảo đảm nhân quyền tháng 06/2019"
    assert meta.author == "BAN CHỈ ĐẠO NHÂN QUYỀN TỈNH HẢI DƯƠNG"
