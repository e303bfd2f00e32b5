"""Consolidation's GET /v1/reports/audit on a real database: approve, publish and reopen read back in order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from baocao_shared import catalog_replica as replica
from baocao_shared.events.catalog import ProvinceV1, UnitV1
from baocao_testing.fixtures import create_database
from baocao_testing.kit import TokenMint
from consolidation.adapters import orm
from consolidation.config import Settings
from consolidation.main import create_app
from intake.domain.catalog import parse_province_file

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
OWN, OTHER = "65", "66"  # no other test's provinces: the app reads the shared broker
PLANS = {
    code: HAI_DUONG.plans[0].model_copy(update={"province": code, "units": ["CA"], "id": f"au-{uuid.uuid4().hex[:8]}"})
    for code in (OWN, OTHER)
}


@pytest.fixture
async def consolidation(postgres, kafka, group_prefix):
    mint = TokenMint()
    settings = Settings(
        database_url=await create_database(postgres, "consolidation"),
        kafka_bootstrap_servers=kafka.bootstrap,
        env="test",
        consumer_group_prefix=group_prefix,
        outbox_poll_interval_s=0.2,
        clock="simulated",
        clock_start=datetime(2019, 7, 2, 3, tzinfo=UTC),
    )
    app = create_app(settings, verifier=mint.verifier())
    async with app.router.lifespan_context(app):
        async with app.state.runtime.sessionmaker() as db, db.begin():
            for code, plan in PLANS.items():
                place = ProvinceV1(code=code, name=f"Tỉnh Thử {code}", issuing_body="BAN CHỈ ĐẠO THỬ", place_name="Thử")
                await replica.upsert_province(db, orm.provinces, place)
                await replica.upsert_unit(db, orm.units, UnitV1(province=code, code="CA", name="CA", kind="member"))
                await replica.upsert_plan(db, orm.plans, plan)
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
