"""A province file's reorganisation (issue 17, part 2): a load is checked over the whole catalogue as it would be
after it, refused at the file's lines with nothing applied; units and plans in force in a period; a retired unit
reports no more, its past reports stay its own."""

from pathlib import Path

import pytest

from baocao_shared.errors import Unprocessable
from baocao_shared.events.catalog import PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED
from intake.domain.catalog import parse_province_file
from intake.domain.errors import UnitNotInForce
from intake.domain.models import SubmissionIn
from intake.handlers import catalog, submissions

PROVINCES = Path(__file__).resolve().parents[4] / "deploy" / "provinces"
HAI_DUONG = (PROVINCES / "30-hai-duong.yaml").read_text(encoding="utf-8")
HAI_PHONG = (PROVINCES / "31-hai-phong.yaml").read_text(encoding="utf-8")


def line_of(text: str, fragment: str, start: int = 0) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if i > start and fragment in line)


async def refused(uow, *texts: str) -> list[dict]:
    before = {kind: dict(docs) for kind, docs in uow.catalog.docs.items()}
    with pytest.raises(Unprocessable) as caught:
        await catalog.load_provinces(uow, [parse_province_file(t) for t in texts], actor="admin", now=None)
    assert uow.catalog.docs == before and uow.published == [], "nothing applied"
    return caught.value.details


@pytest.fixture
def empty(uow):
    uow.catalog.docs = {"province": {}, "unit": {}, "plan": {}}
    return uow


async def test_the_merger_loads_when_both_files_are_loaded_together(empty, now):
    summaries = await catalog.load_provinces(
        empty, [parse_province_file(HAI_DUONG), parse_province_file(HAI_PHONG)], actor="admin", now=now
    )
    assert [s["province"] for s in summaries] == ["30", "31"]
    [plan] = [p for p in empty.events_of(PLAN_UPSERTED) if p.province == "30"]
    assert plan.successor.code == "hp-2025"
    [province] = [p for p in empty.events_of(PROVINCE_UPSERTED) if p.code == "30"]
    assert (province.valid_to, province.successors[0].province) == ("2025-06", "31")
    ca = next(u for u in empty.events_of(UNIT_UPSERTED) if u.code == "UBND-TPHD")
    assert (ca.valid_to, [(s.kind, s.province, s.code) for s in ca.successors]) == (
        "2025-06",
        [("merge", "31", "UBND-P-HD")],
    )


async def test_hai_duong_alone_names_successors_that_are_not_there(empty):
    found = await refused(empty, HAI_DUONG)
    assert {"path": "province.successors[0]", "line": line_of(HAI_DUONG, "successors: [{kind: merge"),
            "message": "Không có tỉnh kế thừa 31.", "type": "successor_unknown"} in found  # fmt: skip
    ca = line_of(HAI_DUONG, "code: CA}]")
    assert any(p["path"] == "units[0].successors[0]" and p["line"] == ca for p in found)


async def test_a_cycle_is_refused_at_its_line(empty):
    looped = HAI_PHONG.replace(
        "    kind: commune\n    valid_from: 2025-07\n    contacts:\n      - {channel: email, address: vanthu.ubnd-p-hd",
        "    kind: commune\n    valid_from: 2025-07\n    valid_to: 2025-09\n"
        '    successors: [{kind: merge, province: "31", code: UBND-P-CL}]\n'
        "    contacts:\n      - {channel: email, address: vanthu.ubnd-p-hd",
    ).replace(
        "    kind: commune\n    valid_from: 2025-07\n    contacts:\n      - {channel: email, address: vanthu.ubnd-p-cl",
        "    kind: commune\n    valid_from: 2025-07\n    valid_to: 2025-09\n"
        '    successors: [{kind: merge, province: "31", code: UBND-P-HD}]\n'
        "    contacts:\n      - {channel: email, address: vanthu.ubnd-p-cl",
    )
    found = await refused(empty, HAI_DUONG, looped)
    [cycle] = [p for p in found if p["type"] == "successor_cycle"]
    assert cycle["path"].endswith(".successors") and cycle["line"] is not None
    assert "31.UBND-P-HD" in cycle["message"] and "31.UBND-P-CL" in cycle["message"]


async def test_an_overlap_a_rename_whose_successor_is_already_in_force(empty):
    renamed = HAI_DUONG.replace("code: UBND-P-HD}]", "code: UBND-P-HD, kind: rename}]", 1)
    commune = "name: UBND phường Hải Dương (demo)\n    kind: commune\n    valid_from: "
    hp = HAI_PHONG.replace(commune + "2025-07", commune + "2025-01")
    found = await refused(empty, renamed, hp)
    [overlap] = [p for p in found if p["type"] == "validity_overlap"]
    assert overlap["path"] == "units[17].successors[0]"
    assert overlap["line"] == line_of(renamed, "kind: rename")


async def test_a_gap_a_successor_that_starts_a_month_late(empty):
    late = HAI_PHONG.replace("valid_from: 2025-07", "valid_from: 2025-08")
    found = await refused(empty, HAI_DUONG, late)
    gaps = [p for p in found if p["type"] == "successor_gap"]
    assert gaps and all(p["path"].startswith("units[") and p["line"] for p in gaps)
    assert "khoảng trống" in gaps[0]["message"]


async def test_an_open_obligation_left_without_a_unit(empty, now):
    await catalog.load_provinces(
        empty, [parse_province_file(HAI_DUONG), parse_province_file(HAI_PHONG)], actor="admin", now=now
    )
    empty.published.clear()
    # Hải Dương's plan going on after its units end, and Kinh Môn's committee ending with nobody named after it.
    heir = '    successors: [{kind: merge, province: "31", code: UBND-P-KM}]\n'
    going_on = HAI_DUONG.replace(heir, "").replace("    last_period: 2025-06", "    # last_period: 2025-06")
    found = await refused(empty, going_on)
    orphans = [p for p in found if p["type"] == "obligation_without_unit"]
    assert orphans and all(p["path"].startswith("plans[0].units") for p in orphans)
    assert any("UBND-KM" in p["message"] for p in orphans)
    assert orphans[0]["line"] == line_of(going_on, "units: all")


async def test_a_problem_with_another_provinces_stored_entity_is_named_without_a_line(empty, now):
    await catalog.load_provinces(
        empty, [parse_province_file(HAI_DUONG), parse_province_file(HAI_PHONG)], actor="admin", now=now
    )
    empty.published.clear()
    # Hải Phòng's file no longer has the commune Hải Dương's stored committees name as their successor.
    without = HAI_PHONG.replace("  - code: UBND-X-NS\n", "  - code: UBND-X-NS2\n")
    found = await refused(empty, without)
    assert {"path": "units[30.UBND-NS].successors[0]", "line": None, "message": "Không có đơn vị kế thừa 31.UBND-X-NS.",
            "type": "successor_unknown"} in found  # fmt: skip


async def test_units_and_plans_in_force_in_a_period(empty, now, as_reporter):
    await catalog.load_provinces(
        empty, [parse_province_file(HAI_DUONG), parse_province_file(HAI_PHONG)], actor="admin", now=now
    )
    admin = as_reporter("CA")
    assert len(await catalog.units(empty, principal=admin, province="30", period="2025-06")) == 29
    assert await catalog.units(empty, principal=admin, province="30", period="2025-07") == []
    assert len(await catalog.units(empty, principal=admin, province="30")) == 29, "without a period: as before"
    communes = [u.code for u in await catalog.units(empty, principal=admin, province="31", period="2025-07")]
    assert "UBND-P-HD" in communes and len(communes) == 22
    assert "UBND-P-HD" not in [u.code for u in await catalog.units(empty, principal=admin, province="31",
                                                                      period="2025-06")]  # fmt: skip
    assert [p.id for p in await catalog.plans(empty, province="30", period="2025-06")] == ["hd-467-2019"]
    assert await catalog.plans(empty, province="31", period="2025-06") == []
    assert [p.id for p in await catalog.plans(empty, province="31", period="2025-Q3")] == ["hp-2025"]


async def test_a_retired_unit_is_refused_naming_its_successors(uow, hai_duong, hai_phong, now, as_reporter):
    uow.catalog.add(*hai_phong.entities())
    body = SubmissionIn(plan_id="hd-467-2019", unit="UBND-TPHD", period="2025-07", values={})
    with pytest.raises(UnitNotInForce) as caught:
        await submissions.submit(uow, principal=as_reporter("UBND-TPHD"), body=body, now=now)
    assert caught.value.message == (
        "Đơn vị UBND thành phố Hải Dương (UBND-TPHD) đã chấm dứt từ kỳ 2025-07; "
        "báo cáo chuyển cho UBND phường Hải Dương (demo) (31.UBND-P-HD)."
    )
