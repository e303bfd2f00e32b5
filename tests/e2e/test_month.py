"""A province's month end to end: the four services as processes, driven through their HTTP APIs only.

The demo province file (plan 467 of Hải Dương, 29 units) is loaded through intake's admin API under a
province code, a plan id and a mail domain of this run's own, and a year early: the broker is the
session's, where other tests publish province 30 and copies of plan 467 that begin in 2019. The file
clock (BAOCAO_CLOCK=file) walks period 2018-10, due at 00:00 on 16/10; reminders at 08:00 on the 12th,
14th and 15th; overdue notices at 08:00 on the 16th, 18th and 20th, the escalation with the first; the
close at 00:00 on the 25th.
- 20 units submit early (two send their request twice with one Idempotency-Key; three amend, one
  of them after the deadline), 2 after the first reminder, 1 at 23:59:59 on the last day;
- 3 submit late, 3 never, and the operator urges those three on the 21st;
- the operator approves and publishes on the 28th; intake then refuses an amendment and a submission.
Checked: the compliance figures; every mail once, to its recipient; the report's totals (the sum of
the latest versions sent), the DOCX's figures, and the national roll-up.
"""

from __future__ import annotations

import uuid
from collections import Counter

import httpx
import pytest

from baocao_testing.kit import wait_until
from baocao_testing.samples import REGIME, regime_file
from tests.e2e.month_checks import MonthChecks
from tests.e2e.month_script import (
    AFTER_REMINDER,
    EARLY,
    LAST_MINUTE,
    LATE,
    NEVER,
    PERIOD,
    PROVINCE,
    TWICE,
    local,
    message_id,
    province_file,
)

pytestmark = pytest.mark.e2e


async def test_a_province_month_from_first_report_to_the_national_roll_up(services):
    tag = uuid.uuid4().hex[:8]
    national_mail, password = f"vptt@e2e-{tag}.baocao.test", f"e2e-{tag}-mật-khẩu"
    contacts = f'[{{"channel": "email", "address": "{national_mail}"}}]'
    stack = await services.start(
        at=local("2018-10-08T09:00"),
        env={"intake": {"BAOCAO_DEMO_PASSWORD": password}, "notify": {"BAOCAO_NATIONAL_CONTACTS": contacts}},
        intake_setup=[["accounts", "seed-demo"]],  # the first admin (and the national office's account)
    )
    month = Month(stack, tag, password, national_mail)
    try:
        await month.run()
    finally:
        await month.close()


class Month(MonthChecks):
    """The month's actors and clock, and how to wait on what they cause; its checks are MonthChecks."""

    def __init__(self, stack, tag: str, password: str, national_mail: str) -> None:
        self.stack, self.tag, self.password, self.plan_id = stack, tag, password, f"e2e-{tag}"
        self.national_mail, self.operator_mail = national_mail, f"phongthammuu.ca@e2e-{tag}.baocao.test"
        self.http = {name: httpx.AsyncClient(base_url=url, timeout=30) for name, url in stack.urls.items()}
        self.latest: dict[str, tuple[str, int, dict]] = {}  # unit -> (submission id, version, values)
        self.expected_mails: Counter = Counter()

    async def close(self) -> None:
        for client in self.http.values():
            await client.aclose()

    # ------------------------------------------------------------------------------ the month

    async def run(self) -> None:
        await self.set_up()
        self.at("2018-10-08T10:00")
        for unit in EARLY[:10]:
            await self.submit(unit)
        self.at("2018-10-10T09:00")
        for unit in EARLY[10:]:
            await self.submit(unit)
        await self.amend("CA")
        await self.idempotent_replays()
        self.at("2018-10-11T15:00")
        await self.amend("UBND-TPHD")
        await self.deadlines_shows(dict.fromkeys(EARLY, "on_time"))

        await self.notices_at("2018-10-12T08:00", reminder=[*AFTER_REMINDER, LAST_MINUTE, *LATE, *NEVER])
        self.at("2018-10-13T10:00")
        for unit in AFTER_REMINDER:
            await self.submit(unit)
        await self.deadlines_shows(dict.fromkeys(AFTER_REMINDER, "on_time"))
        await self.notices_at("2018-10-14T08:00", reminder=[LAST_MINUTE, *LATE, *NEVER])
        self.at("2018-10-14T10:00")
        await self.amend("CA")
        await self.notices_at("2018-10-15T08:00", reminder=[LAST_MINUTE, *LATE, *NEVER])
        self.at("2018-10-15T23:59:59")
        await self.submit(LAST_MINUTE)
        await self.deadlines_shows({LAST_MINUTE: "on_time"})

        # The province's own report to the national office is due at 00:00 on the 20th: its operators are reminded
        # at 08:00 on the 16th, 18th and 19th, and told it is overdue on the 20th, 22nd and 24th (the national level).
        await self.notices_at("2018-10-16T08:00", overdue=[*LATE, *NEVER], escalation=True, province=["reminder"])
        for unit in ["SNGV", "STP"]:
            self.at(LATE[unit])
            await self.submit(unit)
        self.at("2018-10-17T16:00")
        await self.amend("SYT")  # after the deadline: flagged, still on time
        await self.deadlines_shows({"SNGV": "late", "STP": "late"})
        await self.notices_at("2018-10-18T08:00", overdue=["UBND-NG", *NEVER], province=["reminder"])
        self.at(LATE["UBND-NG"])
        await self.submit("UBND-NG")
        await self.deadlines_shows({"UBND-NG": "late"})
        await self.notices_at(LATE["UBND-NG"], province=["reminder"])  # the province's last reminder, 19th 08:00
        await self.notices_at("2018-10-20T08:00", overdue=NEVER, province=["overdue"])
        self.at("2018-10-21T09:00")
        await self.nudge(NEVER)
        # The close: "missing" is final. The province's overdue notices of the 22nd and 24th go out on the way.
        await self.notices_at("2018-10-25T00:00", province=["overdue", "overdue"])
        await self.check_compliance()

        await self.check_report()
        self.at("2018-10-28T09:00")
        await self.workflow("approve")
        self.at("2018-10-28T10:00")
        await self.workflow("publish")
        await self.check_locked()
        await self.check_docx()
        await self.check_national()
        await self.check_mails()
        self.check_no_secret_logged()

    # --------------------------------------------------------------------------- the actors

    async def set_up(self) -> None:
        """Everything through the API, as a client would, from the first admin's sign-in on."""
        self.admin = await self.sign_in("admin")
        intake = self.http["intake"]
        regime = await intake.put(  # the national regime the province's plan reports into
            f"/v1/admin/regimes/{REGIME}",
            content=regime_file().encode(),
            headers={**self.admin, "Content-Type": "application/yaml"},
        )
        assert regime.status_code == 200, regime.text
        loaded = await intake.put(
            f"/v1/admin/provinces/{PROVINCE}",
            content=province_file(self.tag).encode(),
            headers={**self.admin, "Content-Type": "application/yaml"},
        )
        assert loaded.status_code == 200, loaded.text
        seeded = await intake.post("/v1/admin/demo-accounts", headers=self.admin)
        assert seeded.status_code == 200, seeded.text
        self.operator, self.national = await self.sign_in(f"op-{PROVINCE}"), await self.sign_in("national")
        units = (await intake.get("/v1/units", params={"province": PROVINCE}, headers=self.operator)).json()
        self.names = {u["code"]: u["name"] for u in units}
        self.mail = {u["code"]: u["contacts"][0]["address"] for u in units}
        [plan] = (await intake.get("/v1/plans", params={"province": PROVINCE}, headers=self.operator)).json()
        assert plan["id"] == self.plan_id and sorted(plan["units"]) == sorted(self.names)
        self.indicators = [i for task in plan["template"]["tasks"] for i in task["indicators"]]
        assert sorted([*EARLY, *AFTER_REMINDER, LAST_MINUTE, *LATE, *NEVER]) == sorted(self.names)

        # Member units sign in with their reporter accounts; district units' software uses an API token.
        self.unit_auth = {}
        for u in units:
            if u["kind"] == "member":
                self.unit_auth[u["code"]] = await self.sign_in(f"{PROVINCE}-{u['code']}")
            else:
                issued = await intake.post(
                    f"/v1/units/{PROVINCE}/{u['code']}/api-tokens",
                    json={"label": f"Phần mềm quản lý văn bản của {u['name']}"},
                    headers=self.admin,
                )
                assert issued.status_code == 201, issued.text
                self.unit_auth[u["code"]] = {"Authorization": f"Bearer {issued.json()['token']}"}

        await self.deadlines_shows(dict.fromkeys(self.names, "pending"))

        async def report_known():
            return (await self.report()).status_code == 200

        await wait_until(report_known, timeout=60, what="consolidation to know the plan")
        await self.caught_up("notify")  # it knows every unit's contacts before the first notice

    async def sign_in(self, username: str) -> dict[str, str]:
        answer = await self.http["intake"].post(
            "/v1/auth/token", data={"username": username, "password": self.password}
        )
        assert answer.status_code == 200, f"{username}: {answer.text}"
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def at(self, instant: str) -> None:
        self.stack.set_clock(local(instant))

    def figures(self, unit: str, version: int) -> dict[str, int]:
        n = sorted(self.names).index(unit) + 1
        return {i["code"]: n * (k + 2) + 40 * (version - 1) for k, i in enumerate(self.indicators)}

    def narratives(self, unit: str, version: int) -> dict[str, str]:
        return {"T1": f"{self.names[unit]} tổ chức hội nghị quán triệt Chỉ thị 44 (bản {version}).",
                "next_month": "Tiếp tục tuyên truyền về thành tựu bảo đảm quyền con người."}  # fmt: skip

    def body(self, unit: str) -> dict:
        return {"plan_id": self.plan_id, "unit": unit, "period": PERIOD,
                "values": self.figures(unit, 1), "narratives": self.narratives(unit, 1)}  # fmt: skip

    async def submit(self, unit: str) -> dict:
        headers = {**self.unit_auth[unit], "Idempotency-Key": f"{unit}-{PERIOD}-{self.tag}"}
        answer = await self.http["intake"].post("/v1/submissions", json=self.body(unit), headers=headers)
        assert answer.status_code == 201, f"{unit}: {answer.text}"
        receipt = answer.json()
        assert receipt["version"] == 1 and receipt["status"] == "received"
        self.latest[unit] = (receipt["id"], 1, self.figures(unit, 1))
        return receipt

    async def idempotent_replays(self) -> None:
        """The same request again with its key: the first answer, nothing stored; another body: 409."""
        for unit in TWICE:
            headers = {**self.unit_auth[unit], "Idempotency-Key": f"{unit}-{PERIOD}-{self.tag}"}
            again = await self.http["intake"].post("/v1/submissions", json=self.body(unit), headers=headers)
            assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true", again.text
            assert again.json()["id"] == self.latest[unit][0] and again.json()["version"] == 1
            found = await self.http["intake"].get(
                "/v1/submissions", params={"unit": unit, "period": PERIOD}, headers=self.unit_auth[unit]
            )
            assert [(s["id"], s["version"]) for s in found.json()] == [(self.latest[unit][0], 1)]
        other = {**self.body(TWICE[0]), "values": self.figures(TWICE[0], 9)}
        headers = {**self.unit_auth[TWICE[0]], "Idempotency-Key": f"{TWICE[0]}-{PERIOD}-{self.tag}"}
        reused = await self.http["intake"].post("/v1/submissions", json=other, headers=headers)
        assert reused.status_code == 409, reused.text

    async def amend(self, unit: str) -> None:
        submission, version, _ = self.latest[unit]
        values = self.figures(unit, version + 1)
        answer = await self.http["intake"].put(
            f"/v1/submissions/{submission}",
            json={"values": values, "narratives": self.narratives(unit, version + 1), "base_version": version},
            headers=self.unit_auth[unit],
        )
        assert answer.status_code == 200 and answer.json()["version"] == version + 1, answer.text
        self.latest[unit] = (submission, version + 1, values)

    async def nudge(self, units: list[str]) -> None:
        answer = await self.http["deadlines"].post(
            "/v1/nudges",
            json={
                "province": PROVINCE,
                "plan_id": self.plan_id,
                "period": PERIOD,
                "units": units,
                "message": "Đề nghị gửi báo cáo ngay trong ngày hôm nay.",
            },
            headers=self.operator,
        )
        assert answer.status_code == 202, answer.text
        self.expected_mails.update((self.mail[u], "nudge") for u in units)
        await self.mails_sent()

    async def workflow(self, step: str) -> None:
        answer = await self.http["consolidation"].post(
            f"/v1/reports/{PROVINCE}/{PERIOD}/{step}", params={"plan_id": self.plan_id}, headers=self.operator
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == {"approve": "approved", "publish": "published"}[step]
        if step == "approve":
            self.expected_mails[(self.operator_mail, "approved")] += 1
        else:  # the signed report to every addressee of Nơi nhận: the national office, the head, every unit
            head = f"vanphong.bcdnq@e2e-{self.tag}.baocao.test"
            for address in (self.national_mail, head, *self.mail.values()):
                self.expected_mails[(address, "published")] += 1
        await self.mails_sent()

    # ------------------------------------------------------------------------- waiting on effects

    async def notices_at(self, instant: str, *, reminder=(), overdue=(), escalation=False, province=()) -> None:
        """Move the clock to a notice's instant; deadlines' scheduler fires, notify mails each notice once. `province`:
        the kinds of the province's own notices about its report to the national office, to its operators."""
        self.at(instant)
        self.expected_mails.update((self.mail[u], "reminder") for u in reminder)
        self.expected_mails.update((self.mail[u], "overdue") for u in overdue)
        self.expected_mails.update((self.operator_mail, kind) for kind in province)
        if escalation:
            self.expected_mails[(self.operator_mail, "escalation")] += 1
        await self.mails_sent()

    async def mails_sent(self) -> list[dict]:
        """notify's deliveries of this period are all sent, as many as expected so far, and the server has them."""
        want = sum(self.expected_mails.values())

        async def done():
            rows = await self.deliveries()
            assert len(rows) <= want, f"more mails than expected: {[(r['recipient'], r['subject']) for r in rows]}"
            received = {m["Message-ID"] for m in list(self.stack.mailbox.messages)}
            sent = [r for r in rows if r["status"] == "sent" and message_id(r) in received]
            return len(sent) == want and rows

        return await wait_until(done, timeout=60, interval=0.2, what=f"{want} mails of province {PROVINCE} sent")

    async def deliveries(self) -> list[dict]:
        params = {"province": PROVINCE, "period": PERIOD}
        answer = await self.http["notify"].get("/v1/deliveries", params=params, headers=self.operator)
        assert answer.status_code == 200, answer.text
        return [d for d in answer.json() if d["channel"] == "email"]  # the inbox has its own check

    async def compliance(self) -> dict:
        params = {"province": PROVINCE, "period": PERIOD, "plan_id": self.plan_id}
        answer = await self.http["deadlines"].get("/v1/compliance", params=params, headers=self.operator)
        return answer.json() if answer.status_code == 200 else {}

    async def deadlines_shows(self, statuses: dict[str, str]) -> dict:
        async def shown():
            found = {u["unit"]: u["status"] for u in (await self.compliance()).get("units", [])}
            return all(found.get(unit) == status for unit, status in statuses.items()) and found

        return await wait_until(shown, timeout=60, interval=0.2, what=f"deadlines to show {statuses}")

    async def caught_up(self, service: str) -> None:
        """The service's consumers have read every record on their topics (GET /v1/ops/pipeline)."""

        async def no_lag():
            answer = await self.http[service].get("/v1/ops/pipeline", headers=self.admin)
            groups = answer.json()["consumers"] if answer.status_code == 200 else []
            return groups and all(g["lag"] == 0 for g in groups)

        await wait_until(no_lag, timeout=120, interval=0.5, what=f"{service} to read its topics to the end")

    async def report(self, *, headers=None, suffix: str = "", province: str = PROVINCE, plan_id: str | None = None):
        return await self.http["consolidation"].get(
            f"/v1/reports/{province}/{PERIOD}{suffix}",
            params={"plan_id": plan_id or self.plan_id},
            headers=headers or self.operator,
        )
