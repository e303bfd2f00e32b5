"""Comparisons over time (pure): each indicator's total beside the previous period's, the same period a
year before, and the year to date (lũy kế from the year's first period).

A period in which no unit reported has no figure (None), never zero; `coverage` says how many units'
reports each figure sums, so the document can say what each number covers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from baocao_shared.calendar import parse_period
from baocao_shared.events.reports import ComparisonV1, CoverageV1

_SUFFIX = {"monthly": "{m:02d}", "quarterly": "Q{i}", "six_monthly": "H{i}", "yearly": "Y"}
_PER_YEAR = {"monthly": 12, "quarterly": 4, "six_monthly": 2, "yearly": 1}


@dataclass(frozen=True)
class PeriodFigures:
    """What the latest reports of one period sum to, and how many units' reports that is."""

    totals: Mapping[str, int]
    units: int


def period_label(code: str, frequency: str) -> str:
    """How a sentence names the period: "tháng 06/2019", "quý 2/2019", "6 tháng đầu năm 2019", "năm 2019"."""
    year, index = period_index(code, frequency)
    if frequency == "monthly":
        return f"tháng {index:02d}/{year}"
    if frequency == "quarterly":
        return f"quý {index}/{year}"
    if frequency == "six_monthly":
        return f"6 tháng {'đầu' if index == 1 else 'cuối'} năm {year}"
    return f"năm {year}"


def period_code(year: int, index: int, frequency: str) -> str:
    """The `index`-th period (1-based) of `year`: 2019, 6 → "2019-06"; 2019, 2 (quarterly) → "2019-Q2"."""
    suffix = _SUFFIX[frequency].format(m=index, i=index)
    return f"{year}-{suffix}"


def period_index(code: str, frequency: str) -> tuple[int, int]:
    """(year, index within the year) of a period code."""
    period = parse_period(code, frequency)
    return period.year, period.last_month // period.months


def previous_period(code: str, frequency: str) -> str:
    year, index = period_index(code, frequency)
    return (
        period_code(year, index - 1, frequency) if index > 1 else period_code(year - 1, _PER_YEAR[frequency], frequency)
    )


def last_year_period(code: str, frequency: str) -> str:
    year, index = period_index(code, frequency)
    return period_code(year - 1, index, frequency)


def year_periods(code: str, frequency: str, *, first_period: str | None = None) -> list[str]:
    """The periods the year to date sums: from the year's first (or the plan's first, when later) to `code`."""
    year, index = period_index(code, frequency)
    codes = [period_code(year, i, frequency) for i in range(1, index + 1)]
    if first_period is not None:
        try:
            start = period_index(first_period, frequency)
        except ValueError:
            return codes
        codes = [c for c in codes if period_index(c, frequency) >= start]
    return codes


def periods_needed(code: str, frequency: str, *, first_period: str | None = None) -> list[str]:
    """Every period whose figures the comparisons of `code` read."""
    wanted = [previous_period(code, frequency), last_year_period(code, frequency)]
    wanted += year_periods(code, frequency, first_period=first_period)
    return list(dict.fromkeys(wanted))


def compare(
    *,
    period: str,
    frequency: str,
    indicators: Sequence[str],
    figures: Mapping[str, PeriodFigures],
    expected: int,
    first_period: str | None = None,
) -> tuple[dict[str, ComparisonV1], CoverageV1]:
    """Each indicator now, before, a year ago and so far this year, with what each figure covers."""
    before, year_ago = previous_period(period, frequency), last_year_period(period, frequency)
    so_far = year_periods(period, frequency, first_period=first_period)
    nothing = PeriodFigures({}, 0)

    def total(code: str, of: str) -> int | None:
        found = figures.get(of, nothing)
        return int(found.totals.get(code, 0)) if found.units else None

    def year_to_date(code: str) -> int | None:
        reported = [total(code, p) for p in so_far]
        known = [t for t in reported if t is not None]
        return sum(known) if known else None

    comparisons = {
        code: ComparisonV1(
            total=total(code, period),
            previous=total(code, before),
            last_year=total(code, year_ago),
            year_to_date=year_to_date(code),
        )
        for code in indicators
    }
    coverage = CoverageV1(
        expected=expected,
        total=figures.get(period, nothing).units,
        previous=figures.get(before, nothing).units,
        last_year=figures.get(year_ago, nothing).units,
        year_to_date=sum(figures.get(p, nothing).units for p in so_far),
        previous_period=before,
        last_year_period=year_ago,
        year_periods=so_far,
    )
    return comparisons, coverage
