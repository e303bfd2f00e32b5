"""The Vietnamese messages: one subject line, a plain-text and an HTML body per kind of notice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from notify.domain.wording import lateness, local_time, period_label

_env = Environment(
    loader=PackageLoader("notify", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(local_time=local_time, period_label=period_label, lateness=lateness)

SUBJECTS = {
    "reminder": "[Nhắc hạn] Báo cáo {{ period | period_label }} của {{ unit_name }}: hạn {{ due_at | local_time(tz) }}",
    "overdue": "[Quá hạn] {{ unit_name }} chưa gửi báo cáo {{ period | period_label }}",
    "nudge": "[Đôn đốc] {{ unit_name }}: đề nghị gửi báo cáo {{ period | period_label }}",
    "escalation": "[Tổng hợp] {{ missing_units | length }} đơn vị chưa gửi báo cáo {{ period | period_label }}",
    "province_reminder": "[Nhắc hạn] Báo cáo tổng hợp {{ period | period_label }} của {{ province_name }}: "
    "hạn {{ due_at | local_time(tz) }}",
    "province_overdue": "[Quá hạn] {{ province_name }} chưa gửi báo cáo tổng hợp {{ period | period_label }}",
    "province_nudge": "[Đôn đốc] {{ province_name }}: đề nghị gửi báo cáo tổng hợp {{ period | period_label }}",
    "national_escalation": "[Tổng hợp] {{ missing_provinces | length }} tỉnh, thành phố chưa gửi báo cáo "
    "{{ period | period_label }}",
    "report_approved": "[Đã duyệt] Báo cáo tổng hợp {{ period | period_label }} của {{ province_name }}",
    "report_returned": "[Trả lại] Báo cáo tổng hợp {{ period | period_label }} của {{ province_name }}",
    "report_accepted": "[Đã tiếp nhận] Báo cáo tổng hợp {{ period | period_label }} của {{ province_name }}",
    "report_published": "[Đã gửi] Báo cáo {{ period | period_label }} của {{ province_name }}"
    "{% if number %} (số {{ number }}){% endif %}",
}
# Which template files render the body of each kind.
BODIES = {
    "reminder": "unit_notice",
    "overdue": "unit_notice",
    "nudge": "unit_notice",
    "escalation": "escalation",
    "province_reminder": "province_notice",
    "province_overdue": "province_notice",
    "province_nudge": "province_notice",
    "national_escalation": "national_escalation",
    "report_approved": "report",
    "report_returned": "report",
    "report_accepted": "report",
    "report_published": "report",
}


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


def render(kind: str, **context: Any) -> Message:
    """The message of one kind; `context` names the unit or province, the period, the deadline, a link."""
    context = {"kind": kind, "tz": "Asia/Ho_Chi_Minh", "link": None, **context}
    body = BODIES[kind]
    subject = " ".join(_env.from_string(SUBJECTS[kind]).render(context).split())
    return Message(
        subject=subject[:300],
        text=_env.get_template(f"{body}.txt").render(context),
        html=_env.get_template(f"{body}.html").render(context),
    )
