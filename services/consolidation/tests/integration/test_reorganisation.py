"""Hải Dương's merger into Hải Phòng on real Kafka and PostgreSQL (issue 17, part 2): Hải Dương's plan ends
in 2025-06 with its districts, Hải Phòng's successor plan begins in 2025-07 with communes; each period's
report names the units in force then, August 2025 compares with Hải Dương's August 2024 and says so, and the
national roll-up lists Hải Dương up to June 2025 only."""

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
from baocao_shared.events.catalog import (
    PLAN_UPSERTED,
    PROVINCE_UPSERTED,
    UNIT_UPSERTED,
    ProvinceV1,
    SuccessorV1,
    UnitV1,
)
from baocao_shared.events.submissions import SUBMISSION_RECEIVED, SubmissionV1
from baocao_testing.kit import wait_until
from services.consolidation.tests.kit import CODES, HAI_DUONG, running

pytestmark = pytest.mark.integration
BASE_PLAN = HAI_DUONG.plans[0]


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://consolidation.test")


async def test_reports_follow_the_merger_and_compare_with_the_predecessor(postgres, kafka):
    start = datetime(2025, 9, 28, 3, tzinfo=UTC)  # August 2025 closed on the 25th of September
    tag = uuid.uuid4().hex[:6].upper()  # unique on the shared broker
    districts = [f"HUYEN-{tag}-{i}" for i in (1, 2)]
    communes = [f"XA-{tag}-{i}" for i in (1, 2)]
    hd_id, hp_id = f"hd-{tag.lower()}", f"hp-{tag.lower()}"
    hd = BASE_PLAN.model_copy(
        update={"id": hd_id, "province": "30", "units": districts, "last_period": "2025-06",
                "successor": SuccessorV1(kind="merge", province="31", code=hp_id)}
    )  # fmt: skip
    hp = BASE_PLAN.model_copy(
        update={
            "id": hp_id,
            "province": "31",
            "units": communes,
            "first_period": "2025-07",
            "number": "9/KH-BCĐ",
            "last_period": None,
            "successor": None,
        }
    )
    provinces = [
        ProvinceV1(code="30", name="Hải Dương", issuing_body="BCĐ TỈNH HẢI DƯƠNG", place_name="Hải Dương",
                   valid_to="2025-06", successors=[SuccessorV1(kind="merge", province="31")]),
        ProvinceV1(code="31", name="Thành phố Hải Phòng", issuing_body="BCĐ THÀNH PHỐ", place_name="Hải Phòng"),
    ]  # fmt: skip
    units = [
        *(UnitV1(province="30", code=c, name=f"UBND huyện {c}", kind="district", valid_to="2025-06",
                 successors=[SuccessorV1(kind="merge", province="31", code=communes[0])]) for c in districts),
        *(UnitV1(province="31", code=c, name=f"UBND xã {c}", kind="member", valid_from="2025-07") for c in communes),
    ]  # fmt: skip

    def report(province: str, plan_id: str, unit: str, period: str, sessions: int) -> SubmissionV1:
        at = datetime(int(period[:4]), int(period[5:7]), 10, 3, tzinfo=UTC)
        return SubmissionV1(
            submission_id=uuid.uuid4(), province=province, unit=unit, plan_id=plan_id, period=period, version=1,
            values={c: (sessions if c == "t1_sessions" else 0) for c in CODES}, narratives={},
            received_at=at, first_received_at=at,
        )  # fmt: skip

    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    try:
        async with running(postgres, kafka, clock_start=start) as (app, mint), client(app) as http:

            async def publish(spec, data, province: str) -> None:
                event, key = make_event(spec, data, source="/baocao/test", province=province)
                await producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())

            for place in provinces:
                await publish(PROVINCE_UPSERTED, place, place.code)
            for unit in units:
                await publish(UNIT_UPSERTED, unit, unit.province)
            await publish(PLAN_UPSERTED, hd, "30")
            await publish(PLAN_UPSERTED, hp, "31")
            submissions = [
                report("30", hd_id, districts[0], "2024-08", 5),
                report("30", hd_id, districts[1], "2024-08", 3),
                report("30", hd_id, districts[0], "2025-06", 2),
                report("31", hp_id, communes[0], "2025-08", 4),
            ]
            for s in submissions:
                await publish(SUBMISSION_RECEIVED, s, s.province)
            hd_reader, hp_reader = mint.headers("province_operator", "30"), mint.headers("province_operator", "31")

            async def august():
                answer = await http.get(f"/v1/reports/31/2025-08?plan_id={hp_id}", headers=hp_reader)
                found = answer.json() if answer.status_code == 200 else {}
                last_year = found.get("comparisons", {}).get("t1_sessions", {}).get("last_year")
                return found if found.get("units") and last_year == 8 else None

            aug = await wait_until(august, timeout=30, what="August 2025 with Hải Dương's August 2024")

            async def june():
                answer = await http.get(f"/v1/reports/30/2025-06?plan_id={hd_id}", headers=hd_reader)
                found = answer.json() if answer.status_code == 200 else {}
                return found if found.get("units") else None

            jun = await wait_until(june, timeout=30, what="June 2025 of Hải Dương")
            # June 2025 stays Hải Dương's, with its districts.
            d = jun["discipline"]
            assert d["expected"] == 2
            assert {u["unit"] for u in d["on_time_units"] + d["missing_units"] + d["late_units"]} == set(districts)
            assert jun["province_name"] == "Hải Dương" and jun["continuity"] == []
            # August 2025 is Hải Phòng's, with its communes; last year is Hải Dương's August 2024 as it was.
            d = aug["discipline"]
            assert d["expected"] == 2
            assert {u["unit"] for u in d["on_time_units"] + d["missing_units"] + d["late_units"]} == set(communes)
            assert aug["totals"]["t1_sessions"] == 4 and aug["coverage"]["last_year"] == 2
            assert aug["comparisons"]["t1_sessions"]["last_year"] == 8
            assert aug["comparisons"]["t1_sessions"]["year_to_date"] == 2 + 4  # June's (Hải Dương) and August's
            [continued] = aug["continuity"]
            assert (continued["province"], continued["plan_id"]) == ("30", hd_id)
            assert "last_year" in continued["comparisons"] and "2024-08" in continued["periods"]
            sentence = f"gồm số liệu của tỉnh Hải Dương (kế hoạch {hd.number}) trước khi hợp nhất."
            assert "cùng kỳ năm trước" in continued["note"] and continued["note"].endswith(sentence)
            docx = await http.get(f"/v1/reports/31/2025-08.docx?plan_id={hp_id}", headers=hp_reader)
            with zipfile.ZipFile(io.BytesIO(docx.content)) as archive:
                words = re.sub(r"<[^>]+>", "", archive.read("word/document.xml").decode())
            assert docx.status_code == 200 and continued["note"] in words
            page = await http.get(f"/v1/reports/31/2025-08.html?plan_id={hp_id}", headers=hp_reader)
            assert continued["note"] in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
            # Hải Dương's plan has no report after its last period.
            assert (await http.get(f"/v1/reports/30/2025-08?plan_id={hd_id}", headers=hd_reader)).status_code == 404

            national = mint.headers("national_operator")
            before = (await http.get("/v1/national/2025-06", headers=national)).json()
            after = (await http.get("/v1/national/2025-08", headers=national)).json()
            assert ("30", hd_id) in {(e["province"], e["plan_id"]) for e in before["provinces"]}
            assert ("31", hp_id) not in {(e["province"], e["plan_id"]) for e in before["provinces"]}
            assert "30" not in {e["province"] for e in after["provinces"]}
            assert ("31", hp_id) in {(e["province"], e["plan_id"]) for e in after["provinces"]}
    finally:
        await producer.stop()
