import json
from pathlib import Path

import pytest
import yaml

from intake.domain.catalog import parse_province_file, parse_province_json
from intake.domain.catalog_text import CatalogFileError
from intake.domain.synthetic import synthetic_province

REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = (REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8")


def problems_of(text: str) -> list[dict]:
    with pytest.raises(CatalogFileError) as caught:
        parse_province_file(text)
    return caught.value.problems


def test_the_demo_province_file_holds_plan_467_as_domain_md_describes():
    catalog = parse_province_file(HAI_DUONG)
    assert catalog.province.code == "30" and catalog.province.timezone == "Asia/Ho_Chi_Minh"
    assert len(catalog.units) == 29
    assert {u.code for u in catalog.units if u.kind == "district"} >= {"UBND-TPHD", "UBND-TK", "UBND-KM"}
    [plan] = catalog.plans
    assert plan.number == "467/KH-BCĐNQ" and plan.units == [u.code for u in catalog.units]
    assert [t.code for t in plan.template.tasks] == ["T1", "T2", "T3", "T4", "T5"]
    assert [i.code for t in plan.template.tasks for i in t.indicators] == [
        "t1_sessions",
        "t1_participants",
        "t2_campaigns",
        "t2_publications",
        "t3_updates_sent",
        "t4_domestic_delegations",
        "t4_foreign_delegations",
        "t5_articles",
        "t5_rebuttals",
    ]
    cal = plan.calendar
    assert (cal.cutoff_day, cal.due_day, cal.province_due_day) == (15, 16, 20)
    assert (cal.reminders.days, cal.overdue.days, cal.escalation.days) == ([-3, -1, 0], [1, 3, 5], [1])
    assert cal.reminders.at == "08:00"


def test_every_problem_is_reported_with_its_line_and_path():
    broken = (
        HAI_DUONG.replace("code: BTG", "code: CA")
        .replace("t1_participants", "t1_sessions")
        .replace("timezone: Asia/Ho_Chi_Minh", "timezone: Mars/Olympus")
        .replace("due_day: 16", "due_dya: 16")
    )
    found = {(p["path"], p["line"]) for p in problems_of(broken)}
    lines = broken.splitlines()

    def line_of(fragment: str, start: int = 0) -> int:
        return next(i for i, text in enumerate(lines, 1) if i > start and fragment in text)

    assert ("province.timezone", line_of("Mars/Olympus")) in found
    assert ("units[1].code", line_of("- code: CA", line_of("- code: CA"))) in found
    assert ("plans[0].calendar.due_dya", line_of("due_dya")) in found
    dup = line_of("t1_sessions", line_of("t1_sessions", line_of("    template:")))
    assert ("plans[0].template.tasks[0].indicators[1].code", dup) in found


def test_a_plan_naming_an_unknown_unit_and_bad_yaml_are_refused():
    text = HAI_DUONG.replace("units: all", "units: [CA, NOPE]")
    assert any(p["path"] == "plans[0].units[1]" and "NOPE" in p["message"] for p in problems_of(text))
    [problem] = problems_of("province: [unclosed\n")
    assert problem["line"] is not None and "YAML" in problem["message"]


def test_synthetic_provinces_are_valid_province_files():
    import yaml

    doc = synthetic_province(yaml.safe_load(HAI_DUONG), code="77", units=120)
    catalog = parse_province_file(yaml.safe_dump(doc, allow_unicode=True))
    assert catalog.province.code == "77" and len(catalog.units) == 120
    assert (
        len(catalog.plans[0].units) == 120
        and catalog.plans[0].template == parse_province_file(HAI_DUONG).plans[0].template
    )


def json_problems_of(text: str) -> list[dict]:
    with pytest.raises(CatalogFileError) as caught:
        parse_province_json(text)
    return caught.value.problems


def test_the_same_file_as_json_gives_the_same_catalogue():
    document = json.dumps(yaml.safe_load(HAI_DUONG), ensure_ascii=False, default=str, indent=2)
    assert parse_province_json(document) == parse_province_file(HAI_DUONG)
    assert parse_province_json("\ufeff" + document) == parse_province_file(HAI_DUONG), "a UTF-8 BOM is allowed"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"province": NaN}', "NaN is not a JSON number"),
        ('{"province": {},\n "units": [}', "not valid JSON"),
        ("[" * 25 + "]" * 25, "nested more than 20 levels deep"),
        ('{"units": [' + ",".join(["0"] * 100_001) + "]}", "more than 100,000 values"),
        ('["a list"]', "expected a mapping"),
        ('{"province": {"name": "H\\u0000D"}, "units": []}', "holds U+0000"),
    ],
)
def test_a_json_file_no_rule_takes_is_refused_as_the_yaml_one_would_be(text, words):
    problems = json_problems_of(text)
    assert any(words in p["message"] for p in problems), problems


def test_a_json_problem_says_its_line():
    document = json.dumps(yaml.safe_load(HAI_DUONG.replace("due_day: 16", "due_day: 40")), default=str, indent=2)
    [problem] = json_problems_of(document)
    assert problem["path"] == "plans[0].calendar.due_day"
    assert '"due_day": 40' in document.splitlines()[problem["line"] - 1]
    assert json_problems_of('{"province": {},\n "units": [}')[0]["line"] == 2
