"""Where a plan's periods stand, on real Kafka and PostgreSQL: consolidation answers baocao_shared.periods
over its own copy of the catalogue (as intake and deadlines do); a report of a period outside the plan or
not open yet is refused naming the state; a history period's report is built from what the staff office
imported, counts no unit late or missing, and its documents say the figures are the office's."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from baocao_shared.events import make_event
from baocao_shared.events.catalog import PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED, UnitV1
from baocao_shared.events.submissions import SUBMISSION_RECEIVED, SubmissionV1
from baocao_shared.periods import plan_periods
from baocao_shared.periods_api import PeriodOut
from baocao_testing.kit import wait_until
from consolidation.domain.periods import HISTORY_NOTE
from services.consolidation.tests.kit import HAI_DUONG, province_for_tests, running, seed

pytestmark = pytest.mark.integration
BASE_PLAN = HAI_DUONG.plans[0]
CODES = [i.code for t in BASE_PLAN.template.tasks for i in t.indicators]
TZ = "Asia/Ho_Chi_Minh"


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://consolidation.test")


async def test_the_periods_of_a_plan_are_the_shared_walk_and_reports_follow_their_state(postgres, kafka):
    # 20 March 2020, 10:00 in Việt Nam; the province tracks the plan from October 2019.
    start = datetime(2020, 3, 20, 3, tzinfo=UTC)
    plan = BASE_PLAN.model_copy(
        update={"id": f"pw-{uuid.uuid4().hex[:8]}", "province": "58", "units": ["CA"], "tracking_from": "2019-10"}
    )
    async with running(postgres, kafka, clock_start=start) as (app, mint), client(app) as http:
        await seed(app, [province_for_tests("58")], units=["CA"], plans=[plan])
        who = mint.headers("reporter", "53", "CA")  # any signed-in caller, of any province

        walk = await http.get("/v1/periods/58", params={"plan_id": plan.id}, headers=who)
        assert walk.status_code == 200, walk.text
        expected = [PeriodOut.of("58", s).model_dump(mode="json") for s in plan_periods(plan, TZ, start)]
        assert walk.json() == expected
        states = {p["period"]: p["state"] for p in walk.json()}
        assert [p["period"] for p in walk.json()] == sorted(states) and states.keys() >= {"2019-06", "2020-04"}
        assert {states[p] for p in ("2019-06", "2019-09")} == {"history"}
        assert {states[p] for p in ("2019-10", "2020-02")} == {"closed"}
        assert (states["2020-03"], states["2020-04"]) == ("overdue", "open")  # due the 16th, closed the 25th
        for one in walk.json():  # each period alone answers as in the walk; without plan_id, the only plan
            alone = await http.get(f"/v1/periods/58/{one['period']}", headers=who)
            assert alone.status_code == 200 and alone.json() == one
        beyond = {p: (await http.get(f"/v1/periods/58/{p}", headers=who)).json() for p in ("2019-05", "2020-05")}
        assert {p: found["state"] for p, found in beyond.items()} == {"2019-05": "outside_plan", "2020-05": "not_open"}

        operator = mint.headers("province_operator", "58")
        outside = await http.get("/v1/reports/58/2019-05", headers=operator)
        assert outside.status_code == 404 and outside.json()["error"]["details"]["state"] == "outside_plan"
        assert "outside plan" in outside.json()["error"]["message"]
        not_open = await http.get("/v1/reports/58/2020-05.docx", headers=operator)
        assert not_open.status_code == 409 and not_open.json()["error"]["details"]["state"] == "not_open"
        assert (await http.get("/v1/reports/58/2020-04", headers=operator)).status_code == 200

        assert (await http.get("/v1/periods/99", headers=who)).status_code == 404
        assert (await http.get("/v1/periods/58", params={"plan_id": "nope"}, headers=who)).status_code == 404
        assert (await http.get("/v1/periods/99/2020-03", headers=who)).status_code == 404
        for malformed in ("2020-13", "2020-Q1"):  # not a period; not one of a monthly plan
            assert (await http.get(f"/v1/periods/58/{malformed}", headers=who)).status_code == 422
        assert (await http.get("/v1/periods/58")).status_code == 401


async def test_a_history_periods_report_is_the_offices_import_with_nobody_missing(postgres, kafka):
    # 18 June 2019; the province tracks the plan from July 2019, so June is history.
    start = datetime(2019, 6, 18, 2, tzinfo=UTC)
    ca, btg, sngv = (f"H{uuid.uuid4().hex[:6].upper()}" for _ in range(3))  # unique on the shared broker
    plan = BASE_PLAN.model_copy(
        update={"id": f"hi-{uuid.uuid4().hex[:8]}", "province": "59", "units": [ca, btg, sngv]}
        | {"tracking_from": "2019-07"}
    )
    place = province_for_tests("59")

    def june(unit: str, sessions: int, *, imported: bool) -> SubmissionV1:
        at = datetime(2019, 6, 17, 3, tzinfo=UTC)
        return SubmissionV1(
            submission_id=uuid.uuid4(), province="59", unit=unit, plan_id=plan.id, period="2019-06", version=1,
            values={c: (sessions if c == "t1_sessions" else 0) for c in CODES}, narratives={},
            received_at=at, first_received_at=at, imported=imported,
        )  # fmt: skip

    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    try:
        async with running(postgres, kafka, clock_start=start) as (app, mint), client(app) as http:

            async def publish(spec, data) -> None:
                event, key = make_event(spec, data, source="/baocao/test", province="59")
                await producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())

            await publish(PROVINCE_UPSERTED, place)
            for code in plan.units:
                await publish(UNIT_UPSERTED, UnitV1(province="59", code=code, name=f"Đơn vị {code}", kind="member"))
            await publish(PLAN_UPSERTED, plan)
            operator = mint.headers("province_operator", "59")

            async def plan_known():
                answer = await http.get("/v1/periods/59/2019-06", headers=operator)
                return answer.json() if answer.status_code == 200 else None

            assert (await wait_until(plan_known, timeout=30, what="the plan in the projection"))["state"] == "history"
            # The office imported CA's June; BTG's own June (not imported) is not history's figures.
            await publish(SUBMISSION_RECEIVED, june(ca, 7, imported=True))
            await publish(SUBMISSION_RECEIVED, june(btg, 50, imported=False))

            async def both_in():  # revision 3: both versions 1 are in (it sums every unit's latest version)
                answer = await http.get("/v1/reports/59/2019-06", headers=operator)
                found = answer.json() if answer.status_code == 200 else {}
                # A read's statements each see what is committed when they start: wait for a read that saw both.
                shown = {u["unit"] for u in found.get("units", [])}
                return found if found.get("revision") == 3 and ca in shown else None

            report = await wait_until(both_in, timeout=30, what="both June reports in the projection")
            assert [u["unit"] for u in report["units"]] == [ca] and report["totals"]["t1_sessions"] == 7
            d = report["discipline"]
            assert (d["expected"], d["on_time"], d["late"], d["missing"], d["pending"]) == (0, 0, 0, 0, 0)
            assert d["missing_units"] == [] and d["late_units"] == [] and d["due_at"] is None

            page = await http.get("/v1/reports/59/2019-06.html", headers=operator)
            text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
            assert page.status_code == 200 and HISTORY_NOTE in text
            assert sngv not in text and "chưa gửi báo cáo" not in text and "gửi muộn" not in text
            docx = await http.get("/v1/reports/59/2019-06.docx", headers=operator)
            with zipfile.ZipFile(io.BytesIO(docx.content)) as archive:
                words = re.sub(r"<[^>]+>", "", archive.read("word/document.xml").decode())
            assert HISTORY_NOTE in words and "chưa gửi báo cáo" not in words

            # July is tracked (open on 18 June): it compares with June's imported figures, as with any period's.
            july = (await http.get("/v1/reports/59/2019-07", headers=operator)).json()
            assert july["comparisons"]["t1_sessions"]["previous"] == 7 and july["coverage"]["previous"] == 1
            assert july["discipline"]["expected"] == 3
    finally:
        await producer.stop()
