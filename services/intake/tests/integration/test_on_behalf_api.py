"""The office's entry of a unit's report on its behalf (nhập hộ) through the API, on a real database and broker:
the version says `on_behalf` and the office's account in the receipt, the history, the search, the event on
baocao.submissions and the audit trail; another province's office and another unit's reporter store nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from baocao_shared.events import CloudEvent
from baocao_shared.events.topics import SUBMISSIONS
from baocao_testing.kit import read_topic, wait_until
from baocao_testing.samples import demo_province_file
from intake.adapters import orm
from intake.domain.catalog import parse_province_file
from services.intake.tests.conftest import Catalogue

pytestmark = [pytest.mark.integration, pytest.mark.hai_duong_in_june]
REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
PLAN = HAI_DUONG.plans[0].id
FIGURES = {i.code: 1 for t in HAI_DUONG.plans[0].template.tasks for i in t.indicators}
OFFICE = "test-province-operator-30"


def report(unit: str = "CA", **extra) -> dict:
    return {"plan_id": PLAN, "unit": unit, "period": "2019-06", "values": FIGURES, **extra}


async def events_for(kafka, submission_id: str, count: int) -> list[CloudEvent]:
    async def arrived():
        records = await read_topic(kafka.bootstrap, SUBMISSIONS)
        found = [CloudEvent.from_bytes(r.value) for r in records if submission_id.encode() in r.value]
        return found if len(found) >= count else None

    return await wait_until(arrived, timeout=20, what=f"{count} event(s) for {submission_id}")


async def stored_count(intake) -> int:
    async with intake.transaction() as db:
        return await db.scalar(select(func.count()).select_from(orm.submission_versions))


async def test_the_office_enters_and_amends_a_units_report_and_the_unit_sees_it_was_on_its_behalf(intake, kafka):
    office = await intake.headers_for("province_operator", "30")
    created = await intake.client.post("/v1/submissions", json=report(source="paper"), headers=office)
    assert created.status_code == 201, created.text
    receipt = created.json()
    assert (receipt["version"], receipt["channel"], receipt["entered_by"]) == (1, "on_behalf", OFFICE)
    submission = receipt["id"]

    changed = {"values": {**FIGURES, "t5_articles": 7}, "base_version": 1, "source": "email"}
    amended = await intake.client.put(f"/v1/submissions/{submission}", json=changed, headers=office)
    assert amended.status_code == 200, amended.text
    assert (amended.json()["version"], amended.json()["channel"]) == (2, "on_behalf")

    unit = await intake.headers_for("reporter", "30", "CA")
    got = (await intake.client.get(f"/v1/submissions/{submission}", headers=unit)).json()
    assert (got["submitted_by"], got["channel"], got["entered_by"], got["source"]) == (
        OFFICE, "on_behalf", OFFICE, "email"
    )  # fmt: skip
    assert [(h["version"], h["channel"], h["entered_by"], h["source"]) for h in got["history"]] == [
        (1, "on_behalf", OFFICE, "paper"),
        (2, "on_behalf", OFFICE, "email"),
    ]
    listed = await intake.client.get("/v1/submissions", params={"unit": "CA", "period": "2019-06"}, headers=unit)
    [row] = listed.json()
    assert (row["id"], row["version"], row["channel"], row["entered_by"]) == (submission, 2, "on_behalf", OFFICE)

    received, amended_event = sorted(await events_for(kafka, submission, 2), key=lambda e: e.data["version"])
    assert received.type == "vn.baocao.submission.received.v1"
    assert (received.data["channel"], received.data["entered_by"], received.data["submitted_by"]) == (
        "on_behalf", OFFICE, OFFICE
    )  # fmt: skip
    assert (amended_event.data["version"], amended_event.data["channel"]) == (2, "on_behalf")

    trail = await intake.client.get("/v1/audit", params={"province": "30"}, headers=office)
    rows = [r for r in trail.json()["items"] if r["subject"] == f"submission:{submission}"]
    assert [(r["action"], r["actor"], r["details"]["channel"], r["details"]["entered_by"]) for r in rows] == [
        ("submission.amended", OFFICE, "on_behalf", OFFICE),
        ("submission.received", OFFICE, "on_behalf", OFFICE),
    ]


async def test_the_units_own_report_says_api_and_no_office(intake):
    unit = await intake.headers_for("reporter", "30", "CA")
    created = await intake.client.post("/v1/submissions", json=report(), headers=unit)
    assert (created.json()["channel"], created.json()["entered_by"]) == ("api", None)
    got = (await intake.client.get(f"/v1/submissions/{created.json()['id']}", headers=unit)).json()
    assert [(h["channel"], h["entered_by"]) for h in got["history"]] == [("api", None)]
    refused = await intake.client.post("/v1/submissions", json=report(unit="BTG", source="paper"), headers=unit)
    assert refused.status_code == 403, "another unit's report, whatever it says"
    assert refused.json()["error"]["message"] == "This account reports for unit CA, not BTG.", refused.text
    assert await stored_count(intake) == 1, "CA's own version only"
    sourced = await intake.client.put(
        f"/v1/submissions/{created.json()['id']}", json={"values": FIGURES, "source": "paper"}, headers=unit
    )
    assert sourced.status_code == 422, sourced.text
    assert [p["type"] for p in sourced.json()["error"]["details"]] == ["source_not_on_behalf"]
    assert await stored_count(intake) == 1


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (report(province="30"), "Unit 30.CA is not of province 01"),  # NotYourProvincesUnit
        (report(), "Plan hd-467-2019 belongs to province 30"),  # its own province has no such plan
    ],
)
async def test_another_provinces_office_is_refused_and_nothing_is_stored(intake, body, said):
    office = await intake.headers_for("province_operator", "01")
    refused = await intake.client.post("/v1/submissions", json=body, headers=office)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "forbidden" and said in refused.json()["error"]["message"]
    assert await stored_count(intake) == 0

    own = await intake.client.post("/v1/submissions", json=report(), headers=await intake.headers_for(
        "province_operator", "30"))  # fmt: skip
    assert own.status_code == 201
    amend = {"values": FIGURES, "base_version": 1}
    refused = await intake.client.put(f"/v1/submissions/{own.json()['id']}", json=amend, headers=office)
    assert refused.status_code == 403 and "not of province 01" in refused.json()["error"]["message"]
    assert await stored_count(intake) == 1


async def test_the_national_office_and_another_units_reporter_enter_nothing(intake):
    for headers in (await intake.headers_for("national_operator"), await intake.headers_for("reporter", "30", "BTG")):
        refused = await intake.client.post("/v1/submissions", json=report(), headers=headers)
        assert refused.status_code == 403, refused.text
    assert await stored_count(intake) == 0


async def test_an_admin_names_the_province_when_several_hold_the_plan_id(intake):
    """Plan ids are a province's own: when two provinces hold the same id, an admin's entry (an admin has no
    province) must name the province, and is told so and which provinces hold it; naming it, the entry goes in."""
    admin = await intake.headers_for("admin")
    other = parse_province_file(demo_province_file("84", PLAN))  # a plan of the same id as Hải Dương's
    await intake.seed_catalog(Catalogue([other.province], other.units, other.plans))
    before = await stored_count(intake)

    unnamed = await intake.client.post("/v1/submissions", json=report("BTG", source="paper"), headers=admin)
    assert unnamed.status_code == 422, unnamed.text
    error = unnamed.json()["error"]
    assert error["details"][0]["loc"] == ["body", "province"] and "30, 84" in error["message"]
    assert await stored_count(intake) == before

    named = await intake.client.post(
        "/v1/submissions", json=report("BTG", source="paper", province="84"), headers=admin
    )
    assert named.status_code == 201, named.text
    assert named.json()["channel"] == "on_behalf"
    stored = (await intake.client.get(f"/v1/submissions/{named.json()['id']}", headers=admin)).json()
    assert (stored["province"], stored["unit"], stored["plan_id"]) == ("84", "BTG", PLAN)
