"""The report over a reorganisation (consolidation.domain.continuity): Hải Dương (30) merged into Hải Phòng
(31) on 1 July 2025; each period's report names the units in force then, and Hải Phòng's new plan compares
with Hải Dương's plan 467 for the periods before it began, and says so."""

from baocao_shared.events.catalog import PlanV1, ProvinceV1, SuccessorV1, UnitV1
from baocao_shared.periods import in_plan
from consolidation.domain import continuity
from consolidation.domain.comparisons import PeriodFigures, compare, periods_needed
from services.consolidation.tests.kit import HAI_DUONG

BASE = HAI_DUONG.plans[0]


def plan(province: str, plan_id: str, units: list[str], **more) -> PlanV1:
    return BASE.model_copy(
        update={"province": province, "id": plan_id, "units": units, "successor": None, "last_period": None, **more}
    )


def province(code: str, name: str, **more) -> ProvinceV1:
    return ProvinceV1(code=code, name=name, issuing_body="BCĐ", place_name=name, **more)


HD = plan("30", "hd-467", ["CA", "UBND-TPHD"], last_period="2025-06",
          successor=SuccessorV1(kind="merge", province="31", code="hp-2025"))  # fmt: skip
HP = plan("31", "hp-2025", ["CA", "UBND-XA-HD"], first_period="2025-07", number="12/KH-BCĐ")
PROVINCES = {
    "30": province("30", "Hải Dương", valid_to="2025-06", successors=[SuccessorV1(kind="merge", province="31")]),
    "31": province("31", "Thành phố Hải Phòng"),
}


def test_a_report_expects_only_the_units_in_force_in_its_period():
    units = [
        UnitV1(province="30", code="CA", name="CA", kind="member", valid_to="2025-06"),
        UnitV1(province="30", code="UBND-TPHD", name="TP", kind="district", valid_to="2025-06"),
        UnitV1(province="31", code="UBND-XA-HD", name="Xã", kind="member", valid_from="2025-07"),
    ]
    assert continuity.expected_units(HD, units, "2025-06") == ["CA", "UBND-TPHD"]
    assert continuity.expected_units(HD, units, "2025-07") == []
    assert continuity.expected_units(HP, units, "2025-06") == ["CA"]  # 31's CA is not in the list: it stays
    assert continuity.expected_units(HP, units, "2025-08") == ["CA", "UBND-XA-HD"]


def test_the_predecessors_are_followed_back_and_each_period_routed_to_the_plan_that_covered_it():
    older = plan("30", "hd-old", ["CA"], last_period="2019-12", successor=SuccessorV1(kind="rename", province="30",
                                                                                      code="hd-467"))  # fmt: skip
    unrelated = plan("32", "x", ["CA"])
    assert continuity.predecessors_of(HP, [HD, older, unrelated, HP]) == [HD, older]
    assert continuity.predecessors_of(HD, [HD, older, HP]) == [older]
    wanted = ["2025-08", *periods_needed("2025-08", "monthly", first_period="2019-06")]
    routed = continuity.route(wanted, HP, [HD])
    assert routed["2025-08"] == [HP] and routed["2025-07"] == [HP]
    assert routed["2024-08"] == [HD] and routed["2025-01"] == [HD] and routed["2025-06"] == [HD]
    assert continuity.earliest_first_period(HP, [HD]) == HD.first_period
    # Without a predecessor, every period is the plan's own.
    assert all(plans == [HP] for plans in continuity.route(wanted, HP, []).values())


def test_a_merger_of_several_sums_their_figures_and_the_comparisons_read_the_predecessor():
    hp_old = plan("31", "hp-old", ["CA"], last_period="2025-06",
                  successor=SuccessorV1(kind="merge", province="31", code="hp-2025"))  # fmt: skip
    wanted = ["2025-08", *periods_needed("2025-08", "monthly", first_period="2019-06")]
    routed = continuity.route(wanted, HP, [HD, hp_old])
    figures = {
        ("30", "hd-467"): {"2024-08": PeriodFigures({"t1_sessions": 5}, 2), "2025-06": PeriodFigures({}, 1)},
        ("31", "hp-old"): {"2024-08": PeriodFigures({"t1_sessions": 3}, 1)},
        ("31", "hp-2025"): {"2025-08": PeriodFigures({"t1_sessions": 4}, 2), "2025-07": PeriodFigures({}, 2)},
    }
    gathered = continuity.gather(routed, figures)
    assert gathered["2024-08"] == PeriodFigures({"t1_sessions": 8}, 3)
    compared, coverage = compare(
        period="2025-08", frequency="monthly", indicators=["t1_sessions"], figures=gathered, expected=2,
        first_period=continuity.earliest_first_period(HP, [HD, hp_old]),
    )  # fmt: skip
    c = compared["t1_sessions"]
    assert (c.total, c.previous, c.last_year, c.year_to_date) == (4, 0, 8, 4)
    assert coverage.year_periods[0] == "2025-01" and coverage.last_year == 3


def test_the_document_says_whose_figures_the_comparisons_read():
    wanted = ["2025-08", *periods_needed("2025-08", "monthly", first_period="2019-06")]
    routed = continuity.route(wanted, HP, [HD])
    _, coverage = compare(period="2025-08", frequency="monthly", indicators=[], figures={}, expected=2,
                          first_period="2019-06")  # fmt: skip
    [note] = continuity.notes(HP, coverage, routed, PROVINCES)
    assert (note.province, note.plan_id, note.plan_number) == ("30", "hd-467", HD.number)
    assert note.comparisons == ["last_year", "year_to_date"] and "2024-08" in note.periods
    assert note.note == (
        f"Số liệu cùng kỳ năm trước và lũy kế từ đầu năm gồm số liệu của tỉnh Hải Dương (kế hoạch {HD.number}) "
        "trước khi hợp nhất."
    )
    # July compares with June, Hải Dương's: the previous period too.
    _, july = compare(period="2025-07", frequency="monthly", indicators=[], figures={}, expected=2,
                      first_period="2019-06")  # fmt: skip
    [note] = continuity.notes(HP, july, continuity.route(["2025-06", "2024-07"], HP, [HD]), PROVINCES)
    assert note.note.startswith("Số liệu kỳ trước, cùng kỳ năm trước và lũy kế từ đầu năm gồm số liệu của tỉnh")
    # A plan with no predecessor says nothing.
    assert continuity.notes(HP, coverage, continuity.route(wanted, HP, []), PROVINCES) == []
    assert continuity.place_words(PROVINCES["31"], "31") == "thành phố Hải Phòng"


def test_the_national_roll_up_follows_the_structure_in_force():
    listed = list(PROVINCES.values())
    assert [p.code for p in continuity.in_force_provinces(listed, "2025-06")] == ["30", "31"]
    assert [p.code for p in continuity.in_force_provinces(listed, "2025-08")] == ["31"]
    assert in_plan(HD, "2025-06") and not in_plan(HD, "2025-07")
    assert not in_plan(HP, "2025-06") and in_plan(HP, "2025-08")


def test_a_quarterly_plan_compares_with_its_quarterly_predecessor_before_it_began():
    """Plan bounds are months and quarters compare through theirs: Hải Phòng's quarterly plan begins with the
    quarter holding July 2025; the quarters before it are Hải Dương's (its plan ended with June 2025)."""
    quarterly = {**BASE.calendar.model_dump(), "frequency": "quarterly"}
    hd = HD.model_copy(update={"calendar": BASE.calendar.model_validate(quarterly)})
    hp = HP.model_copy(update={"calendar": BASE.calendar.model_validate(quarterly)})
    routed = continuity.route(["2025-Q3", "2025-Q2", "2024-Q3", "2019-Q1"], hp, [hd])
    assert {code: [p.id for p in plans] for code, plans in routed.items()} == {
        "2025-Q3": ["hp-2025"], "2025-Q2": ["hd-467"], "2024-Q3": ["hd-467"],
        "2019-Q1": ["hp-2025"],  # before Hải Dương's plan too: nobody's figures, the plan's own (none)
    }  # fmt: skip
