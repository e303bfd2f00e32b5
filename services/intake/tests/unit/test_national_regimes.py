"""National regimes as data (issue 18, part 3): a regime's file, and the rule that every indicator of a plan naming
a regime maps onto one of the regime's, checked over the catalogue as it would be after a load and refused at the
file's line with nothing applied."""

from pathlib import Path

import pytest

from baocao_shared.errors import Unprocessable
from baocao_shared.events.catalog import PLAN_UPSERTED, REGIME_UPSERTED
from baocao_testing.samples import regime_file
from intake.domain.catalog import ProvinceCatalog
from intake.domain.catalog_text import CatalogFileError
from intake.domain.regimes import RegimeCatalog, parse_catalog_file, parse_regime_file, parse_regime_json
from intake.handlers import catalog

PROVINCES = Path(__file__).resolve().parents[4] / "deploy" / "provinces"
HAI_DUONG = (PROVINCES / "30-hai-duong.yaml").read_text(encoding="utf-8")
HAI_PHONG = (PROVINCES / "31-hai-phong.yaml").read_text(encoding="utf-8")
NHAN_QUYEN = regime_file()
REBUTTALS = '          - {code: bai_phan_bac, label: "Bài phản bác thông tin sai lệch", unit: "bài"}\n'


def line_of(text: str, fragment: str, start: int = 0) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if i > start and fragment in line)


@pytest.fixture
def empty(uow):
    """A catalogue with nothing in it, no regime either."""
    uow.catalog.docs = {"province": {}, "unit": {}, "plan": {}}
    uow.catalog.regime_store = {}
    return uow


async def refused(uow, *texts: str) -> list[dict]:
    """The problems of loading `texts` together (province and regime files), after checking nothing was applied."""
    before = ({kind: dict(docs) for kind, docs in uow.catalog.docs.items()}, dict(uow.catalog.regime_store))
    parsed = [parse_catalog_file(t) for t in texts]
    with pytest.raises(Unprocessable) as caught:
        await catalog.load_provinces(
            uow,
            [c for c in parsed if isinstance(c, ProvinceCatalog)],
            regimes=[c for c in parsed if isinstance(c, RegimeCatalog)],
            actor="admin",
            now=None,
        )
    assert (uow.catalog.docs, uow.catalog.regime_store) == before and uow.published == [], "nothing applied"
    return caught.value.details


def test_a_regime_file_is_told_from_a_province_file_and_read_as_yaml_or_json():
    regime = parse_catalog_file(NHAN_QUYEN)
    assert isinstance(regime, RegimeCatalog) and isinstance(parse_catalog_file(HAI_DUONG), ProvinceCatalog)
    assert regime.regime.id == "nhan-quyen"
    assert regime.regime.issued_by == "Văn phòng Thường trực Ban Chỉ đạo Nhân quyền của Chính phủ"
    as_json = regime.regime.model_dump_json()
    assert parse_regime_json('{"regime": ' + as_json + "}").regime == regime.regime


def test_a_regime_file_s_problems_are_at_their_lines():
    misspelt = NHAN_QUYEN.replace("issued_by:", "isued_by:")
    with pytest.raises(CatalogFileError) as caught:
        parse_regime_file(misspelt)
    found = {(p["path"], p["line"]) for p in caught.value.problems}
    assert ("regime.isued_by", line_of(misspelt, "isued_by:")) in found
    assert ("regime.issued_by", line_of(misspelt, "id: nhan-quyen")) in found  # missing: at the mapping lacking it

    twice = NHAN_QUYEN.replace("code: luot_nguoi_quan_triet", "code: dot_tuyen_truyen")
    with pytest.raises(CatalogFileError) as caught:
        parse_regime_file(twice)
    second = line_of(twice, "code: dot_tuyen_truyen", line_of(twice, "code: dot_tuyen_truyen"))
    assert [(p["path"], p["line"]) for p in caught.value.problems] == [
        ("regime.template.tasks[1].indicators[0].code", second)
    ]


async def test_the_plans_and_their_regime_load_together(empty, now):
    hd, hp, regime = (parse_catalog_file(t) for t in (HAI_DUONG, HAI_PHONG, NHAN_QUYEN))
    summaries = await catalog.load_provinces(empty, [hd, hp], regimes=[regime], actor="admin", now=now)
    assert [s.get("regime") or s["province"] for s in summaries] == ["nhan-quyen", "30", "31"]
    assert summaries[0]["created"] == ["regime:nhan-quyen"]
    [published] = empty.events_of(REGIME_UPSERTED)
    assert published == regime.regime
    plans = {p.id: p for p in empty.events_of(PLAN_UPSERTED)}
    assert plans["hd-467-2019"].national.regime == "nhan-quyen"
    assert plans["hd-467-2019"].national.regime_code("t5_rebuttals") == "bai_phan_bac"
    assert plans["hp-2025"].national.regime == "nhan-quyen"

    again = await catalog.load_provinces(empty, [hd, hp], regimes=[regime], actor="admin", now=now)
    assert again[0] == {"regime": "nhan-quyen", "created": [], "updated": [], "retired": [], "unchanged": 1}
    assert len(empty.events_of(REGIME_UPSERTED)) == 1, "an unchanged regime is not published again"


async def test_a_plan_naming_a_regime_nobody_loaded_is_refused_at_its_line(empty):
    found = await refused(empty, HAI_DUONG, HAI_PHONG)
    assert {"path": "plans[0].national.regime", "line": line_of(HAI_DUONG, "regime: nhan-quyen"),
            "message": found[0]["message"], "type": "regime_unknown"} in found  # fmt: skip
    assert "nhan-quyen" in found[0]["message"]
    assert {(p["path"], p["line"]) for p in found} == {
        ("plans[0].national.regime", line_of(HAI_DUONG, "regime: nhan-quyen")),
    } | {("plans[0].national.regime", line_of(HAI_PHONG, "regime: nhan-quyen"))}


async def test_an_indicator_that_maps_to_nothing_in_the_regime_is_refused_at_the_indicator_s_line(uow):
    wrong = HAI_DUONG.replace("t5_rebuttals: bai_phan_bac", "t5_rebuttals: bai_bac_bo")
    found = await refused(uow, wrong, HAI_PHONG)
    [problem] = found
    assert problem["path"] == "plans[0].template.tasks[4].indicators[1]"
    assert problem["line"] == line_of(wrong, "{code: t5_rebuttals")
    assert problem["type"] == "indicator_unmapped"
    assert "'t5_rebuttals'" in problem["message"] and "'bai_bac_bo'" in problem["message"]
    assert "'nhan-quyen'" in problem["message"]


async def test_an_indicator_left_out_of_the_mapping_keeps_its_code_and_must_be_the_regime_s(uow):
    unlisted = HAI_DUONG.replace("        t1_sessions: hoi_nghi_quan_triet\n", "")
    [problem] = await refused(uow, unlisted, HAI_PHONG)
    assert (problem["path"], problem["line"]) == (
        "plans[0].template.tasks[0].indicators[0]",
        line_of(unlisted, "{code: t1_sessions"),
    )
    assert "'t1_sessions'" in problem["message"]


async def test_a_mapping_of_an_indicator_the_plan_does_not_have_is_refused_at_its_line(uow):
    extra = HAI_DUONG.replace(
        "        t1_sessions: hoi_nghi_quan_triet\n",
        "        t1_sessions: hoi_nghi_quan_triet\n        so_buoi: dot_tuyen_truyen\n",
    )
    [problem] = await refused(uow, extra, HAI_PHONG)
    assert (problem["path"], problem["line"], problem["type"]) == (
        "plans[0].national.indicators.so_buoi",
        line_of(extra, "so_buoi: dot_tuyen_truyen"),
        "mapping_unknown_indicator",
    )


async def test_a_regime_that_would_leave_a_stored_plan_s_indicator_unmapped_is_refused(uow, now):
    """uow holds Hải Dương and the regime: taking an indicator out of the regime would strand plan 467's."""
    fewer = NHAN_QUYEN.replace(REBUTTALS, "")
    assert fewer != NHAN_QUYEN
    [problem] = await refused(uow, fewer)
    assert problem["path"] == "regime.template" and problem["line"] == line_of(fewer, "    tasks:")
    assert "30.hd-467-2019" in problem["message"] and "'bai_phan_bac'" in problem["message"]
    assert problem["type"] == "indicator_unmapped"

    # The same through the single regime's use case (the admin PUT's).
    with pytest.raises(Unprocessable):
        await catalog.load_regime(uow, parse_regime_file(fewer), actor="admin", now=now)

    # A new indicator in the regime strands nobody.
    more = NHAN_QUYEN.replace(REBUTTALS, REBUTTALS + '          - {code: binh_luan, label: "Bình luận", unit: "bài"}\n')
    summary = await catalog.load_regime(uow, parse_regime_file(more), actor="admin", now=now)
    assert summary["updated"] == ["regime:nhan-quyen"]
    [published] = uow.events_of(REGIME_UPSERTED)
    assert "binh_luan" in {i.code for task in published.template.tasks for i in task.indicators}
