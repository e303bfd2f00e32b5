"""A consolidated report's words (ReportText) of Hải Dương for June 2019, built by hand for the PDF's tests:
the small one of report_sample.py, or a full one (24 units, long narratives) for a look at the layout.

Built in the shape report_text is moving to (sections with their figures, the units' own words in an annex);
the renderer reads only attributes, so these stand-ins serve until report_text builds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from consolidation.adapters.report_text import (
    QUOC_HIEU,
    TIEU_NGU,
    Appendix,
    appendix,
    date_line,
    number_line,
    vn_number,
)
from services.consolidation.tests.unit import report_sample as sample


@dataclass(frozen=True)
class FiguresTable:
    header: list[str]
    rows: list[list[str]]
    note: str


@dataclass(frozen=True)
class SectionText:
    heading: str
    paragraphs: list[str]
    figures: FiguresTable | None


@dataclass(frozen=True)
class UnitNarratives:
    unit_name: str
    parts: list[tuple[str, list[str]]]


@dataclass(frozen=True)
class ReportText:
    draft: bool
    issuing_body: str
    number_line: str
    date_line: str
    summary: str
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
    doc_type: str = "BÁO CÁO"


ISSUED = date(2019, 6, 18)
HEADER = ["Chỉ tiêu", "Tháng này", "Tháng trước", "Cùng kỳ năm trước", "Lũy kế năm"]
UNIT_NAMES = [
    "Công an tỉnh",
    "Ban Tuyên giáo Tỉnh ủy",
    "Sở Ngoại vụ",
    "Sở Tư pháp",
    "Sở Thông tin và Truyền thông",
    "Sở Lao động - Thương binh và Xã hội",
    "Sở Nội vụ",
    "Sở Y tế",
    "Sở Giáo dục và Đào tạo",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Ban Dân tộc tỉnh",
    "Bộ Chỉ huy Quân sự tỉnh",
    "Tòa án nhân dân tỉnh",
    "Viện Kiểm sát nhân dân tỉnh",
    "Báo Hải Dương",
    "Đài Phát thanh và Truyền hình tỉnh",
    "Ủy ban MTTQ Việt Nam tỉnh",
    "UBND thành phố Hải Dương",
    "UBND thành phố Chí Linh",
    "UBND thị xã Kinh Môn",
    "UBND huyện Cẩm Giàng",
    "UBND huyện Bình Giang",
    "UBND huyện Gia Lộc",
    "UBND huyện Kim Thành",
]
SENTENCES = [
    "Tổ chức quán triệt sâu rộng Chỉ thị số 44-CT/TW của Ban Bí thư đến toàn thể cán bộ, đảng viên, công chức, "
    "viên chức và người lao động trong cơ quan, đơn vị.",
    "Phối hợp với Ủy ban Mặt trận Tổ quốc Việt Nam và các đoàn thể chính trị - xã hội cùng cấp tuyên truyền về "
    "thành tựu bảo đảm quyền con người, quyền công dân ở Việt Nam.",
    "Đăng tải tin, bài trên cổng thông tin điện tử, trang mạng xã hội của đơn vị; kịp thời phản bác các luận điệu "
    "xuyên tạc, thông tin sai lệch về tình hình nhân quyền.",
    "Rà soát, cập nhật số liệu vào cơ sở dữ liệu về công tác nhân quyền của tỉnh theo hướng dẫn của Văn phòng "
    "Thường trực; gửi báo cáo đúng thời hạn.",
    "Kinh phí bố trí cho công tác tuyên truyền ở cấp xã, phường, thị trấn còn hạn chế; tài liệu tuyên truyền bằng "
    "tiếng dân tộc thiểu số chưa đáp ứng nhu cầu thực tế.",
]


def _figures(codes: list[tuple[str, str, str]], totals: dict[str, int]) -> FiguresTable:
    rows = []
    for i, (code, label, unit) in enumerate(codes):
        now = totals[code]
        rows.append(
            [f"{label} ({unit})", vn_number(now), vn_number(now * 9 // 10), vn_number(now * 3 // 4), vn_number(now * 6)]
        )
        if i == 0:
            rows[-1][3] = "-"  # not reported a year ago
    return FiguresTable(HEADER, rows, "(Tháng trước: tháng 5/2019; cùng kỳ: tháng 6/2018; lũy kế: từ tháng 01/2019.)")


def _long(n: int, k: int) -> list[str]:
    """k paragraphs for unit n, each two or three sentences."""
    return [" ".join(SENTENCES[(n + i + j) % len(SENTENCES)] for j in range(2 + (n + i) % 2)) for i in range(k)]


def report_text(*, draft: bool = True, full: bool = False) -> ReportText:
    """The small report of report_sample.py, or (full) 24 units with long narratives."""
    if full:
        units = [
            (f"U{n}", name, [(n * 7 + i * 13) % 40 * (100 if i == 1 else 1) for i in range(9)])
            for n, name in enumerate(UNIT_NAMES)
        ]
    else:
        units = sample.UNITS
    totals = {code: sum(f[i] for _, _, f in units) for i, code in enumerate(sample.CODES)}
    report = sample.sample_report("draft" if draft else "approved", units=units).model_copy(update={"totals": totals})
    results = []
    for n, (_, title, codes) in enumerate(sample.TASKS, 1):
        paragraphs = _long(n, 2) if full else [f"Các đơn vị đã triển khai nhiệm vụ {n} theo kế hoạch."]
        results.append(SectionText(f"{n}. {title}", paragraphs, _figures(codes, totals)))
    names = [name for _, name, _ in units]
    annex = [
        UnitNarratives(
            name,
            [(f"{n}. {title}", _long(i + n, 1 + (i % 2))) for n, (_, title, _) in enumerate(sample.TASKS[:3], 1)]
            + [("Khó khăn, vướng mắc, đề xuất, kiến nghị", _long(i, 1))],
        )
        for i, name in enumerate(names if full else names[:2])
    ]
    if not full:
        annex[0] = UnitNarratives(
            names[0], [("1. Quán triệt", ["Tổ chức 4 hội nghị quán triệt Chỉ thị 44 <cho> cán bộ & chiến sĩ."])]
        )
    return ReportText(
        draft=draft,
        issuing_body=report.issuing_body,
        number_line=number_line(report.number_code),
        date_line=date_line(report.place_name, ISSUED),
        summary="Kết quả công tác bảo đảm nhân quyền tháng 06/2019",
        intro="Thực hiện Kế hoạch số 467/KH-BCĐNQ ngày 19/5/2019 của Ban Chỉ đạo Nhân quyền tỉnh, tổng hợp từ báo "
        f"cáo của {len(units)} đơn vị, Ban Chỉ đạo báo cáo kết quả thực hiện tháng 6 năm 2019 như sau:",
        results_heading="I. KẾT QUẢ THỰC HIỆN CÁC NHIỆM VỤ TRỌNG TÂM",
        results=results,
        discipline_heading="II. TÌNH HÌNH CHẤP HÀNH CHẾ ĐỘ BÁO CÁO",
        discipline=[
            "Hạn gửi báo cáo của các đơn vị: trước 00:00 ngày 16/06/2019.",
            f"Tổng số đơn vị phải gửi báo cáo: {len(units) + 2}; gửi đúng hạn: {len(units) - 1}; gửi muộn: 1; "
            "chưa gửi: 2.",
            "– Các đơn vị chưa gửi báo cáo (đã hết thời hạn tiếp nhận) (2): UBND huyện Tứ Kỳ; Sở Tư pháp.",
        ],
        closing_sections=[
            SectionText("III. ĐÁNH GIÁ CHUNG", _long(3, 2) if full else ["Các đơn vị cơ bản hoàn thành."], None),
            SectionText("IV. PHƯƠNG HƯỚNG, NHIỆM VỤ THÁNG TỚI", _long(4, 2 if full else 1), None),
        ],
        closing="Trên đây là báo cáo kết quả công tác bảo đảm nhân quyền tháng 06/2019./.",
        recipients=[f"- {r}" for r in report.recipients],
        signer_position=["KT. TRƯỞNG BAN", "PHÓ TRƯỞNG BAN THƯỜNG TRỰC"],
        signer_name="Hà Xuân Duy",
        appendix=appendix(report),
        appendix_note="(Kèm theo Báo cáo số\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0/BC-BCĐNQ ngày 18 tháng 6 năm 2019)",
        annex_title="Phụ lục II\nÝ KIẾN CỦA CÁC ĐƠN VỊ",
        annex=annex,
    )
