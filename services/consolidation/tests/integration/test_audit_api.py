"""Consolidation's GET /v1/reports/audit on a real database: approve, publish and reopen read back in order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from services.consolidation.tests.kit import HAI_DUONG, province_for_tests, running, seed

pytestmark = pytest.mark.integration
OWN, OTHER = "65", "66"  # no other test's provinces: the app reads the shared broker
PLANS = {
    code: HAI_DUONG.plans[0].model_copy(update={"province": code, "units": ["CA"], "id": f"au-{uuid.uuid4().hex[:8]}"})
    for code in (OWN, OTHER)
}


@pytest.fixture
async def consolidation(postgres, kafka):
    async with running(postgres, kafka, clock_start=datetime(2019, 7, 2, 3, tzinfo=UTC)) as (app, mint):
        await seed(app, [province_for_tests(code) for code in PLANS], units=["CA"], plans=list(PLANS.values()))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://consolidation.test")
        async with client:
            yield client, mint


async def workflow(client, mint, province: str) -> None:
    """The province's operator approves and publishes the June report; an admin reopens it."""
    report = f"/v1/reports/{province}/2019-06"
    operator = mint.headers("province_operator", province)
    for step in ("approve", "publish"):
        answer = await client.post(f"{report}/{step}", headers=operator)
        assert answer.status_code == 200, answer.text
    reason = {"reason": "Đơn vị bổ sung số liệu"}
    reopened = await client.post(f"{report}/reopen", json=reason, headers=mint.headers("admin"))
    assert reopened.status_code == 200, reopened.text


async def test_approve_publish_and_reopen_are_read_back_newest_first_with_who_and_what(consolidation):
    client, mint = consolidation
    await workflow(client, mint, OWN)
    await workflow(client, mint, OTHER)

    answer = await client.get(
        "/v1/reports/audit", params={"province": OWN}, headers=mint.headers("province_operator", OWN)
    )

    assert answer.status_code == 200, answer.text
    page = answer.json()
    subject = f"report:{OWN}.{PLANS[OWN].id}.2019-06"
    assert [(r["action"], r["actor"], r["subject"], r["province"]) for r in page["items"]] == [
        ("report.reopened", "test-admin", subject, OWN),
        ("report.published", f"test-province_operator-{OWN}", subject, OWN),
        ("report.approved", f"test-province_operator-{OWN}", subject, OWN),
    ]
    assert page["items"][0]["details"]["reason"] == "Đơn vị bổ sung số liệu"
    assert page["items"][0]["at"].startswith("2019-07-02T03:") and page["next_before"] is None

    everything = await client.get(
        "/v1/reports/audit", params={"period": "2019-06"}, headers=mint.headers("national_operator")
    )
    assert {r["province"] for r in everything.json()["items"]} == {OWN, OTHER}, "the national office reads all"
    older = await client.get(
        "/v1/reports/audit",
        params={"province": OWN, "limit": 1, "action": "report.published"},
        headers=mint.headers("admin"),
    )
    assert [r["action"] for r in older.json()["items"]] == ["report.published"]


async def test_who_may_not_read_a_province_trail_is_told_so(consolidation):
    client, mint = consolidation
    await workflow(client, mint, OWN)
    for headers, params, status in [
        (mint.headers("reporter", OWN, "CA"), {"province": OWN}, 403),
        (mint.headers("province_operator", OTHER), {"province": OWN}, 403),
        (mint.headers("province_operator", OWN), {}, 422),
        (mint.headers("admin"), {"since": "not a time"}, 422),
    ]:
        answer = await client.get("/v1/reports/audit", params=params, headers=headers)
        assert answer.status_code == status, (params, answer.text)
        assert answer.json()["error"]["message"]
