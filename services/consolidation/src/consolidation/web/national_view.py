"""What the national office's page shows (tổng hợp toàn quốc): per national regime, its totals (labelled by the
regime's template), its provinces and who is missing; the plans in no regime apart.

Turns the `national` use case's answer into Vietnamese labels, local times and links; holds no rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from baocao_shared.events.catalog import RegimeV1
from consolidation.adapters.report_text import local_moment, vn_number
from consolidation.domain.national import counts

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
    key: str  # an element id: regime and indicator
    code: str
    label: str
    unit: str
    total: str


@dataclass(frozen=True)
class RegimeBlock:
    """One national regime's table: its totals in its template's order, its provinces, who is missing."""

    key: str
    title: str
    number: str
    totals: list[TotalRow]
    rows: list[ProvinceRow]
    missing: list[dict[str, Any]]
    counted: int


def _row(entry: dict[str, Any], period: str, listed: dict[tuple[str, str], dict[str, Any]]) -> ProvinceRow:
    """A province's plan in a regime's table; `listed` holds the answer's `provinces` (plan number, returned)."""
    plan = listed.get(_key(entry), {})
    shown = "returned" if plan.get("returned") else entry["status"]
    label, css = STATUS.get(shown, (entry["status"], "open"))
    counted = counts(entry["status"])
    return ProvinceRow(
        key=f"{entry['province']}-{entry['plan_id']}",
        province=entry["province"],
        province_name=entry["province_name"],
        plan_number=plan.get("plan_number", ""),
        status=entry["status"],
        label=label,
        css=css,
        published_at=local_moment(entry["published_at"]) if counted and entry["published_at"] else "",
        url=report_page(entry["province"], period, entry["plan_id"]) if counted else None,
    )


def _totals(regime_id: str, sums: dict[str, int], regime: RegimeV1 | None) -> list[TotalRow]:
    """Every indicator of the regime's template in its order (0 where nobody counted reported it), then any code
    the template does not know."""
    known = [i for task in regime.template.tasks for i in task.indicators] if regime else []
    rows = [
        TotalRow(f"{regime_id}-{i.code}", i.code, i.label, i.unit or "", vn_number(sums.get(i.code, 0))) for i in known
    ]
    codes = {i.code for i in known}
    rows += [TotalRow(f"{regime_id}-{c}", c, c, "", vn_number(v)) for c, v in sorted(sums.items()) if c not in codes]
    return rows


def _key(entry: dict[str, Any]) -> tuple[str, str]:
    return entry["province"], entry["plan_id"]


def national_context(roll_up: dict[str, Any], regimes: dict[str, RegimeV1], periods: list[str]) -> dict[str, Any]:
    period = roll_up["period"]
    listed = {_key(e): e for e in roll_up["provinces"]}
    blocks = []
    for group in roll_up["regimes"]:
        regime_id = group["regime"]
        rows = [_row(entry, period, listed) for entry in group["provinces"]]
        missing = [
            {**m, "key": f"{m['province']}-{m['plan_id']}", "plan_number": listed.get(_key(m), {}).get("plan_number")}
            for m in group["missing"]
        ]
        blocks.append(
            RegimeBlock(
                key=regime_id,
                title=group["title"] or f"Chế độ báo cáo {regime_id}",
                number=group["number"] or "",
                totals=_totals(regime_id, group["totals"], regimes.get(regime_id)),
                rows=rows,
                missing=missing,
                counted=sum(1 for r in rows if counts(r.status)),
            )
        )
    unmapped = [_row(listed[_key(u)], period, listed) for u in roll_up["unmapped"] if _key(u) in listed]
    return {
        "title": f"Tổng hợp toàn quốc kỳ {period}",
        "period": period,
        "regimes": blocks,
        "unmapped": unmapped,
        "published": roll_up["published"],
        "owed": len(roll_up["provinces"]),
        "periods": [(p, national_page(p), p == period) for p in periods],
    }
