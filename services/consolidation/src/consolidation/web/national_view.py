"""What the national office's page shows (tổng hợp toàn quốc): every province × plan, the totals, who is missing.

Turns the `national` use case's answer into Vietnamese labels, local times and links; holds no rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from consolidation.adapters.report_text import local_moment, vn_number
from consolidation.domain.workflow import SENT_UP

STATUS = {  # status -> (label, badge class of baocao.css)
    "accepted": ("Đã tiếp nhận", "done"),
    "returned": ("Đã trả lại", "overdue"),  # a draft again, returned by the national office
    "published": ("Đã gửi", "done"),
    "approved": ("Đã duyệt", "locked"),
    "draft": ("Dự thảo", "open"),
}


def report_page(province: str, period: str, plan_id: str | None = None) -> str:
    url = f"/tong-hop/{quote(province, safe='')}/{quote(period, safe='')}"
    return f"{url}?{urlencode({'plan_id': plan_id})}" if plan_id else url


def national_page(period: str) -> str:
    return f"/quoc-gia/{quote(period, safe='')}"


@dataclass(frozen=True)
class ProvinceRow:
    key: str  # an element id: province and plan
    province: str
    province_name: str
    plan_number: str
    status: str
    label: str
    css: str
    published_at: str
    url: str | None  # the published report's page


@dataclass(frozen=True)
class TotalRow:
    code: str
    label: str
    unit: str
    total: str


def _template_order(labels: dict[str, tuple[str, str | None]], code: str) -> tuple[int, str]:
    """Indicators in the order of the templates (task by task), codes no template knows at the end."""
    order = {known: n for n, known in enumerate(labels)}
    return order.get(code, len(order)), code


def national_context(
    roll_up: dict[str, Any], labels: dict[str, tuple[str, str | None]], periods: list[str]
) -> dict[str, Any]:
    period = roll_up["period"]
    rows = []
    for entry in roll_up["provinces"]:
        shown = "returned" if entry.get("returned") else entry["status"]
        label, css = STATUS.get(shown, (entry["status"], "open"))
        published = entry["status"] in SENT_UP
        rows.append(
            ProvinceRow(
                key=f"{entry['province']}-{entry['plan_id']}",
                province=entry["province"],
                province_name=entry["province_name"],
                plan_number=entry["plan_number"],
                status=entry["status"],
                label=label,
                css=css,
                published_at=local_moment(entry["published_at"]) if published else "",
                url=report_page(entry["province"], period, entry["plan_id"]) if published else None,
            )
        )
    totals = [
        TotalRow(code, labels.get(code, (code, None))[0], labels.get(code, (code, None))[1] or "", vn_number(value))
        for code, value in sorted(roll_up["totals"].items(), key=lambda item: _template_order(labels, item[0]))
    ]
    missing = [dict(m, key=f"{m['province']}-{m['plan_id']}") for m in roll_up["not_reported"]]
    plan_numbers = {r.key: r.plan_number for r in rows}
    for m in missing:
        m["plan_number"] = plan_numbers.get(m["key"], "")
    return {
        "title": f"Tổng hợp toàn quốc kỳ {period}",
        "period": period,
        "rows": rows,
        "totals": totals,
        "missing": missing,
        "published": roll_up["published"],
        "periods": [(p, national_page(p), p == period) for p in periods],
    }
