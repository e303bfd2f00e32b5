"""One truth about which periods exist (issue 17, part 1), on the four services as processes, by HTTP only.

The demo province under a code and plan of this run: plan 467's calendar from 2019-06, tracked from 2019-09
(the province file says so). At 20 November 2019, 09:00 in Hải Dương:
- 2019-06 .. 2019-08 are history: not owed, never overdue; a unit cannot send them, the office imports one;
- 2019-09 and 2019-10 are closed (their close was on the 25th): `missing` is final and intake refuses a
  report with 409 "period closed", until the office grants the unit an exception, which is audited, and
  deadlines then shows the report as late after close;
- 2019-11 is overdue (due before the 16th, closing on the 25th) and 2019-12 is open; 2020-01 is not open.
Intake, deadlines and consolidation give the same answer about every one of those periods, and again after
the clock passes 2019-11's close.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from baocao_testing.kit import wait_until
from baocao_testing.samples import demo_province_file

pytestmark = pytest.mark.e2e
PROVINCE = "94"
ICT = timezone(timedelta(hours=7))
SERVICES = ("intake", "deadlines", "consolidation")
EXPECTED = {
    "2019-06": "history", "2019-07": "history", "2019-08": "history", "2019-09": "closed", "2019-10": "closed",
    "2019-11": "overdue", "2019-12": "open",
}  # fmt: skip


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ICT)


async def test_the_three_services_agree_on_every_period_and_the_close_is_final(services):
    tag = uuid.uuid4().hex[:8]
    password = f"e2e-{tag}-mật-khẩu"
    stack = await services.start(
        at=local("2019-11-20T09:00"),
        env={"intake": {"BAOCAO_DEMO_PASSWORD": password}},
        intake_setup=[["accounts", "seed-demo"]],
    )
    http = {name: httpx.AsyncClient(base_url=url, timeout=60) for name, url in stack.urls.items()}
    try:
        run = Run(stack, http, tag, password)
        await run.set_up()
        await run.the_services_agree(EXPECTED)
        await run.history_is_imported_by_the_office()
        await run.the_close_is_final_until_an_exception()
        stack.set_clock(local("2019-11-25T00:01"))  # 2019-11 closes
        await run.the_services_agree({**EXPECTED, "2019-11": "closed"})
    finally:
        for client in http.values():
            await client.aclose()


class Run:
    def __init__(self, stack, http, tag: str, password: str) -> None:
        self.stack, self.http, self.password = stack, http, password
        self.plan_id = f"e2e-{tag}"

    async def sign_in(self, username: str) -> dict[str, str]:
        answer = await self.http["intake"].post(
            "/v1/auth/token", data={"username": username, "password": self.password}
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    async def set_up(self) -> None:
        text = demo_province_file(
            PROVINCE, self.plan_id, **{"first_period: 2019-06": "first_period: 2019-06\n    tracking_from: 2019-09"}
        )
        assert "tracking_from: 2019-09" in text
        self.admin = await self.sign_in("admin")
        loaded = await self.http["intake"].put(
            f"/v1/admin/provinces/{PROVINCE}", content=text.encode(),
            headers={**self.admin, "Content-Type": "application/yaml"},
        )  # fmt: skip
        assert loaded.status_code == 200, loaded.text
        assert (await self.http["intake"].post("/v1/admin/demo-accounts", headers=self.admin)).status_code == 200
        self.operator = await self.sign_in(f"op-{PROVINCE}")
        self.ca = await self.sign_in(f"{PROVINCE}-CA")
        self.btg = await self.sign_in(f"{PROVINCE}-BTG")
        [plan] = (
            await self.http["intake"].get("/v1/plans", params={"province": PROVINCE}, headers=self.operator)
        ).json()
        self.indicators = [i["code"] for task in plan["template"]["tasks"] for i in task["indicators"]]

    def report(self, unit: str, period: str) -> dict:
        return {"plan_id": self.plan_id, "unit": unit, "period": period,
                "values": dict.fromkeys(self.indicators, 1), "narratives": {"T1": f"Kỳ {period}."}}  # fmt: skip

    # ------------------------------------------------------------------------------------------ one answer

    async def the_services_agree(self, expected: dict[str, str]) -> None:
        async def answers() -> dict[str, list] | None:
            found = {}
            for name in SERVICES:
                got = await self.http[name].get(
                    f"/v1/periods/{PROVINCE}", params={"plan_id": self.plan_id}, headers=self.operator
                )
                if got.status_code != 200:
                    return None  # the catalogue reaches deadlines and consolidation through Kafka: wait for it
                found[name] = [
                    (p["period"], p["state"], p["tracked"], p["accepting"], p["due_at"], p["closes_at"])
                    for p in got.json()
                ]
            return found if all(v == found["intake"] for v in found.values()) else None

        found = await wait_until(answers, timeout=60, interval=0.3, what="the three services to agree")
        assert {p: state for p, state, *_ in found["intake"]} == expected
        one = {}
        for name in SERVICES:
            got = await self.http[name].get(
                f"/v1/periods/{PROVINCE}/2020-01", params={"plan_id": self.plan_id}, headers=self.operator
            )
            assert got.status_code == 200, (name, got.text)
            one[name] = got.json()
        assert one["intake"]["state"] == "not_open" and one["deadlines"] == one["consolidation"] == one["intake"]
        # What each service does agrees with what it says (deadlines opens a tracked period within a tick).
        for period, state in expected.items():

            async def answered(period=period):
                got = await self.compliance(period)
                return got if got.status_code == 200 or got.json()["error"]["details"] else None

            compliance = await wait_until(answered, timeout=60, what=f"deadlines to answer for {period}")
            if state == "history":
                assert compliance.status_code == 404, (period, compliance.text)
                assert compliance.json()["error"]["details"]["state"] == "history", compliance.text
            else:
                assert compliance.status_code == 200, (period, compliance.text)
                assert compliance.json()["state"] == state and compliance.json()["final"] == (state == "closed")

    async def compliance(self, period: str) -> httpx.Response:
        return await self.http["deadlines"].get(
            "/v1/compliance", params={"province": PROVINCE, "period": period, "plan_id": self.plan_id},
            headers=self.operator,
        )  # fmt: skip

    # ------------------------------------------------------------------------------------------ history

    async def history_is_imported_by_the_office(self) -> None:
        intake = self.http["intake"]
        refused = await intake.post("/v1/submissions", headers=self.btg, json=self.report("BTG", "2019-07"))
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "period_history", refused.text
        body = self.report("BTG", "2019-07")
        imported = await intake.post(
            f"/v1/periods/{PROVINCE}/2019-07/imports", params={"plan_id": self.plan_id},
            headers=self.operator, json=body,
        )  # fmt: skip
        assert imported.status_code == 201, imported.text

        async def in_the_report():
            got = await self.http["consolidation"].get(
                f"/v1/reports/{PROVINCE}/2019-07", params={"plan_id": self.plan_id}, headers=self.operator
            )
            return got.json() if got.status_code == 200 and got.json()["units"] else None

        report = await wait_until(in_the_report, timeout=60, what="the imported report in consolidation")
        assert [u["unit"] for u in report["units"]] == ["BTG"]
        # History: nobody owed it, so nobody is late or missing, and the figures are the office's import.
        assert report["discipline"]["expected"] == report["discipline"]["missing"] == 0
        assert not report["discipline"]["missing_units"]
        assert report["totals"] == body["values"]

    # ------------------------------------------------------------------------------------------ the close

    async def the_close_is_final_until_an_exception(self) -> None:
        intake = self.http["intake"]
        refused = await intake.post("/v1/submissions", headers=self.ca, json=self.report("CA", "2019-10"))
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "period_closed", refused.text
        url = f"/v1/periods/{PROVINCE}/2019-10/exceptions"
        by_unit = await intake.post(url, params={"plan_id": self.plan_id}, headers=self.ca,
                                    json={"unit": "CA", "reason": "Tự mở"})  # fmt: skip
        assert by_unit.status_code == 403, by_unit.text
        granted = await intake.post(url, params={"plan_id": self.plan_id}, headers=self.operator,
                                    json={"unit": "CA", "reason": "Mất điện ngày 24, văn phòng đồng ý."})  # fmt: skip
        assert granted.status_code in (200, 201), granted.text
        accepted = await intake.post("/v1/submissions", headers=self.ca, json=self.report("CA", "2019-10"))
        assert accepted.status_code == 201, accepted.text
        other = await intake.post("/v1/submissions", headers=self.btg, json=self.report("BTG", "2019-10"))
        assert other.status_code == 409 and other.json()["error"]["code"] == "period_closed"  # CA's exception alone

        async def late_after_close():
            got = await self.compliance("2019-10")
            rows = {u["unit"]: u for u in got.json()["units"]} if got.status_code == 200 else {}
            ca = rows.get("CA")
            return ca if ca and ca["status"] == "late" and ca.get("after_close") else None

        await wait_until(late_after_close, timeout=60, what="deadlines to show CA late after close")
        listed = await intake.get(url, params={"plan_id": self.plan_id}, headers=self.operator)
        assert listed.status_code == 200 and "Mất điện ngày 24" in listed.text, listed.text
        # Everyone else stays missing, and that is final.
        compliance = (await self.compliance("2019-10")).json()
        assert compliance["final"] and {u["status"] for u in compliance["units"] if u["unit"] != "CA"} == {"missing"}
