"""A realistic consolidated report of Hải Dương for June 2019, built by hand for the report's tests."""

from __future__ import annotations

from datetime import UTC, datetime

from baocao_shared.events import reports as events

SCRIPT = "<script>alert(1)</script>"

TASKS = [
    (
        "T1",
        "Quán triệt, phổ biến Chỉ thị 44, Thông báo 46 và các văn bản chỉ đạo về công tác tuyên truyền nhân quyền",
        [
            ("t1_sessions", "Số hội nghị, buổi quán triệt", "buổi"),
            ("t1_participants", "Số lượt người tham dự", "lượt người"),
        ],
    ),
    (
        "T2",
        "Các đợt tuyên truyền về thành tựu bảo đảm quyền con người (Ngày Nhân quyền thế giới 10/12, ICCPR, ILO, SDGs)",
        [("t2_campaigns", "Số đợt tuyên truyền", "đợt"), ("t2_publications", "Số tin, bài, phóng sự", "tin, bài")],
    ),
    (
        "T3",
        "Xây dựng, cập nhật cơ sở dữ liệu cơ bản về tình hình, công tác nhân quyền của địa phương",
        [("t3_updates_sent", "Số lần cập nhật, gửi Văn phòng Thường trực", "lần")],
    ),
    (
        "T4",
        "Phối hợp đón tiếp các đoàn phóng viên báo chí trong và ngoài nước",
        [
            ("t4_domestic_delegations", "Số đoàn phóng viên trong nước", "đoàn"),
            ("t4_foreign_delegations", "Số đoàn phóng viên nước ngoài", "đoàn"),
        ],
    ),
    (
        "T5",
        "Viết tin, bài về thành tựu bảo đảm quyền con người và phản bác thông tin sai lệch",
        [
            ("t5_articles", "Số tin, bài viết", "tin, bài"),
            ("t5_rebuttals", "Số bài phản bác thông tin sai lệch", "bài"),
        ],
    ),
]
CODES = [code for _, _, indicators in TASKS for code, _, _ in indicators]

# unit code, name, the nine figures in the order of CODES
UNITS = [
    ("CA", "Công an tỉnh", [4, 1250, 2, 18, 1, 0, 0, 12, 3]),
    ("STTTT", "Sở Thông tin và Truyền thông", [2, 160, 3, 45, 1, 1, 1, 30, 5]),
    ("UBND-NS", "UBND huyện Nam Sách", [6, 820, 1, 7, 1, 0, 0, 4, 0]),
    ("UBND-TH", "UBND huyện Thanh Hà", [3, 415, 1, 5, 0, 0, 0, 2, 1]),
]
TOTALS = {code: sum(figures[i] for _, _, figures in UNITS) for i, code in enumerate(CODES)}
NAMES = {code: name for code, name, _ in UNITS}

NARRATIVES = {
    "T1": {
        "CA": "Tổ chức 4 hội nghị quán triệt Chỉ thị 44 cho cán bộ, chiến sĩ toàn lực lượng.",
        "UBND-NS": f"Quán triệt tại 19/19 xã, thị trấn. Ghi chú kỹ thuật: {SCRIPT}\nCác xã đã lập kế hoạch riêng.",
    },
    "T2": {"STTTT": "Chỉ đạo Báo Hải Dương, Đài PT-TH tỉnh mở chuyên mục về quyền con người."},
    "T5": {"STTTT": "Đăng 30 tin, bài; 5 bài phản bác thông tin sai lệch trên mạng xã hội."},
    "difficulties": {
        "UBND-TH": "Kinh phí cho công tác tuyên truyền ở cấp xã còn hạn chế; đề nghị tỉnh hỗ trợ tài liệu."
    },
    "next_month": {
        "CA": "Tiếp tục tham mưu Ban chỉ đạo tổng hợp, báo cáo đúng hạn.",
        "UBND-NS": "Tổ chức tuyên truyền nhân dịp Ngày Gia đình Việt Nam 28/6.",
    },
}


def excerpts(key: str) -> list[events.ExcerptV1]:
    return [events.ExcerptV1(unit=u, unit_name=NAMES[u], text=t) for u, t in NARRATIVES.get(key, {}).items()]


def unit(code: str, name: str, **kw) -> events.LateUnitV1:
    return events.LateUnitV1(unit=code, unit_name=name, **kw)


def sample_report(status: str = "draft", *, units: list | None = None) -> events.ConsolidatedReportV1:
    units = UNITS if units is None else units
    return events.ConsolidatedReportV1(
        province="30",
        province_name="Hải Dương",
        plan_id="hd-467-2019",
        plan_number="467/KH-BCĐNQ",
        period="2019-06",
        status=status,
        revision=3,
        issuing_body="BAN CHỈ ĐẠO NHÂN QUYỀN TỈNH HẢI DƯƠNG",
        place_name="Hải Dương",
        title="Kết quả công tác bảo đảm nhân quyền tháng {month}/{year}",
        number_code="BC-BCĐNQ",
        recipients=[
            "Văn phòng Thường trực BCĐNQ của Chính phủ;",
            "Trưởng Ban chỉ đạo Nhân quyền tỉnh (để báo cáo);",
            "Thành viên BCĐNQ tỉnh, UBND các huyện, thành phố;",
            "Lưu: PTM Công an tỉnh.",
        ],
        signer_position="KT. TRƯỞNG BAN\nPHÓ TRƯỞNG BAN THƯỜNG TRỰC",
        signer_name="Hà Xuân Duy",
        totals=TOTALS,
        tasks=[
            events.TaskSectionV1(
                code=code,
                title=title,
                indicators=[
                    events.IndicatorTotalV1(code=c, label=lb, unit=u, total=TOTALS[c]) for c, lb, u in indicators
                ],
                excerpts=excerpts(code),
            )
            for code, title, indicators in TASKS
        ],
        units=[
            events.UnitFiguresV1(
                unit=code,
                unit_name=name,
                version=1,
                received_at=datetime(2019, 6, 14, 2, 30, tzinfo=UTC),
                values=dict(zip(CODES, figures, strict=True)),
            )
            for code, name, figures in units
        ],
        difficulties=excerpts("difficulties"),
        next_month=excerpts("next_month"),
        closing_labels={
            "difficulties": "Khó khăn, vướng mắc, đề xuất, kiến nghị",
            "next_month": "Phương hướng tháng tới",
        },
        discipline=events.DisciplineV1(
            due_at=datetime(2019, 6, 15, 17, 0, tzinfo=UTC),  # 16/06/2019 00:00 in Hải Dương
            closed=True,
            expected=6,
            on_time=3,
            late=1,
            missing=2,
            pending=0,
            on_time_units=[unit(c, n) for c, n, _ in UNITS[:3]],
            late_units=[unit("UBND-TH", "UBND huyện Thanh Hà", late_by_s=2 * 86_400 + 3 * 3_600)],
            missing_units=[unit("UBND-TK", "UBND huyện Tứ Kỳ"), unit("STP", "Sở Tư pháp")],
        ),
        sections=[
            *(
                events.ReportSectionV1(key=code.lower(), title=title, kind="task", text=OFFICE[code], quotes=[code])
                for code, title, _ in TASKS
            ),
            *(
                events.ReportSectionV1(key=key, title=title, kind=kind, text=OFFICE[key], quotes=quotes)
                for key, title, kind, quotes in GENERAL
            ),
        ],
        comparisons={
            c: events.ComparisonV1(total=TOTALS[c], previous=TOTALS[c] - 1, last_year=None, year_to_date=TOTALS[c] * 6)
            for c in CODES
        },
        coverage=events.CoverageV1(
            expected=6,
            total=4,
            previous=5,
            last_year=0,
            year_to_date=27,
            previous_period="2019-05",
            last_year_period="2018-06",
            year_periods=[f"2019-0{m}" for m in range(1, 7)],
        ),
    )


GENERAL = [
    ("danh_gia_chung", "Đánh giá chung", "assessment", []),
    ("phuong_huong", "Phương hướng, nhiệm vụ tháng tới", "direction", ["next_month"]),
    ("de_xuat", "Đề xuất, kiến nghị", "proposals", ["difficulties"]),
]
OFFICE = {
    "T1": "Các đơn vị quán triệt đầy đủ Chỉ thị 44.\nCông an tỉnh tổ chức nhiều hội nghị nhất.",
    "T2": "Các đợt tuyên truyền được tổ chức đúng kế hoạch.",
    "T3": "Cơ sở dữ liệu được cập nhật hằng tháng.",
    "T4": "Không có đoàn phóng viên nước ngoài trong tháng.",
    "T5": "Tin, bài phản bác thông tin sai lệch tăng so với tháng trước.",
    "danh_gia_chung": "Ưu điểm: các đơn vị báo cáo đầy đủ.\nHạn chế: còn hai đơn vị chưa báo cáo.",
    "phuong_huong": "Tiếp tục triển khai Kế hoạch số 467/KH-BCĐNQ.",
    "de_xuat": "Đề nghị bố trí kinh phí cho công tác tuyên truyền.",
}
