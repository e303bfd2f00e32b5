"""GET /v1/audit on a real database: an operator reads back what was done in their province, by whom, in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.domain.catalog import parse_province_file

pytestmark = [pytest.mark.integration, pytest.mark.hai_duong_in_june]
REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
PLAN = HAI_DUONG.plans[0].id
FIGURES = {i.code: 1 for t in HAI_DUONG.plans[0].template.tasks for i in t.indicators}


async def submit_and_amend(intake) -> str:
    reporter = await intake.headers_for("reporter", "30", "CA")
    report = {"plan_id": PLAN, "unit": "CA", "period": "2019-06", "values": FIGURES}
    created = await intake.client.post("/v1/submissions", json=report, headers=reporter)
    assert created.status_code == 201, created.text
    submission = created.json()["id"]
    changed = {**FIGURES, "t5_articles": 12}
    amended = await intake.client.put(f"/v1/submissions/{submission}", json={"values": changed}, headers=reporter)
    assert amended.status_code == 200, amended.text
    return submission


async def test_an_operator_reads_the_submission_and_its_amendment_newest_first_with_who_and_what(intake):
    submission = await submit_and_amend(intake)
    await intake.account_for("reporter", "01", "CA")  # an audited act of another province, not to be shown
    operator = await intake.headers_for("province_operator", "30")

    answer = await intake.client.get("/v1/audit", params={"province": "30"}, headers=operator)

    assert answer.status_code == 200, answer.text
    rows = answer.json()["items"]
    assert {r["province"] for r in rows} == {"30"}, "only province 30's rows"
    ids = [r["id"] for r in rows]
    assert ids == sorted(ids, reverse=True), "newest first"
    mine = [r for r in rows if r["subject"] == f"submission:{submission}"]
    assert [(r["action"], r["actor"], r["details"]["version"]) for r in mine] == [
        ("submission.amended", "test-reporter-30-CA", 2),
        ("submission.received", "test-reporter-30-CA", 1),
    ]
    assert mine[0]["details"]["changes"]["figures"]["t5_articles"] == {"from": 1, "to": 12}
    assert mine[0]["at"].startswith("2019-06-10T03:")
    # The accounts the test made for province 30 are in its trail too, older than the submission.
    assert ("account.created", "account:test-reporter-30-CA") in [(r["action"], r["subject"]) for r in rows]
    every = await intake.client.get("/v1/audit", headers=await intake.headers_for("admin"))
    assert "account:test-reporter-01-CA" in {r["subject"] for r in every.json()["items"]}, "admins read every province"


async def test_filters_and_pages_narrow_the_trail(intake):
    submission = await submit_and_amend(intake)
    admin = await intake.headers_for("admin")
    lock = f"/v1/admin/locks/30/{PLAN}/2019-06"
    assert (await intake.client.put(lock, json={"reason": "đã phát hành"}, headers=admin)).status_code == 200
    national = await intake.headers_for("national_operator")

    async def read(**params) -> list[dict]:
        answer = await intake.client.get("/v1/audit", params=params, headers=national)
        assert answer.status_code == 200, answer.text
        return answer.json()["items"]

    of_period = await read(province="30", period="2019-06")
    assert [r["action"] for r in of_period] == ["period.locked", "submission.amended", "submission.received"]
    assert of_period[0]["actor"] == "test-admin" and of_period[0]["details"] == {"reason": "đã phát hành"}
    assert [r["action"] for r in await read(subject=f"submission:{submission}", action="submission.received")] == [
        "submission.received"
    ]
    assert await read(province="30", period="2019-05") == []
    assert await read(province="30", period="2019-06", since="2019-06-11T00:00:00Z") == []
    assert await read(province="30", period="2019-06", until="2019-06-11T00:00:00+07:00") == of_period

    first = await intake.client.get("/v1/audit", params={"period": "2019-06", "limit": 2}, headers=national)
    page = first.json()
    assert [r["action"] for r in page["items"]] == ["period.locked", "submission.amended"]
    rest = await read(period="2019-06", before=page["next_before"], limit=2)
    assert [r["action"] for r in rest] == ["submission.received"]
    last = await intake.client.get("/v1/audit", params={"period": "2019-06", "limit": 3}, headers=national)
    assert last.json()["next_before"] is None


async def test_who_may_not_read_a_province_trail_is_told_so(intake):
    await submit_and_amend(intake)
    cases = [
        (await intake.headers_for("reporter", "30", "CA"), {"province": "30"}, 403),
        (await intake.headers_for("province_operator", "01"), {"province": "30"}, 403),
        (await intake.headers_for("province_operator", "30"), {}, 422),
        (await intake.headers_for("province_operator", "30"), {"province": "30", "limit": 201}, 422),
    ]
    for headers, params, status in cases:
        answer = await intake.client.get("/v1/audit", params=params, headers=headers)
        assert answer.status_code == status, (params, answer.text)
        assert answer.json()["error"]["message"]
    assert (await intake.client.get("/v1/audit")).status_code == 401


async def test_the_nhat_ky_page_lists_the_rows_for_an_operator_and_is_in_their_navigation(intake):
    submission = await submit_and_amend(intake)
    intake.client.cookies.set("baocao_session", await intake.token_for("province_operator", "30"))
    try:
        page = await intake.client.get("/nhat-ky")
        assert page.status_code == 200, page.text
        assert page.text.count(f"submission:{submission}") == 2 and "test-reporter-30-CA" in page.text
        assert page.text.index("submission.amended") < page.text.index("submission.received"), "newest first"
        assert 'href="/nhat-ky"' in (await intake.client.get("/")).text, "linked from the operator's navigation"
        intake.client.cookies.set("baocao_session", await intake.token_for("reporter", "30", "CA"))
        refused = await intake.client.get("/nhat-ky")
        assert refused.status_code == 403 and "/nhat-ky" not in (await intake.client.get("/")).text
    finally:
        intake.client.cookies.clear()
