"""Hải Dương's merger into Hải Phòng on the real stack (issue 17): the history, the merger loaded as data, one
month before 1 July 2025 and one after, and a rebuild of consolidation from Kafka.

Both provinces go under codes of this run (81 for Hải Dương's file, 82 for Hải Phòng's), tracked from 2025-05:
- at 10 June 2025 Hải Dương alone is loaded; the office imports August 2024 (history) for CA and BTG, and CA and
  Hải Dương city's committee report June on time;
- then Hải Phòng's file is loaded, and Hải Dương's again, now ending in 2025-06 with its successors;
- June closes on the 25th: BTG is refused (409), then accepted under the office's exception, late after close;
- in August, Hải Dương's CA can no longer report (403, naming its successor) but still reads its June report;
  Hải Phòng's CA and a ward's committee report August;
- after August's close, each period's units, obligations, compliance and report follow the structure in force
  then, August compares with Hải Dương's figures (last year, year to date) and says so, and the national
  roll-up lists Hải Dương in June and Hải Phòng in August. The three services agree on every period of both.
Consolidation is then rebuilt from the topics into an empty database and answers exactly as the live one.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from baocao_testing.fixtures import create_database
from baocao_testing.kit import wait_until
from baocao_testing.samples import REGIME, regime_file, rewritten, without_the_merger

pytestmark = pytest.mark.e2e
HD, HP = "81", "82"  # no other test's: the stack reads the session's broker
ICT = timezone(timedelta(hours=7))
SERVICES = ("intake", "deadlines", "consolidation")
DISTRICT, WARD = "UBND-TPHD", "UBND-P-HD"  # Hải Dương city's committee, and the ward that succeeds it


def ok(answer: httpx.Response) -> dict | list:
    assert answer.status_code == 200, answer.text
    return answer.json()


def ours(national: dict, plans: set[str]) -> list[dict]:
    """This run's plans in a national roll-up: the rebuild replays the whole shared broker, other tests' provinces
    and plans too (some under the same codes), which the live service (started at the end of the topics) never saw."""
    return [e for e in national["provinces"] if e["province"] in (HD, HP) and e["plan_id"] in plans]


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ICT)


async def test_the_merger_keeps_history_and_every_service_follows_the_structure_in_force(services):
    tag = uuid.uuid4().hex[:6]
    password = f"e2e-{tag}-mật-khẩu"
    stack = await services.start(
        at=local("2025-06-10T09:00"),
        env={"intake": {"BAOCAO_DEMO_PASSWORD": password}},
        intake_setup=[["accounts", "seed-demo"]],
    )
    http = {name: httpx.AsyncClient(base_url=url, timeout=60) for name, url in stack.urls.items()}
    try:
        run = Merger(stack, http, tag, password)
        await run.hai_duong_before_the_merger()
        await run.the_merger_is_loaded()
        await run.june_closes_and_an_exception_lets_btg_in()
        await run.august_belongs_to_hai_phong()
        await run.after_augusts_close_each_period_follows_its_structure()
        for province in (HD, HP):
            await run.the_services_agree(province)
        await run.a_rebuild_answers_as_the_live_service(services)
    finally:
        for client in http.values():
            await client.aclose()


class Merger:
    def __init__(self, stack, http, tag: str, password: str) -> None:
        self.stack, self.http, self.password = stack, http, password
        self.hd_plan, self.hp_plan = f"hd-{tag}", f"hp-{tag}"
        self.plans = {self.hd_plan, self.hp_plan}
        self.hd_file = rewritten(
            "30-hai-duong.yaml",
            {
                '  code: "30"': f'  code: "{HD}"',
                'province: "31"': f'province: "{HP}"',
                "address: op-30": f"address: op-{HD}",
                "id: hd-467-2019": f"id: {self.hd_plan}",
                "code: hp-2025": f"code: {self.hp_plan}",
                "@haiduong.baocao.test": f"@hd-{tag}.baocao.test",
                "first_period: 2019-06": "first_period: 2019-06\n    tracking_from: 2025-05",
            },
        )
        self.hp_file = rewritten(
            "31-hai-phong.yaml",
            {
                '  code: "31"': f'  code: "{HP}"',
                "address: op-31": f"address: op-{HP}",
                "id: hp-2025": f"id: {self.hp_plan}",
                "@haiphong.baocao.test": f"@hp-{tag}.baocao.test",
            },
        )

    # ------------------------------------------------------------------------------------------ helpers

    async def sign_in(self, username: str) -> dict[str, str]:
        answer = await self.http["intake"].post(
            "/v1/auth/token", data={"username": username, "password": self.password}
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    async def api_token(self, province: str, unit: str) -> dict[str, str]:
        """Committees report through their own software, with an API token the admin issues."""
        issued = await self.http["intake"].post(
            f"/v1/units/{province}/{unit}/api-tokens", json={"label": "phần mềm"}, headers=self.admin
        )
        assert issued.status_code in (200, 201), issued.text
        return {"Authorization": f"Bearer {issued.json()['token']}"}

    async def load(self, province: str, text: str) -> None:
        regime = await self.http["intake"].put(  # the national regime both plans report into (unchanged after once)
            f"/v1/admin/regimes/{REGIME}", content=regime_file().encode(),
            headers={**self.admin, "Content-Type": "application/yaml"},
        )  # fmt: skip
        assert regime.status_code == 200, regime.text
        loaded = await self.http["intake"].put(
            f"/v1/admin/provinces/{province}", content=text.encode(),
            headers={**self.admin, "Content-Type": "application/yaml"},
        )  # fmt: skip
        assert loaded.status_code == 200, loaded.text
        assert (await self.http["intake"].post("/v1/admin/demo-accounts", headers=self.admin)).status_code == 200

    def report(self, province: str, unit: str, period: str, sessions: int) -> dict:
        plan = self.hd_plan if province == HD else self.hp_plan
        values = {code: (sessions if code == "t1_sessions" else 1) for code in self.indicators}
        return {"plan_id": plan, "unit": unit, "period": period, "values": values,
                "narratives": {"T1": f"Kỳ {period} của {unit}."}}  # fmt: skip

    async def submit(self, who: dict, province: str, unit: str, period: str, sessions: int) -> None:
        sent = await self.http["intake"].post(
            "/v1/submissions", headers=who, json=self.report(province, unit, period, sessions)
        )
        assert sent.status_code == 201, sent.text

    async def units(self, province: str, period: str) -> set[str]:
        got = await self.http["intake"].get(
            "/v1/units", params={"province": province, "period": period}, headers=self.admin
        )
        assert got.status_code == 200, got.text
        return {u["code"] for u in got.json()}

    async def compliance(self, province: str, period: str) -> httpx.Response:
        plan = self.hd_plan if province == HD else self.hp_plan
        operator = self.hd_operator if province == HD else self.hp_operator
        return await self.http["deadlines"].get(
            "/v1/compliance", params={"province": province, "period": period, "plan_id": plan}, headers=operator
        )

    async def consolidated(self, province: str, period: str, base: httpx.AsyncClient | None = None) -> httpx.Response:
        plan = self.hd_plan if province == HD else self.hp_plan
        operator = self.hd_operator if province == HD else self.hp_operator
        client = base or self.http["consolidation"]
        return await client.get(f"/v1/reports/{province}/{period}", params={"plan_id": plan}, headers=operator)

    # ------------------------------------------------------------------------------------------ the steps

    async def hai_duong_before_the_merger(self) -> None:
        """June 2025: Hải Dương as it stood, its history imported and June reported on time."""
        self.admin = await self.sign_in("admin")
        await self.load(HD, without_the_merger(self.hd_file))
        self.hd_operator = await self.sign_in(f"op-{HD}")
        [plan] = (await self.http["intake"].get("/v1/plans", params={"province": HD}, headers=self.hd_operator)).json()
        self.indicators = [i["code"] for task in plan["template"]["tasks"] for i in task["indicators"]]
        self.hd_ca, self.hd_btg = await self.sign_in(f"{HD}-CA"), await self.sign_in(f"{HD}-BTG")
        for unit, sessions in (("CA", 2), ("BTG", 3)):  # August 2024 is history: the office imports it
            imported = await self.http["intake"].post(
                f"/v1/periods/{HD}/2024-08/imports", params={"plan_id": self.hd_plan},
                headers=self.hd_operator, json=self.report(HD, unit, "2024-08", sessions),
            )  # fmt: skip
            assert imported.status_code == 201, imported.text
        await self.submit(self.hd_ca, HD, "CA", "2025-06", 4)
        await self.submit(await self.api_token(HD, DISTRICT), HD, DISTRICT, "2025-06", 5)

    async def the_merger_is_loaded(self) -> None:
        """Hải Phòng's file, then Hải Dương's with its end in 2025-06 and its successors: both accepted whole."""
        await self.load(HP, self.hp_file)
        await self.load(HD, self.hd_file)
        self.hp_operator = await self.sign_in(f"op-{HP}")
        self.hp_ca = await self.sign_in(f"{HP}-CA")
        self.hd_units = await self.units(HD, "2025-06")
        self.hp_units = await self.units(HP, "2025-08")
        assert DISTRICT in self.hd_units and "CA" in self.hd_units and len(self.hd_units) == 29
        assert WARD in self.hp_units and DISTRICT not in self.hp_units and len(self.hp_units) == 22
        assert await self.units(HD, "2025-08") == set()  # every unit of Hải Dương ended with June
        assert WARD not in await self.units(HP, "2025-06")  # the wards begin in July

    async def june_closes_and_an_exception_lets_btg_in(self) -> None:
        self.stack.set_clock(local("2025-06-26T09:00"))  # June closed on the 25th
        body = self.report(HD, "BTG", "2025-06", 6)
        refused = await self.http["intake"].post("/v1/submissions", headers=self.hd_btg, json=body)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "period_closed", refused.text
        granted = await self.http["intake"].post(
            f"/v1/periods/{HD}/2025-06/exceptions", params={"plan_id": self.hd_plan}, headers=self.hd_operator,
            json={"unit": "BTG", "reason": "Báo cáo gửi bằng văn bản giấy ngày 24, văn phòng đồng ý."},
        )  # fmt: skip
        assert granted.status_code in (200, 201), granted.text
        accepted = await self.http["intake"].post("/v1/submissions", headers=self.hd_btg, json=body)
        assert accepted.status_code == 201, accepted.text

    async def august_belongs_to_hai_phong(self) -> None:
        self.stack.set_clock(local("2025-08-10T09:00"))
        intake = self.http["intake"]
        retired = await intake.post("/v1/submissions", headers=self.hd_ca, json=self.report(HD, "CA", "2025-08", 0))
        assert retired.status_code == 403, retired.text
        details = retired.json()["error"]["details"]
        assert details["ended_from"] == "2025-07" and any(HP in s and "CA" in s for s in details["successors"])
        own = await intake.get("/v1/submissions", headers=self.hd_ca)
        assert own.status_code == 200 and {s["period"] for s in own.json()} >= {"2025-06"}, own.text
        await self.submit(self.hp_ca, HP, "CA", "2025-08", 7)
        await self.submit(await self.api_token(HP, WARD), HP, WARD, "2025-08", 8)

    async def after_augusts_close_each_period_follows_its_structure(self) -> None:
        self.stack.set_clock(local("2025-08-26T09:00"))

        async def june_settled():
            got = await self.compliance(HD, "2025-06")
            rows = {u["unit"]: u for u in got.json()["units"]} if got.status_code == 200 else {}
            btg = rows.get("BTG", {})
            return rows if btg.get("status") == "late" and btg.get("after_close") else None

        june = await wait_until(june_settled, timeout=60, what="deadlines to show Hải Dương's June with BTG late")
        assert set(june) == self.hd_units  # owed by the districts and departments in force in June
        assert {u for u, r in june.items() if r["status"] == "on_time"} == {"CA", DISTRICT}
        assert {r["status"] for u, r in june.items() if u not in ("CA", DISTRICT, "BTG")} == {"missing"}

        async def august_settled():
            got = await self.compliance(HP, "2025-08")
            found = got.json() if got.status_code == 200 else {}
            return found if found.get("final") and found["summary"]["on_time"] == 2 else None

        august = await wait_until(august_settled, timeout=60, what="deadlines to show Hải Phòng's August")
        assert {u["unit"] for u in august["units"]} == self.hp_units  # the wards, no district
        assert august["summary"]["expected"] == 22 and august["summary"]["missing"] == 20
        gone = await self.compliance(HD, "2025-08")
        assert gone.status_code == 404 and gone.json()["error"]["details"]["state"] == "outside_plan", gone.text

        seen: dict[tuple[str, str], object] = {}  # what consolidation last answered, for a failure's message

        async def report_with(province: str, period: str, units: int, on_time: int, late: int):
            got = await self.consolidated(province, period)
            found = got.json() if got.status_code == 200 else {}
            d = found.get("discipline", {})
            shown = (len(found.get("units", [])), d.get("on_time"), d.get("late"))
            names = [u["unit"] for u in found.get("units", [])]
            seen[province, period] = (got.status_code, shown, d.get("missing"), names)
            return found if shown == (units, on_time, late) else None

        async def settled_report(province: str, period: str, *expected: int):
            try:
                return await wait_until(lambda: report_with(province, period, *expected), timeout=60, what=period)
            except AssertionError as timed_out:  # say what consolidation showed instead
                raise AssertionError(f"{timed_out}; {province} last showed {seen.get((province, period))}") from None

        hd_june = await settled_report(HD, "2025-06", 3, 2, 1)
        assert [u["unit"] for u in hd_june["discipline"]["late_units"]] == ["BTG"]
        assert hd_june["discipline"]["expected"] == 29 and hd_june["province_name"] == "Hải Dương"
        assert hd_june["totals"]["t1_sessions"] == 4 + 5 + 6  # CA, the city's committee, BTG
        hp_aug = await settled_report(HP, "2025-08", 2, 2, 0)
        assert hp_aug["discipline"]["expected"] == 22
        assert hp_aug["totals"]["t1_sessions"] == 7 + 8  # CA, the ward
        compared = hp_aug["comparisons"]["t1_sessions"]
        # Last year is Hải Dương's August 2024 as the office imported it; the year to date adds its June.
        assert compared["last_year"] == 2 + 3  # CA's and BTG's, imported
        assert compared["year_to_date"] == (4 + 5 + 6) + (7 + 8)
        [continued] = hp_aug["continuity"]
        assert (continued["province"], continued["plan_id"]) == (HD, self.hd_plan)
        assert "Hải Dương" in continued["note"] and "cùng kỳ năm trước" in continued["note"]

        national = await self.sign_in("national")
        for period, there, not_there in (("2025-06", HD, HP), ("2025-08", HP, HD)):
            rolled = await self.http["consolidation"].get(f"/v1/national/{period}", headers=national)
            listed = {e["province"] for e in rolled.json()["provinces"]}
            assert there in listed and not_there not in listed, (period, listed)
            [regime] = [r for r in rolled.json()["regimes"] if r["regime"] == REGIME]
            assert there in {e["province"] for e in regime["provinces"]}, "both plans report into one regime"

    async def the_services_agree(self, province: str) -> None:
        plan = self.hd_plan if province == HD else self.hp_plan
        operator = self.hd_operator if province == HD else self.hp_operator

        async def answers():
            found = {}
            for name in SERVICES:
                got = await self.http[name].get(f"/v1/periods/{province}", params={"plan_id": plan}, headers=operator)
                if got.status_code != 200:
                    return None  # the catalogue reaches deadlines and consolidation through Kafka: wait for it
                found[name] = got.json()
            return found if all(v == found["intake"] for v in found.values()) else None

        found = await wait_until(answers, timeout=60, what=f"the three services to agree on {province}'s periods")
        periods = [p["period"] for p in found["intake"]]
        if province == HD:  # plan 467 ends with June 2025; tracked from May, the rest is history
            assert periods[0] == "2019-06" and periods[-1] == "2025-06"
            assert {p["state"] for p in found["intake"] if p["period"] < "2025-05"} == {"history"}
        else:
            assert periods == ["2025-07", "2025-08", "2025-09"] and found["intake"][-1]["state"] == "open"

    async def a_rebuild_answers_as_the_live_service(self, services) -> None:
        """Stop consolidation, rebuild it from the topics into an empty database, start it there: the same
        reports, comparisons and roll-up."""
        national = await self.sign_in("national")
        asked = [(HD, "2025-06"), (HP, "2025-08"), (HP, "2025-07")]
        live = [ok(await self.consolidated(p, period)) for p, period in asked]
        live_national = [
            ours(ok(await self.http["consolidation"].get(f"/v1/national/{period}", headers=national)), self.plans)
            for period in ("2025-06", "2025-08")
        ]
        services.stop_instance("consolidation")
        rebuilt_url = await create_database(services.postgres, "rebuilt", migrated=False)
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "consolidation.rebuild", "--into", rebuilt_url],
            env=self.stack.env["consolidation"], capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        assert "applied" in done.stdout, done.stdout
        url = await services.start_instance("consolidation", "rebuilt", env={"BAOCAO_DATABASE_URL": rebuilt_url})
        async with httpx.AsyncClient(base_url=url, timeout=60) as rebuilt:
            got = [ok(await self.consolidated(p, period, rebuilt)) for p, period in asked]
            assert got == live
            assert [
                ours(ok(await rebuilt.get(f"/v1/national/{period}", headers=national)), self.plans)
                for period in ("2025-06", "2025-08")
            ] == live_national
