"""The report's page, rendered by Jinja alone: the Word document's content, the workflow's buttons, escaping."""

import html
import importlib.util
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from baocao_shared.web import templates_for
from consolidation.adapters.report_html import TEMPLATES_DIR, report_context
from consolidation.adapters.report_text import vn_number

_spec = importlib.util.spec_from_file_location("report_sample", Path(__file__).with_name("report_sample.py"))
sample = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sample)

TOKEN = "tok-123"
SITE = {
    "nav": [],
    "principal": None,
    "csrf_field": "csrf_token",
    "csrf_token": TOKEN,
    "logout_url": "/dang-xuat",
    "flashes": [],
}


def page(report=None, *, can_approve=False, can_publish=False) -> str:
    report = report or sample.sample_report()
    context = report_context(
        report, issued_on=date(2019, 6, 18), can_approve=can_approve, can_publish=can_publish, csrf_token=TOKEN
    )
    return templates_for(TEMPLATES_DIR).env.get_template("report.html").render(**context, site=SITE)


def visible(markup: str) -> str:
    """The page's text, tags dropped, entities decoded, white space collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))


@pytest.fixture(scope="module")
def draft() -> str:
    return page()


def test_the_page_has_the_documents_header_title_and_sections_in_order(draft):
    text = visible(draft)
    order = [
        "BAN CHỈ ĐẠO NHÂN QUYỀN TỈNH HẢI DƯƠNG",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Hải Dương, ngày 18 tháng 6 năm 2019",
        "BÁO CÁO",
        "I. KẾT QUẢ THỰC HIỆN CÁC NHIỆM VỤ TRỌNG TÂM",
        "II. TÌNH HÌNH CHẤP HÀNH CHẾ ĐỘ BÁO CÁO",
        "III. ĐÁNH GIÁ CHUNG",
        "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ THÁNG TỚI",
        "V. ĐỀ XUẤT, KIẾN NGHỊ",
        "Nơi nhận:",
        "PHÓ TRƯỞNG BAN THƯỜNG TRỰC",
        "Phụ lục I: Số liệu của các đơn vị",
        "Phụ lục II: Nội dung báo cáo của các đơn vị",
    ]
    positions = [text.index(part, text.index("Thông tin báo cáo")) for part in order]
    assert positions == sorted(positions)
    assert "Kết quả công tác bảo đảm nhân quyền tháng 06/2019" in text
    assert re.search(r"Số:\s+/BC-BCĐNQ", text)


def test_the_same_totals_and_names_as_the_word_document(draft):
    text = visible(draft)
    for _, _, indicators in sample.TASKS:  # each task's figures over time, as in the document
        for code, label, unit in indicators:
            row = f"{label} ({unit}) {vn_number(sample.TOTALS[code])} {vn_number(sample.TOTALS[code] - 1)} -"
            assert row in text
    assert "UBND huyện Thanh Hà (muộn 2 ngày 3 giờ)" in text
    assert "UBND huyện Tứ Kỳ; Sở Tư pháp" in text
    for _, name, _ in sample.UNITS:
        assert name in text
    for recipient in sample.sample_report().recipients:
        assert f"- {recipient}" in text
    total_row = visible(draft.split('<tr id="tong-cong">', 1)[1].split("</tr>", 1)[0])
    assert total_row.split() == ["TỔNG", "CỘNG", *(vn_number(sample.TOTALS[c]) for c in sample.CODES)]


def test_status_badge_and_download_link(draft):
    assert '<span class="status status--open" id="trang-thai">Dự thảo</span>' in draft
    assert 'href="/v1/reports/30/2019-06.docx?plan_id=hd-467-2019"' in draft
    assert "Tải về bản Word (.docx)" in draft
    approved = sample.sample_report("approved").model_copy(
        update={"approved_at": datetime(2019, 6, 18, 2, 0, tzinfo=UTC), "approved_by": "ptm.hd"}
    )
    shown = page(approved)
    assert ">Đã duyệt</span>" in shown and "DỰ THẢO" in shown  # not numbered nor signed yet
    assert "DỰ THẢO" not in page(sample.sample_report("published"))
    assert "18/06/2019 09:00 (ptm.hd)" in shown  # in Hải Dương's time
    assert ">Đã gửi lên</span>" in page(sample.sample_report("published"))


@pytest.mark.parametrize(("can_approve", "can_publish"), [(False, False), (True, False), (False, True), (True, True)])
def test_only_the_buttons_the_flags_allow_each_with_the_csrf_token(can_approve, can_publish):
    shown = page(can_approve=can_approve, can_publish=can_publish)
    assert ("Duyệt báo cáo" in shown) is can_approve
    assert ('action="/tong-hop/30/2019-06/duyet"' in shown) is can_approve
    assert ("Gửi lên Văn phòng Thường trực</button>" in shown) is can_publish
    assert ('action="/tong-hop/30/2019-06/gui"' in shown) is can_publish
    forms = re.findall(r"<form method=\"post\" action=\"/tong-hop/[^\"]+\".*?</form>", shown, re.S)
    assert len(forms) == can_approve + can_publish
    for form in forms:
        assert f'<input type="hidden" name="csrf_token" value="{TOKEN}">' in form


def test_a_narrative_with_a_script_is_escaped(draft):
    assert "<script>" not in draft
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in draft


def test_odd_codes_in_the_urls_are_quoted():
    report = sample.sample_report().model_copy(update={"plan_id": "a&b c", "province": "3/0"})
    shown = page(report, can_approve=True)
    assert "/v1/reports/3%2F0/2019-06.docx?plan_id=a%26b+c" in html.unescape(shown)
    assert 'action="/tong-hop/3%2F0/2019-06/duyet"' in shown


def test_the_console_shows_where_the_period_stands_and_when_it_closes():
    from baocao_shared.periods import STATE_LABELS, standing
    from consolidation.domain.periods import HISTORY_NOTE

    report = sample.sample_report()
    found = standing(_plan_of(report), report.period, "Asia/Ho_Chi_Minh", datetime(2019, 6, 18, 2, tzinfo=UTC))
    context = report_context(
        report, issued_on=date(2019, 6, 18), can_approve=False, can_publish=False, csrf_token=TOKEN, standing=found
    )
    facts = dict(context["facts"])
    assert facts["Tình trạng kỳ báo cáo"] == STATE_LABELS["overdue"] == "Quá hạn, chưa khóa sổ"
    assert facts["Sẽ khóa sổ lúc"] == "25/06/2019 00:00"  # the 25th, in Hải Dương's time, still ahead
    after = standing(_plan_of(report), report.period, "Asia/Ho_Chi_Minh", datetime(2019, 6, 25, tzinfo=UTC))
    closed = report_context(
        report, issued_on=date(2019, 6, 18), can_approve=False, can_publish=False, csrf_token=TOKEN, standing=after
    )
    assert dict(closed["facts"])["Đã khóa sổ lúc"] == "25/06/2019 00:00"
    text = visible(templates_for(TEMPLATES_DIR).env.get_template("report.html").render(**context, site=SITE))
    assert "Tình trạng kỳ báo cáo Quá hạn, chưa khóa sổ" in text and HISTORY_NOTE not in text

    history = standing(_plan_of(report, tracking_from="2019-07"), report.period, "Asia/Ho_Chi_Minh", datetime.now(UTC))
    context = report_context(
        report, issued_on=date(2019, 6, 18), can_approve=False, can_publish=False, csrf_token=TOKEN, standing=history
    )
    text = visible(templates_for(TEMPLATES_DIR).env.get_template("report.html").render(**context, site=SITE))
    assert f"Tình trạng kỳ báo cáo {STATE_LABELS['history']}" in text and HISTORY_NOTE in text
    assert "Các đơn vị chưa gửi báo cáo" not in text


def _plan_of(report, **changes):
    from services.consolidation.tests.kit import HAI_DUONG

    return HAI_DUONG.plans[0].model_copy(update={"id": report.plan_id, **changes})
