"""Publishing locks the period end to end: intake answers 409 to a later amendment, until a reopen.

intake and consolidation run on their own databases and talk only through the real broker.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from baocao_testing.fixtures import create_database
from baocao_testing.kit import TokenMint, wait_until
from baocao_testing.samples import without_the_merger, without_the_national_regime
from baocao_testing.signing import signing_settings
from consolidation.config import Settings as ConsolidationSettings
from consolidation.main import create_app as create_consolidation
from intake.adapters.uow import IntakeUnitOfWork
from intake.config import Settings as IntakeSettings
from intake.domain.catalog import parse_province_file
from intake.handlers import accounts
from intake.main import create_app as create_intake

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
PLAN_ID = f"lock-{uuid.uuid4().hex[:8]}"  # the broker is shared with other tests: a plan of our own
HAI_DUONG = (REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8")
PROVINCE_FILE = without_the_national_regime(without_the_merger(HAI_DUONG.replace("id: hd-467-2019", f"id: {PLAN_ID}")))
FIGURES = {
    indicator.code: 1
    for task in parse_province_file(PROVINCE_FILE).plans[0].template.tasks
    for indicator in task.indicators
}


async def test_a_published_report_locks_its_period_in_intake(postgres, kafka, tmp_path, group_prefix):
    prefix = group_prefix
    clock = {"clock": "simulated", "clock_start": datetime(2019, 6, 10, 3, tzinfo=UTC), "clock_speed": 1}
    common = {
        "kafka_bootstrap_servers": kafka.bootstrap,
        "env": "test",
        "consumer_group_prefix": prefix,
        "outbox_poll_interval_s": 0.2,
        **clock,
    }
    intake = create_intake(
        IntakeSettings(database_url=await create_database(postgres, "intake"), home=tmp_path, **common)
    )
    mint = TokenMint()
    consolidation = create_consolidation(
        ConsolidationSettings(
            database_url=await create_database(postgres, "consolidation"), **common, **signing_settings()
        ),
        verifier=mint.verifier(),
    )
    async with intake.router.lifespan_context(intake), consolidation.router.lifespan_context(consolidation):
        units = httpx.AsyncClient(transport=httpx.ASGITransport(app=intake), base_url="http://intake.test")
        reports = httpx.AsyncClient(transport=httpx.ASGITransport(app=consolidation), base_url="http://c.test")
        admin = await signed_in(intake, units, "root", "mật-khẩu-quản-trị", role="admin")
        loaded = await units.put(
            "/v1/admin/provinces/30",
            content=PROVINCE_FILE.encode(),
            headers={**admin, "Content-Type": "application/yaml"},
        )
        assert loaded.status_code == 200, loaded.text
        unit = await signed_in(intake, units, "don-vi-ca", "mật-khẩu-đơn-vị", role="reporter", province="30", unit="CA")

        sent = await units.post(
            "/v1/submissions",
            headers=unit,
            json={"plan_id": PLAN_ID, "unit": "CA", "period": "2019-06", "values": FIGURES},
        )
        assert sent.status_code == 201, sent.text
        submission = sent.json()["id"]
        operator = mint.headers("province_operator", "30")
        url = f"/v1/reports/30/2019-06?plan_id={PLAN_ID}"

        async def report_has_the_unit():
            answer = await reports.get(url, headers=operator)
            return answer.status_code == 200 and [u["unit"] for u in answer.json()["units"]] == ["CA"]

        await wait_until(report_has_the_unit, timeout=30, what="consolidation to see the unit's report")
        assert (await reports.post(f"/v1/reports/30/2019-06/approve?plan_id={PLAN_ID}", headers=operator)).is_success
        assert (await reports.post(f"/v1/reports/30/2019-06/publish?plan_id={PLAN_ID}", headers=operator)).is_success

        async def amendment_refused():
            answer = await units.put(f"/v1/submissions/{submission}", headers=unit, json={"values": FIGURES})
            return answer if answer.status_code == 409 else None

        refused = await wait_until(amendment_refused, timeout=30, what="intake to lock the published period")
        assert "locked" in refused.json()["error"]["message"]

        reopened = await reports.post(
            f"/v1/reports/30/2019-06/reopen?plan_id={PLAN_ID}",
            headers=mint.headers("admin"),
            json={"reason": "Đơn vị CA bổ sung số liệu"},
        )
        assert reopened.status_code == 200 and reopened.json()["status"] == "draft"

        async def amendment_accepted():
            answer = await units.put(f"/v1/submissions/{submission}", headers=unit, json={"values": FIGURES})
            return answer.status_code == 200

        await wait_until(amendment_accepted, timeout=30, what="intake to reopen the period")
        await units.aclose()
        await reports.aclose()


async def signed_in(intake, client: httpx.AsyncClient, username: str, password: str, **scope) -> dict[str, str]:
    """An account created as an admin would, then signed in through POST /v1/auth/token: its bearer header."""
    async with intake.state.runtime.sessionmaker() as session, IntakeUnitOfWork(session) as uow:
        await accounts.create_account(
            uow, username=username, password=password, **{"province": None, "unit": None, **scope},
            actor="test", now=datetime.now(UTC),
        )  # fmt: skip
    token = (await client.post("/v1/auth/token", data={"username": username, "password": password})).json()
    return {"Authorization": f"Bearer {token['access_token']}"}
