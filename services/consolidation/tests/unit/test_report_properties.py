"""Properties of the consolidated report's arithmetic (pure domain and text): totals are the sums of the
units' latest figures in any order, an amendment moves them by exactly its difference, the appendix and
the sections add up to the totals, every expected unit is counted once in section II, and the rates it
prints stay between 0% and 100% and say 100% only when everyone did. Bounded and derandomized."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from baocao_shared.events.reports import DisciplineV1
from consolidation.adapters.report_text import discipline_lines, vn_percent
from consolidation.domain.report import LatestReport, Timeliness, build_report, discipline, totals
from intake.domain.catalog import parse_province_file

REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
UNITS = [f"U{n:02d}" for n in range(1, 9)]
PLAN = HAI_DUONG.plans[0].model_copy(update={"units": UNITS})
CODES = [i.code for task in PLAN.template.tasks for i in task.indicators]
NARRATIVES = [task.code for task in PLAN.template.tasks] + ["difficulties", "next_month"]
DUE = datetime(2019, 6, 15, 17, tzinfo=UTC)
BOUNDED = settings(max_examples=40, deadline=None, derandomize=True)

figures = st.fixed_dictionaries({code: st.integers(0, 10_000_000) for code in CODES})


@st.composite
def latest_reports(draw) -> list[LatestReport]:
    """The latest report of some of the plan's units (each unit at most once)."""
    units = draw(st.lists(st.sampled_from(UNITS), unique=True, max_size=len(UNITS)))
    reports = []
    for unit in units:
        first = DUE + timedelta(seconds=draw(st.integers(-10 * 86400, 10 * 86400)))
        reports.append(
            LatestReport(
                unit=unit,
                version=draw(st.integers(1, 5)),
                received_at=first + timedelta(hours=draw(st.integers(0, 48))),
                first_received_at=first,
                values=draw(figures),
                narratives=draw(st.dictionaries(st.sampled_from(NARRATIVES), st.text(min_size=1, max_size=20))),
            )
        )
    return reports


def by_hand(reports: list[LatestReport]) -> dict[str, int]:
    return {code: sum(r.values[code] for r in reports) for code in CODES}


def section_two(reports, known=None, now=DUE + timedelta(days=2)) -> DisciplineV1:
    return discipline(
        expected=PLAN.units,
        names={u: f"Đơn vị {u}" for u in UNITS},
        known=known or {},
        latest={r.unit: r for r in reports},
        due_at=DUE,
        now=now,
        closed=False,
    )


def report_of(reports):
    return build_report(
        plan=PLAN,
        province=HAI_DUONG.province,
        period="2019-06",
        names={u: f"Đơn vị {u}" for u in UNITS},
        latest=reports,
        discipline=section_two(reports),
        workflow={"status": "draft", "revision": 1 + sum(r.version for r in reports)},
    )


@BOUNDED
@given(latest_reports(), st.randoms(use_true_random=False))
def test_totals_are_the_sums_of_the_latest_figures_in_any_order(reports, rng: random.Random):
    shuffled = list(reports)
    rng.shuffle(shuffled)
    assert totals(PLAN, reports) == totals(PLAN, shuffled) == by_hand(reports)
    assert list(totals(PLAN, reports)) == CODES, "every indicator of the template, in its order"


@BOUNDED
@given(latest_reports().filter(bool), st.data())
def test_an_amendment_moves_each_total_by_exactly_its_difference(reports, data):
    amended_unit = data.draw(st.sampled_from([r.unit for r in reports]))
    new_values = data.draw(figures)
    old = next(r for r in reports if r.unit == amended_unit)
    amended = [
        LatestReport(r.unit, r.version + 1, r.received_at, r.first_received_at, new_values, r.narratives)
        if r.unit == amended_unit
        else r
        for r in reports
    ]
    before, after = totals(PLAN, reports), totals(PLAN, amended)
    assert {c: after[c] - before[c] for c in CODES} == {c: new_values[c] - old.values[c] for c in CODES}


@BOUNDED
@given(latest_reports(), st.randoms(use_true_random=False))
def test_the_report_adds_up_whatever_order_the_reports_come_in(reports, rng: random.Random):
    shuffled = list(reports)
    rng.shuffle(shuffled)
    report = report_of(shuffled)
    assert report == report_of(reports), "the same state gives the same report"
    # The appendix (one row per unit) sums to the totals; section I shows the same totals.
    assert {c: sum(u.values[c] for u in report.units) for c in CODES} == report.totals == by_hand(reports)
    assert {i.code: i.total for t in report.tasks for i in t.indicators} == report.totals
    assert [u.unit for u in report.units] == [u for u in UNITS if u in {r.unit for r in reports}], "plan order"
    for task in report.tasks:
        written = [r.unit for r in reports if r.narratives.get(task.code)]
        assert sorted(e.unit for e in task.excerpts) == sorted(written)
    assert report.revision == 1 + sum(r.version for r in reports)


@BOUNDED
@given(
    latest_reports(),
    st.dictionaries(
        st.sampled_from(UNITS),
        st.sampled_from(["on_time", "late", "missing", "pending"]).map(
            lambda s: Timeliness(s, 3600 if s == "late" else None)
        ),
    ),
    st.integers(-3 * 86400, 3 * 86400),
)
def test_section_two_counts_every_expected_unit_exactly_once(reports, known, now_s):
    d = section_two(reports, known, now=DUE + timedelta(seconds=now_s))
    assert d.expected == len(UNITS) == d.on_time + d.late + d.missing + d.pending
    listed = [u.unit for u in d.on_time_units + d.late_units + d.missing_units]
    assert len(listed) == len(set(listed)) == d.on_time + d.late + d.missing
    for u in d.late_units:
        assert u.late_by_s is not None and u.late_by_s >= 0
    for unit, word in known.items():  # deadlines' word wins over what the submissions say
        group = {"on_time": d.on_time_units, "late": d.late_units, "missing": d.missing_units}.get(word.status)
        assert group is None or unit in [u.unit for u in group]
    received = {r.unit: r for r in reports}
    for u in d.on_time_units + d.late_units:
        if u.unit not in known:
            assert (received[u.unit].first_received_at < DUE) == (u in d.on_time_units)


@BOUNDED
@given(st.integers(1, 5000).flatmap(lambda whole: st.tuples(st.integers(0, whole), st.just(whole))))
@example((1999, 2000))  # 99.95%: printed "100,0%" while one unit had not reported
@example((1, 2001))  # 0.0499%: printed "0,0%" while one unit had
@example((2, 3))
def test_a_printed_rate_is_100_percent_only_when_all_did_and_0_only_when_none_did(case):
    part, whole = case
    text = vn_percent(part, whole)
    number = float(text.removesuffix("%").replace(",", "."))
    assert 0.0 <= number <= 100.0
    assert (text == "100,0%") == (part == whole)
    assert (text == "0,0%") == (part == 0)
    assert abs(number - 100 * part / whole) <= 0.1, "within one printed digit of the true rate"


@BOUNDED
@given(st.integers(0, 400), st.integers(0, 400), st.integers(0, 400), st.integers(0, 400))
def test_section_two_prints_counts_that_add_up_and_rates_in_order(on_time, late, missing, pending):
    expected = on_time + late + missing + pending
    d = DisciplineV1(due_at=DUE, expected=expected, on_time=on_time, late=late, missing=missing, pending=pending)
    text = " ".join(discipline_lines(d))
    assert f"Tổng số đơn vị phải gửi báo cáo: {expected:,}".replace(",", ".") in text
    if expected:
        sent, in_time = (
            float(vn_percent(n, expected).removesuffix("%").replace(",", ".")) for n in (on_time + late, on_time)
        )
        assert 0.0 <= in_time <= sent <= 100.0
    assert ("Tất cả các đơn vị đã gửi báo cáo đúng hạn" in text) == (expected > 0 and expected == on_time)
