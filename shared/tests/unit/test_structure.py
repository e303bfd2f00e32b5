"""The structure over time (baocao_shared.structure): Hải Dương (30) merged into Hải Phòng (31) on 1 July 2025,
its district People's Committees retired, communes reporting directly; history kept, checks refusing a bad
reorganisation with a named problem."""

from baocao_shared.calendar import period_months
from baocao_shared.events.catalog import PlanV1, ProvinceV1, SuccessorV1, UnitV1
from baocao_shared.structure import (
    check_reorganisation,
    in_force,
    next_month,
    units_in_force,
)
from baocao_testing.samples import PLAN_467_CALENDAR


def province(code: str, **more) -> ProvinceV1:
    return ProvinceV1(code=code, name=f"Tỉnh {code}", issuing_body="BCĐ", place_name="X", **more)


def unit(prov: str, code: str, **more) -> UnitV1:
    return UnitV1(province=prov, code=code, name=code, **{"kind": "member", **more})


def to(prov: str, code: str | None = None, kind: str = "merge") -> SuccessorV1:
    return SuccessorV1(kind=kind, province=prov, code=code)


def plan(prov: str, plan_id: str, units: list[str], **more) -> PlanV1:
    return PlanV1.model_validate(
        {"id": plan_id, "province": prov, "number": "1/KH", "title": "KH", "issued_on": "2019-05-30",
         "first_period": "2019-06", "units": units, "calendar": PLAN_467_CALENDAR, "template": {"tasks": []},
         "report": {"title": "BC", "number_code": "BC"}, **more}
    )  # fmt: skip


def merger():
    """The country after 1 July 2025, as data: nothing before it is rewritten."""
    provinces = [
        province("30", valid_to="2025-06", successors=[to("31")]),
        province("31"),
    ]
    units = [
        unit("30", "CA", valid_to="2025-06", successors=[to("31", "CA")]),
        unit("30", "UBND-TPHD", kind="district", valid_to="2025-06", successors=[to("31", "UBND-XA-HD", "merge")]),
        unit("30", "UBND-KM", kind="district", valid_to="2025-06",
             successors=[to("31", "UBND-XA-KM1", "split"), to("31", "UBND-XA-KM2", "split")]),
        unit("31", "CA"),  # Hải Phòng's police, which Hải Dương's joined
        unit("31", "UBND-XA-HD", valid_from="2025-07"),
        unit("31", "UBND-XA-KM1", valid_from="2025-07"),
        unit("31", "UBND-XA-KM2", valid_from="2025-07"),
    ]  # fmt: skip
    plans = [
        plan("30", "hd-467", ["CA", "UBND-TPHD", "UBND-KM"], last_period="2025-06",
             successor=to("31", "hp-2025")),
        plan("31", "hp-2025", ["CA", "UBND-XA-HD", "UBND-XA-KM1", "UBND-XA-KM2"], first_period="2025-07"),
    ]  # fmt: skip
    return provinces, units, plans


def test_the_merger_passes_its_checks():
    assert check_reorganisation(*merger()) == []


def test_the_structure_in_force_is_the_periods():
    _, units, _ = merger()
    assert [u.code for u in units_in_force(units, "30", "2025-06")] == ["CA", "UBND-TPHD", "UBND-KM"]
    assert units_in_force(units, "30", "2025-08") == []
    assert [u.code for u in units_in_force(units, "31", "2025-08")] == [
        "CA",
        "UBND-XA-HD",
        "UBND-XA-KM1",
        "UBND-XA-KM2",
    ]
    assert [u.code for u in units_in_force(units, "31", "2025-06")] == ["CA"]
    assert next_month("2025-12") == "2026-01" and in_force(units[0], "2025-06") and not in_force(units[0], "2025-07")


def test_a_quarter_a_half_year_or_a_year_belongs_to_the_structure_of_its_last_month():
    _, units, _ = merger()
    district, ward = units[1], units[4]  # UBND-TPHD ended with June 2025; UBND-XA-HD began in July
    assert [period_months(p) for p in ("2025-06", "2025-Q3", "2025-H1", "2025-Y")] == [
        ("2025-06", "2025-06"), ("2025-07", "2025-09"), ("2025-01", "2025-06"), ("2025-01", "2025-12"),
    ]  # fmt: skip
    assert in_force(district, "2025-Q2") and not in_force(district, "2025-Q3") and in_force(district, "2025-H1")
    assert not in_force(ward, "2025-Q2") and in_force(ward, "2025-Q3") and not in_force(ward, "2025-H1")
    assert in_force(ward, "2025-Y") and not in_force(district, "2025-Y")  # the year's report is the successor's


def problems_of(provinces, units, plans) -> dict[str, tuple]:
    return {p.type: p.loc for p in check_reorganisation(provinces, units, plans)}


def test_a_unit_retired_with_its_plan_owes_nothing_after():
    provinces, units, plans = merger()
    units[1] = units[1].model_copy(update={"successors": []})  # the plan ends in 2025-06 too
    assert "obligation_without_unit" not in problems_of(provinces, units, plans)


def test_a_plan_going_on_after_a_unit_without_heir_is_refused():
    provinces, units, plans = merger()
    units[1] = units[1].model_copy(update={"successors": []})
    plans[0] = plans[0].model_copy(update={"last_period": None, "successor": None})
    # Every unit of the plan ends with no heir in it (its heirs are in Hải Phòng's plan, which it no longer names).
    orphans = [p.loc[-1] for p in check_reorganisation(provinces, units, plans) if p.type == "obligation_without_unit"]
    assert orphans == ["CA", "UBND-TPHD", "UBND-KM"]


def test_a_cycle_of_successors_is_refused():
    provinces, units, plans = merger()
    units[4] = units[4].model_copy(update={"valid_to": "2026-06", "successors": [to("30", "UBND-TPHD")]})
    assert "successor_cycle" in problems_of(provinces, units, plans)


def test_a_gap_and_an_overlap_are_refused():
    provinces, units, plans = merger()
    gap = [*units]
    gap[4] = gap[4].model_copy(update={"valid_from": "2025-09"})  # nobody reports July and August
    assert problems_of(provinces, gap, plans)["successor_gap"] == ("units", "30.UBND-TPHD", "successors", 0)
    overlap = [*units]
    overlap[0] = overlap[0].model_copy(update={"successors": [to("31", "UBND-XA-HD", "rename")]})
    overlap[4] = overlap[4].model_copy(update={"valid_from": "2025-05"})  # in force with its predecessor
    assert problems_of(provinces, overlap, plans)["validity_overlap"] == ("units", "30.CA", "successors", 0)


def test_an_unknown_successor_and_an_inverted_validity_are_refused():
    provinces, units, plans = merger()
    units[0] = units[0].model_copy(update={"successors": [to("31", "NOPE")], "valid_from": "2026-01"})
    found = problems_of(provinces, units, plans)
    assert found["successor_unknown"] == ("units", "30.CA", "successors", 0)
    assert found["validity_inverted"] == ("units", "30.CA", "valid_to")
