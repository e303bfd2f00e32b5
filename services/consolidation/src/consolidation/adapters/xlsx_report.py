"""The report as a workbook (openpyxl): the units' figures and the comparisons over time.

Sheet "Số liệu đơn vị": one row per unit that reported, one column per indicator, the TỔNG CỘNG row last.
Sheet "So sánh": each indicator now, the period before, the same period a year before and the year to
date, and how many units' reports each column sums. Every figure is a number cell; a figure no unit
reported is an empty cell, never 0.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from baocao_shared.events.reports import ComparisonV1, ConsolidatedReportV1
from consolidation.adapters.report_text import TOTAL_ROW, summary_title

BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="center")
UNITS_SHEET, COMPARISONS_SHEET = "Số liệu đơn vị", "So sánh"


def render_xlsx(report: ConsolidatedReportV1) -> bytes:
    book = Workbook()
    _units(book.active, report)
    _comparisons(book.create_sheet(COMPARISONS_SHEET), report)
    book.properties.title = summary_title(report)
    book.properties.creator = report.issuing_body
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _columns(report: ConsolidatedReportV1) -> list[tuple[str, str]]:
    return [
        (i.code, f"NV{n} – {i.label}" + (f" ({i.unit})" if i.unit else ""))
        for n, task in enumerate(report.tasks, 1)
        for i in task.indicators
    ]


def _units(sheet, report: ConsolidatedReportV1) -> None:
    sheet.title = UNITS_SHEET
    columns = _columns(report)
    sheet.append([f"{report.issuing_body} – {summary_title(report)}"])
    sheet["A1"].font = BOLD
    sheet.append(["STT", "Mã đơn vị", "Đơn vị", *(label for _, label in columns)])
    for cell in sheet[2]:
        cell.font, cell.alignment = BOLD, WRAP
    for n, unit in enumerate(report.units, 1):
        sheet.append([n, unit.unit, unit.unit_name, *(unit.values.get(code) for code, _ in columns)])
    sheet.append([None, None, TOTAL_ROW, *(report.totals.get(code, 0) for code, _ in columns)])
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD
    sheet.freeze_panes = "D3"
    widths = [6, 14, 38] + [16] * len(columns)
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.row_dimensions[2].height = 60


def _comparisons(sheet, report: ConsolidatedReportV1) -> None:
    c = report.coverage
    sheet.append(["Mã chỉ tiêu", "Chỉ tiêu", "Kỳ này", "Kỳ trước", "Cùng kỳ năm trước", "Lũy kế từ đầu năm"])
    for cell in sheet[1]:
        cell.font, cell.alignment = BOLD, WRAP
    if c is not None:
        last_year = c.last_year_period or ""
        sheet.append(["", "Kỳ", report.period, c.previous_period, last_year, ", ".join(c.year_periods)])
    for code, label in _columns(report):
        compared = report.comparisons.get(code, ComparisonV1(total=report.totals.get(code)))
        sheet.append([code, label, compared.total, compared.previous, compared.last_year, compared.year_to_date])
    if c is not None:
        sheet.append(["", "Số báo cáo đơn vị được tổng hợp", c.total, c.previous, c.last_year, c.year_to_date])
        sheet.append(["", f"Số đơn vị phải báo cáo: {c.expected}. Ô trống: không có đơn vị nào báo cáo."])
    sheet.freeze_panes = "C2"
    for i, width in enumerate([24, 48, 14, 14, 18, 18], 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
