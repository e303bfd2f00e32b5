"""The office's report of Hải Dương for June 2019 with its sections written, its figures over time and the
units' own words: report_sample.py's small one, or a full one (24 units, long narratives) for a look at the
PDF's layout (`python -m services.consolidation.tests.unit.office_report_sample OUT.pdf`)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from baocao_shared.events import reports as events
from services.consolidation.tests.unit import report_sample as sample

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
ISSUED = date(2019, 6, 18)
TASK_TITLES = [
    "Quán triệt, phổ biến Chỉ thị 44, Thông báo 46 và các văn bản chỉ đạo",
    "Tuyên truyền về thành tựu bảo đảm quyền con người",
    "Xây dựng, cập nhật cơ sở dữ liệu về tình hình, công tác nhân quyền",
    "Đón tiếp các đoàn phóng viên báo chí trong và ngoài nước",
    "Viết tin, bài về thành tựu và phản bác thông tin sai lệch",
]


def long_text(n: int, paragraphs: int) -> str:
    """`paragraphs` paragraphs of two or three sentences, varied by `n`."""
    return "\n".join(
        " ".join(SENTENCES[(n + i + j) % len(SENTENCES)] for j in range(2 + (n + i) % 2)) for i in range(paragraphs)
    )


def report(status: str = "draft", *, full: bool = False, number: str | None = None) -> events.ConsolidatedReportV1:
    """The small report (4 units) or the full one (24 units), its sections written by the office."""
    units = sample.UNITS
    if full:
        units = [
            (f"U{n}", name, [(n * 7 + i * 13) % 40 * (100 if i == 1 else 1) for i in range(9)])
            for n, name in enumerate(UNIT_NAMES)
        ]
    base = sample.sample_report(status, units=units)
    totals = {code: sum(figures[i] for _, _, figures in units) for i, code in enumerate(sample.CODES)}
    written = [
        events.ReportSectionV1(
            key=f"t{n}",
            title=title,
            kind="task",
            text=long_text(n, 2) if full else f"Các đơn vị đã triển khai nhiệm vụ {n} theo kế hoạch.",
            quotes=[f"T{n}"],
        )
        for n, title in enumerate(TASK_TITLES, 1)
    ]
    written += [
        events.ReportSectionV1(
            key="danh_gia_chung", title="Đánh giá chung", kind="assessment", text=long_text(3, 2 if full else 1)
        ),
        events.ReportSectionV1(
            key="phuong_huong", title="Phương hướng, nhiệm vụ tháng tới", kind="direction", text=long_text(4, 1)
        ),
    ]
    comparisons = {
        code: events.ComparisonV1(
            total=total,
            previous=total * 9 // 10,
            last_year=None if i == 0 else total * 3 // 4,  # nobody reported it a year ago
            year_to_date=total * 6,
        )
        for i, (code, total) in enumerate(totals.items())
    }
    coverage = events.CoverageV1(
        expected=len(units) + 2,
        total=len(units),
        previous=len(units) - 1,
        last_year=len(units) - 3,
        year_to_date=6 * len(units) - 4,
        previous_period="2019-05",
        last_year_period="2018-06",
        year_periods=[f"2019-0{m}" for m in range(1, 7)],
    )
    tasks = base.tasks
    if full:
        tasks = [
            task.model_copy(
                update={
                    "excerpts": [
                        events.ExcerptV1(unit=code, unit_name=name, text=long_text(i + n, 1 + (i + n) % 2))
                        for i, (code, name, _) in enumerate(units)
                        if (i + n) % 3
                    ]
                }
            )
            for n, task in enumerate(base.tasks)
        ]
    difficulties = base.difficulties
    if full:
        difficulties = [
            events.ExcerptV1(unit=code, unit_name=name, text=long_text(i, 1))
            for i, (code, name, _) in enumerate(units)
            if i % 4 == 0
        ]
    return base.model_copy(
        update={
            "totals": totals,
            "tasks": tasks,
            "difficulties": difficulties,
            "sections": written,
            "comparisons": comparisons,
            "coverage": coverage,
            "number": number,
        }
    )


if __name__ == "__main__":  # a look at the full report's PDF
    from consolidation.adapters.pdf_report import render_pdf

    Path(sys.argv[1]).write_bytes(render_pdf(report(full=True), issued_on=ISSUED))
