"""The national roll-up per regime (issue 18, part 3) as a pure function: a province's counted report's totals in
its regime's codes, summed within one regime only, never across regimes."""

from __future__ import annotations

from datetime import UTC, datetime

from baocao_shared.events.catalog import IndicatorV1, NationalMappingV1, RegimeV1, TaskV1, TemplateV1
from consolidation.domain.national import ProvincePlan, counts, mapped, roll_up
from services.consolidation.tests.unit.world import PLAN

AT = datetime(2019, 6, 20, 3, tzinfo=UTC)


def regime(regime_id: str, *codes: str) -> RegimeV1:
    indicators = [IndicatorV1(code=code, label=code) for code in codes]
    return RegimeV1(
        id=regime_id, number=f"{regime_id}/HD", title=regime_id, issued_by="Văn phòng Thường trực",
        template=TemplateV1(tasks=[TaskV1(code="A", title="A", indicators=indicators)]),
    )  # fmt: skip


def report(province: str, regime_id: str | None, totals: dict[str, int] | None, status: str = "published", **kw):
    mapping = NationalMappingV1(regime=regime_id, **kw) if regime_id else None
    plan = PLAN.model_copy(update={"province": province, "id": f"p-{province}", "national": mapping})
    return ProvincePlan(province, f"Tỉnh {province}", plan, status, AT if totals else None, totals)


def test_published_and_accepted_count_and_nothing_else():
    assert [s for s in ("draft", "approved", "published", "accepted", "reopened") if counts(s)] == [
        "published",
        "accepted",
    ]


def test_a_plan_s_totals_go_into_the_regime_s_codes_and_an_unlisted_indicator_keeps_its_own():
    mapping = NationalMappingV1(regime="nq", indicators={"t1_sessions": "buoi", "t4_a": "doan", "t4_b": "doan"})
    assert mapped({"t1_sessions": 3, "t4_a": 1, "t4_b": 2, "bai": 5}, mapping) == {"buoi": 3, "doan": 3, "bai": 5}


def test_two_regimes_that_name_an_indicator_alike_are_never_added_together():
    regimes = {"nq": regime("nq", "buoi"), "pl": regime("pl", "buoi")}
    answer = roll_up(
        regimes,
        [
            report("30", "nq", {"t1_sessions": 3}, indicators={"t1_sessions": "buoi"}),
            report("31", "pl", {"t1_sessions": 40}, indicators={"t1_sessions": "buoi"}),
            report("32", "nq", {"t1_sessions": 5}, status="accepted", indicators={"t1_sessions": "buoi"}),
        ],
    )
    assert [(r["regime"], r["totals"]) for r in answer["regimes"]] == [("nq", {"buoi": 8}), ("pl", {"buoi": 40})]
    [nq, pl] = answer["regimes"]
    assert [(p["province"], p["totals"]) for p in nq["provinces"]] == [("30", {"buoi": 3}), ("32", {"buoi": 5})]
    assert (nq["number"], pl["title"]) == ("nq/HD", "pl")


def test_a_report_not_counted_is_missing_from_its_regime_and_adds_nothing():
    answer = roll_up(
        {"nq": regime("nq", "t1_sessions")},
        [
            report("30", "nq", {"t1_sessions": 3}),
            report("31", "nq", None, status="approved"),
            report("32", "nq", None, status="draft"),
        ],
    )
    [nq] = answer["regimes"]
    assert nq["totals"] == {"t1_sessions": 3}
    assert [(p["province"], p["status"], p["totals"]) for p in nq["provinces"]] == [
        ("30", "published", {"t1_sessions": 3}),
        ("31", "approved", {}),
        ("32", "draft", {}),
    ]
    assert [m["province"] for m in nq["missing"]] == ["31", "32"]


def test_a_plan_in_no_regime_is_unmapped_and_a_regime_not_yet_known_still_stands_alone():
    answer = roll_up({}, [report("30", None, {"t1_sessions": 3}), report("31", "moi", {"t1_sessions": 4})])
    assert answer["unmapped"] == [{"province": "30", "plan_id": "p-30", "status": "published"}]
    assert [(r["regime"], r["number"], r["totals"]) for r in answer["regimes"]] == [("moi", None, {"t1_sessions": 4})]
