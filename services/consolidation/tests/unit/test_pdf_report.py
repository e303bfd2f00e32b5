"""The PDF report, read again with pypdf: Decree 30/2020's header, the same words as the Word document, the
Tinos fonts embedded, DỰ THẢO on every page of a draft, page numbers, the appendix, and the same bytes
for the same report."""

import io
import unicodedata

import pytest
from pypdf import PdfReader

from consolidation.adapters.pdf_report import typeset_pdf
from services.consolidation.tests.unit import report_text_sample as words


def pages(pdf: bytes) -> list[str]:
    return [unicodedata.normalize("NFC", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def draft() -> bytes:
    return typeset_pdf(words.report_text(draft=True))


@pytest.fixture(scope="module")
def approved() -> bytes:
    return typeset_pdf(words.report_text(draft=False))


def test_the_first_page_has_the_header_the_title_and_the_issuing_body(approved):
    first = pages(approved)[0]
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
    assert "/BC-BCĐNQ" in first


def test_every_section_recipient_and_the_signer_are_there_in_order(approved):
    text = " ".join(" ".join(pages(approved)).split())
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
        "Ý KIẾN CỦA CÁC ĐƠN VỊ",
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)


def test_the_appendix_starts_a_new_page_with_each_units_figures_and_the_total(approved):
    texts = pages(approved)
    assert len(texts) > 1
    (page,) = [t for t in texts if "SỐ LIỆU CỦA CÁC ĐƠN VỊ" in t]
    assert "Hà Xuân Duy" not in page
    for name in ("Sở Thông tin và Truyền thông", "UBND huyện Nam Sách", "TỔNG CỘNG", "1.250", "2.645"):
        assert name in page


def test_a_figures_table_follows_its_task(approved):
    text = " ".join(" ".join(pages(approved)).split())
    first = text.index("1. Quán triệt")
    assert text.index("Tháng trước", first) < text.index("2. Các đợt tuyên truyền")


def test_pages_from_the_second_on_are_numbered_at_the_top(approved):
    texts = pages(approved)
    assert not texts[0].startswith("1")
    for number, text in enumerate(texts[1:], 2):
        assert text.split("\n")[0].strip() == str(number)


def test_a_draft_says_du_thao_on_every_page_and_an_approved_report_nowhere(draft, approved):
    assert all("DỰ THẢO" in text for text in pages(draft))
    assert not any("DỰ THẢO" in text for text in pages(approved))


def test_the_tinos_fonts_are_embedded_as_subsets(approved):
    fonts = {}
    for page in PdfReader(io.BytesIO(approved)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font
    names = {name.split("+")[-1] for name in fonts}
    assert {"Tinos-Regular", "Tinos-Bold", "Tinos-Italic", "Tinos-BoldItalic"} <= names
    for name, font in fonts.items():
        assert name.split("+")[-1].startswith("Tinos"), name  # no standard font the reader would substitute
        assert "/FontFile2" in font["/FontDescriptor"], name


def test_text_is_text_not_markup(approved):
    text = " ".join(" ".join(pages(approved)).split())
    assert "Tổ chức 4 hội nghị quán triệt Chỉ thị 44 <cho> cán bộ & chiến sĩ." in text


def test_decomposed_vietnamese_is_drawn_precomposed():
    """A name typed as letters and combining marks is drawn with the font's precomposed glyphs (NFC)."""
    text = words.report_text(draft=False)
    decomposed = type(text)(**{**text.__dict__, "signer_name": unicodedata.normalize("NFD", "Nguyễn Thị Hồng Vân")})
    pdf = typeset_pdf(decomposed)
    raw = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)  # not normalised here
    assert "Nguyễn Thị Hồng Vân" in raw


def test_the_same_report_gives_the_same_bytes(approved):
    assert typeset_pdf(words.report_text(draft=False)) == approved


def test_the_document_says_what_it_is(approved):
    meta = PdfReader(io.BytesIO(approved)).metadata
    assert meta.title == "BÁO CÁO Kết quả công tác bảo đảm nhân quyền tháng 06/2019"
    assert meta.author == "BAN CHỈ ĐẠO NHÂN QUYỀN TỈNH HẢI DƯƠNG"
