"""Publishing on real PostgreSQL: the register's numbers under concurrent publishers, and a key that cannot
sign, which leaves nothing half published."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text

from baocao_shared.events.submissions import SubmissionV1
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.handlers import projection
from services.consolidation.tests.kit import HAI_DUONG, running, seed

pytestmark = pytest.mark.integration
PROVINCE = "57"  # no other test's province: the app reads the shared broker
PERIODS = ["2019-06", "2019-07", "2019-08", "2019-09"]


def a_plan():
    return HAI_DUONG.plans[0].model_copy(
        update={"id": f"p{uuid.uuid4().hex[:8]}", "province": PROVINCE, "units": ["CA"]}
    )


async def reports_in(app, plan) -> None:
    """The catalogue and CA's report of each period, straight into the projection."""
    await seed(app, [HAI_DUONG.province.model_copy(update={"code": PROVINCE})], units=["CA"], plans=[plan])
    async with app.state.runtime.sessionmaker() as db, ConsolidationUnitOfWork(db) as uow:
        for period in PERIODS:
            await projection.submission_recorded(
                uow,
                SubmissionV1(
                    submission_id=uuid.uuid4(), province=PROVINCE, unit="CA", plan_id=plan.id, period=period,
                    version=1, values={"t1_sessions": 2}, narratives={},
                    received_at=datetime(2019, 6, 1, tzinfo=UTC), first_received_at=datetime(2019, 6, 1, tzinfo=UTC),
                ),
            )  # fmt: skip


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://consolidation.test")


async def test_operators_publishing_at_once_get_consecutive_numbers_and_one_report_is_published_once(postgres, kafka):
    plan = a_plan()
    async with running(postgres, kafka, clock_start=datetime(2019, 12, 20, 3, tzinfo=UTC)) as (app, mint):
        await reports_in(app, plan)
        operator = mint.headers("province_operator", PROVINCE)
        async with client(app) as http:
            for period in PERIODS:
                approved = await http.post(
                    f"/v1/reports/{PROVINCE}/{period}/approve?plan_id={plan.id}", headers=operator
                )
                assert approved.status_code == 200, approved.text
            # Four reports at once, and the first of them twice more.
            asked = [*PERIODS, PERIODS[0], PERIODS[0]]
            answers = await asyncio.gather(
                *(http.post(f"/v1/reports/{PROVINCE}/{p}/publish?plan_id={plan.id}", headers=operator) for p in asked)
            )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200, 200, 200, 200, 409, 409], [a.text for a in answers]
        numbers = sorted(int(a.json()["number"].split("/")[0]) for a in answers if a.status_code == 200)
        assert numbers == [1, 2, 3, 4]  # no gap, no duplicate
        async with app.state.runtime.sessionmaker() as db:
            outbox = await db.scalar(
                text("SELECT count(*) FROM outbox WHERE event_type = 'vn.baocao.report.published.v1'")
            )
        assert outbox == 4


async def test_a_key_that_cannot_sign_refuses_and_nothing_is_half_published(postgres, kafka):
    plan = a_plan()
    wrong = {"signing_passphrase": SecretStr("không-phải-mật-khẩu"), "signing_passphrase_file": None}
    async with running(postgres, kafka, clock_start=datetime(2019, 12, 20, 3, tzinfo=UTC), **wrong) as (app, mint):
        await reports_in(app, plan)
        operator = mint.headers("province_operator", PROVINCE)
        url = f"/v1/reports/{PROVINCE}/2019-06"
        async with client(app) as http:
            assert (await http.post(f"{url}/approve?plan_id={plan.id}", headers=operator)).status_code == 200
            refused = await http.post(f"{url}/publish?plan_id={plan.id}", headers=operator)
            assert refused.status_code == 503, refused.text
            error = refused.json()["error"]
            assert error["details"]["reason"] == "wrong_passphrase" and "mật khẩu" in error["message"]
            assert "không-phải-mật-khẩu" not in refused.text
            report = (await http.get(f"{url}?plan_id={plan.id}", headers=operator)).json()
            assert report["status"] == "approved" and report["number"] is None and report["documents"] == []
        async with app.state.runtime.sessionmaker() as db:
            issued = await db.scalar(text("SELECT count(*) FROM outbox WHERE event_type LIKE 'vn.baocao.report.%'"))
            documents = await db.scalar(text("SELECT count(*) FROM documents"))
            taken = await db.scalar(
                text(f"SELECT coalesce(max(last_number), 0) FROM document_register WHERE province = '{PROVINCE}'")
            )
        assert (issued, documents, taken) == (1, 0, 0)  # the approval only; no number was used up
