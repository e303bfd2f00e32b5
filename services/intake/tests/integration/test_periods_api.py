"""Where a period stands, as intake answers and acts on it (baocao_shared.periods): a closed period refuses a
unit's report until the office grants an exception, a history period is imported by the office, the start of
tracking is data the office sets, and the unit's home shows the periods it may act on.

On 1 August 2019, 10:00 in Hải Dương: 2019-06 and 2019-07 are closed (on the 25th), 2019-08 is open.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from baocao_shared.events import CloudEvent
from baocao_shared.events.topics import CATALOG, SUBMISSIONS
from baocao_testing.kit import end_offsets, read_topic, wait_until
from intake.adapters import orm
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.catalog import parse_province_file
from intake.handlers.catalog import load_province

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
FILE = (REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8")
HAI_DUONG = parse_province_file(FILE)
HAI_PHONG = parse_province_file((REPO / "deploy/provinces/31-hai-phong.yaml").read_text(encoding="utf-8"))
PLAN = HAI_DUONG.plans[0]
FIGURES = {i.code: 2 for t in PLAN.template.tasks for i in t.indicators}
EXCEPTIONS = "/v1/periods/30/2019-07/exceptions"


@pytest.fixture
def intake_settings_overrides() -> dict:
    return {"clock": "simulated", "clock_start": "2019-08-01T03:00:00Z", "clock_speed": 1}


@pytest.fixture
def intake_catalog() -> SimpleNamespace:
    # With Hải Phòng (DEMO DATA), where Hải Dương's file says its reporting went from 2025-07: a load checks it.
    return SimpleNamespace(
        provinces=[HAI_DUONG.province, HAI_PHONG.province],
        units=[*HAI_DUONG.units, *HAI_PHONG.units],
        plans=[*HAI_DUONG.plans, *HAI_PHONG.plans],
    )


def report(period: str, unit: str = "CA") -> dict:
    return {"plan_id": PLAN.id, "unit": unit, "period": period, "values": FIGURES, "narratives": {"T1": "Đã làm."}}


async def events_for(
    kafka, topic: str, needle: str, count: int, since: dict[int, int] | None = None
) -> list[CloudEvent]:
    """The events on `topic` (after `since`: the session's broker holds other tests' events too) holding `needle`."""

    async def arrived():
        found = [
            CloudEvent.from_bytes(r.value)
            for r in await read_topic(kafka.bootstrap, topic, since=since)
            if needle.encode() in r.value
        ]
        return found if len(found) >= count else None

    return await wait_until(arrived, timeout=20, what=f"{count} event(s) with {needle}")


async def test_a_closed_period_refuses_a_unit_until_the_office_grants_it_an_exception(intake, kafka):
    unit = await intake.headers_for("reporter", "30", "CA")
    refused = await intake.client.post("/v1/submissions", json=report("2019-07"), headers=unit)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "period_closed"
    assert error["message"].startswith("Kỳ 2019-07 đã khóa sổ ngày 25/07/2019") and "ngoại lệ" in error["message"]
    assert error["details"]["period"] == "2019-07" and error["details"]["closes_at"].startswith("2019-07-24T17:00")

    office = await intake.headers_for("province_operator", "30")
    reporter_tries = await intake.client.post(EXCEPTIONS, json={"unit": "CA", "reason": "xin"}, headers=unit)
    assert reporter_tries.status_code == 403
    unknown = await intake.client.post(EXCEPTIONS, json={"unit": "NOPE", "reason": "bổ sung"}, headers=office)
    assert unknown.status_code == 404
    empty = await intake.client.post(EXCEPTIONS, json={"unit": "CA", "reason": "  "}, headers=office)
    assert empty.status_code == 422
    still_open = await intake.client.post(
        "/v1/periods/30/2019-08/exceptions", json={"unit": "CA", "reason": "bổ sung"}, headers=office
    )
    assert still_open.status_code == 409 and "chưa khóa sổ" in still_open.json()["error"]["message"]

    granted = await intake.client.post(EXCEPTIONS, json={"unit": "CA", "reason": "Gửi bổ sung"}, headers=office)
    assert granted.status_code == 201, granted.text
    assert granted.json()["granted_by"] == "test-province-operator-30"
    listed = await intake.client.get(EXCEPTIONS, headers=office)
    assert [(e["unit"], e["reason"]) for e in listed.json()] == [("CA", "Gửi bổ sung")]

    accepted = await intake.client.post("/v1/submissions", json=report("2019-07"), headers=unit)
    assert accepted.status_code == 201, accepted.text
    other = await intake.client.post(
        "/v1/submissions", json=report("2019-07", "BTG"), headers=await intake.headers_for("reporter", "30", "BTG")
    )
    assert other.status_code == 409, "the exception is the unit's own"
    [event] = await events_for(kafka, SUBMISSIONS, accepted.json()["id"], 1)
    assert event.data["after_close"] is True and event.data["imported"] is False
    stored = (await intake.client.get(f"/v1/submissions/{accepted.json()['id']}", headers=unit)).json()
    assert [(h["version"], h["after_close"], h["imported"]) for h in stored["history"]] == [(1, True, False)]

    revoked = await intake.client.delete(EXCEPTIONS + "/CA", headers=office)
    assert revoked.status_code == 204
    assert (await intake.client.delete(EXCEPTIONS + "/CA", headers=office)).status_code == 404
    amend = await intake.client.put(f"/v1/submissions/{accepted.json()['id']}", json={"values": FIGURES}, headers=unit)
    assert amend.status_code == 409 and amend.json()["error"]["code"] == "period_closed"
    async with intake.transaction() as db:
        actions = list(await db.scalars(select(orm.audit_log.c.action).order_by(orm.audit_log.c.id)))
    assert [a for a in actions if not a.startswith("account.")] == [
        "period.exception_granted",
        "submission.received",
        "period.exception_revoked",
    ]


async def test_a_unit_amends_a_closed_period_while_its_exception_stands(intake, kafka):
    unit = await intake.headers_for("reporter", "30", "CA")
    office = await intake.headers_for("province_operator", "30")
    granted = await intake.client.post(EXCEPTIONS, json={"unit": "CA", "reason": "Gửi bổ sung"}, headers=office)
    assert granted.status_code == 201, granted.text
    accepted = await intake.client.post("/v1/submissions", json=report("2019-07"), headers=unit)
    assert accepted.status_code == 201, accepted.text
    submission = f"/v1/submissions/{accepted.json()['id']}"

    corrected = {**FIGURES, "t1_sessions": 5}
    amended = await intake.client.put(submission, json={"values": corrected, "base_version": 1}, headers=unit)
    assert amended.status_code == 200, amended.text
    assert (amended.json()["version"], amended.json()["status"]) == (2, "amended")
    stored = (await intake.client.get(submission, headers=unit)).json()
    assert (stored["version"], stored["values"]["t1_sessions"], stored["after_close"]) == (2, 5, True)
    assert [(h["version"], h["after_close"]) for h in stored["history"]] == [(1, True), (2, True)]
    assert stored["history"][-1]["changes"]["figures"] == {"t1_sessions": {"from": 2, "to": 5}}
    events = await events_for(kafka, SUBMISSIONS, accepted.json()["id"], 2)
    [amendment] = [e for e in events if e.type == "vn.baocao.submission.amended.v1"]
    assert amendment.data["version"] == 2 and amendment.data["after_close"] is True
    async with intake.transaction() as db:
        details = await db.scalar(select(orm.audit_log.c.details).where(orm.audit_log.c.action == "submission.amended"))
    assert details["after_close"] is True and details["version"] == 2


async def test_the_office_imports_a_history_period_and_units_are_sent_to_it(intake, kafka):
    office = await intake.headers_for("province_operator", "30")
    before = await end_offsets(kafka.bootstrap, CATALOG)
    tracking = await intake.client.put(f"/v1/plans/30/{PLAN.id}/tracking", json={"from": "2019-07"}, headers=office)
    assert tracking.status_code == 200, tracking.text
    assert tracking.json()["tracking_from"] == "2019-07"
    published = await events_for(kafka, CATALOG, "tracking_from", 1, since=before)
    mine = [e for e in published if e.type == "vn.baocao.plan.upserted.v1" and e.data.get("tracking_from") == "2019-07"]
    assert [e.data["id"] for e in mine] == [PLAN.id]

    june = (await intake.client.get(f"/v1/periods/30/2019-06?plan_id={PLAN.id}", headers=office)).json()
    assert (june["state"], june["tracked"], june["tracking_from"]) == ("history", False, "2019-07")
    listed = (await intake.client.get("/v1/periods/30", headers=office)).json()  # the province's only plan
    assert [(p["period"], p["state"]) for p in listed] == [
        ("2019-06", "history"), ("2019-07", "closed"), ("2019-08", "open")
    ]  # fmt: skip
    assert (await intake.client.get("/v1/periods/30/2019-13", headers=office)).status_code == 422
    assert (await intake.client.get("/v1/periods/30/2019-Q2", headers=office)).status_code == 422
    assert (await intake.client.get("/v1/periods/32/2019-06", headers=office)).status_code == 404
    assert (await intake.client.get("/v1/periods/30/2019-06?plan_id=nope", headers=office)).status_code == 404

    unit = await intake.headers_for("reporter", "30", "CA")
    refused = await intake.client.post("/v1/submissions", json=report("2019-06"), headers=unit)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "period_history"

    body = {"unit": "CA", "values": FIGURES, "narratives": {"T1": "Số liệu lịch sử."}}
    assert (await intake.client.post("/v1/periods/30/2019-06/imports", json=body, headers=unit)).status_code == 403
    not_history = await intake.client.post("/v1/periods/30/2019-08/imports", json=body, headers=office)
    assert not_history.status_code == 409
    invalid = await intake.client.post(
        "/v1/periods/30/2019-06/imports", json={**body, "values": {"t1_sessions": -1}}, headers=office
    )
    assert invalid.status_code == 422
    imported = await intake.client.post("/v1/periods/30/2019-06/imports", json=body, headers=office)
    assert imported.status_code == 201, imported.text
    [event] = await events_for(kafka, SUBMISSIONS, imported.json()["id"], 1)
    assert event.data["imported"] is True and event.data["submitted_by"] == "test-province-operator-30"
    assert event.data["unit"] == "CA" and event.data["period"] == "2019-06"
    stored = (await intake.client.get(f"/v1/submissions/{imported.json()['id']}", headers=unit)).json()
    assert stored["history"][0]["imported"] is True
    assert (stored["imported"], stored["after_close"]) == (True, False), "the latest version's flags, at the top"
    [listed] = (await intake.client.get("/v1/submissions?period=2019-06", headers=unit)).json()
    assert listed["imported"] is True
    async with intake.transaction() as db:
        action = await db.scalar(select(orm.audit_log.c.action).where(orm.audit_log.c.subject.like("submission:%")))
    assert action == "submission.imported"


async def test_a_province_file_without_tracking_from_keeps_the_stored_one(intake):
    admin = await intake.headers_for("admin")
    answer = await intake.client.put(f"/v1/plans/30/{PLAN.id}/tracking", json={"from": "2019-07"}, headers=admin)
    assert answer.status_code == 200
    async with intake.transaction() as db:
        await load_province(IntakeUnitOfWork(db), HAI_DUONG, actor="test", now=intake.app.state.runtime.clock.now())
    async with intake.transaction() as db:
        assert (await IntakeUnitOfWork(db).catalog.plan("30", PLAN.id)).tracking_from == "2019-07"
    given = parse_province_file(
        FILE.replace("    first_period: 2019-06\n", "    first_period: 2019-06\n    tracking_from: 2019-06\n")
    )
    async with intake.transaction() as db:
        await load_province(IntakeUnitOfWork(db), given, actor="test", now=intake.app.state.runtime.clock.now())
    async with intake.transaction() as db:
        assert (await IntakeUnitOfWork(db).catalog.plan("30", PLAN.id)).tracking_from == "2019-06"
    reporter = await intake.headers_for("reporter", "30", "CA")
    refused = await intake.client.put(f"/v1/plans/30/{PLAN.id}/tracking", json={"from": "2019-07"}, headers=reporter)
    assert refused.status_code == 403


@pytest.mark.parametrize("intake_settings_overrides", [{"clock": "simulated", "clock_start": "2021-03-01T03:00:00Z"}])
async def test_the_home_shows_the_open_periods_and_the_twelve_newest_with_a_link_to_all(intake):
    await intake.create_account("30-CA", role="reporter", province="30", unit="CA")
    token = await intake.login("30-CA")
    intake.client.cookies.set("baocao_session", token)
    page = (await intake.client.get("/")).text
    periods = re.findall(r"<strong>(\d{4}-\d{2})</strong>", page)
    # 2021-03 is open; every period before it is closed: the 12 newest are 2021-03 down to 2020-04.
    assert periods == [
        f"{y}-{m:02d}" for y, m in [(2021, 3), (2021, 2), (2021, 1)] + [(2020, m) for m in range(12, 3, -1)]
    ]
    assert "Xem tất cả các kỳ" in page and "?tat_ca=1" in page and "10 kỳ cũ hơn" in page
    assert "Đã khóa sổ, chưa nộp" in page and "Quá hạn, chưa nộp" not in page
    everything = (await intake.client.get("/?tat_ca=1")).text
    assert len(re.findall(r"<strong>(\d{4}-\d{2})</strong>", everything)) == 22
    assert "Xem tất cả các kỳ" not in everything
    closed_row = everything.split("<strong>2019-06</strong>")[1].split("</tr>")[0]
    assert "Đã khóa sổ, chưa nộp" in closed_row and "Nhập báo cáo" not in closed_row
    # Reached by its address, the closed period's form says why before anything is typed, and cannot be sent.
    shut = await intake.client.get(f"/bao-cao/{PLAN.id}/2019-06")
    assert shut.status_code == 200 and "đã khóa sổ ngày" in shut.text and "ngoại lệ" in shut.text
    assert '<button type="submit" class="button">' not in shut.text and "<fieldset disabled>" in shut.text

    office = await intake.headers_for("province_operator", "30")
    excepted = await intake.client.post(
        "/v1/periods/30/2019-06/exceptions", json={"unit": "CA", "reason": "Gửi bổ sung"}, headers=office
    )
    assert excepted.status_code == 201, excepted.text
    page = (await intake.client.get("/")).text
    assert "<strong>2019-06</strong>" in page, "a closed period the unit may still report is shown"
    assert "Nhập báo cáo" in page.split("<strong>2019-06</strong>")[1].split("</tr>")[0]
    opened = await intake.client.get(f"/bao-cao/{PLAN.id}/2019-06")
    assert "đã khóa sổ ngày" not in opened.text and "<fieldset disabled>" not in opened.text
    assert '<button type="submit" class="button">' in opened.text

    admin = await intake.headers_for("admin")
    answer = await intake.client.put(f"/v1/plans/30/{PLAN.id}/tracking", json={"from": "2020-01"}, headers=admin)
    assert answer.status_code == 200
    everything = (await intake.client.get("/?tat_ca=1")).text
    history_row = everything.split("<strong>2019-07</strong>")[1].split("</tr>")[0]
    assert "Số liệu lịch sử" in history_row and "Nhập báo cáo" not in history_row and "Quá hạn" not in history_row
