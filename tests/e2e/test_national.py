"""The national level on the four services as processes, by HTTP only (issue 18): three provinces owe the national
office their report of March 2021, due at 00:00 on the 20th (plan 467's `province_due_day`).

- province 60 publishes on the 18th: on time. The national office returns it with a reason; a unit amends, the
  office publishes again (a new number, replacing the first) and the national office accepts it, for good;
- province 67 publishes at 01:02:05 on the 20th: late by exactly 3,725 seconds;
- province 69 never publishes: it is missing, its office is reminded and told it is overdue, and the national
  office's digest names it. Its office entered one unit's paper report on that unit's behalf, and the unit's
  history says so.
The national totals of the three provinces' regime equal the sums of what their units sent, mapped onto the
regime's indicators here, apart from consolidation's rule.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import yaml

from baocao_testing.kit import wait_until
from baocao_testing.samples import demo_province_file, regime_file

pytestmark = pytest.mark.e2e
ICT = timezone(timedelta(hours=7))
PERIOD = "2021-03"
ON_TIME, LATE, NEVER = "60", "67", "69"
PROVINCES = (ON_TIME, LATE, NEVER)
UNITS = {ON_TIME: ("CA", "BTG"), LATE: ("CA",), NEVER: ("CA", "BTG")}  # who reports in each province
DUE = datetime(2021, 3, 20, tzinfo=ICT)  # the province's report at the national office
LATE_BY_S = 3725


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ICT)


async def test_three_provinces_on_time_late_and_missing_answered_and_totalled_per_regime(services):
    tag = uuid.uuid4().hex[:8]
    password = f"e2e-{tag}-mật-khẩu"
    national_mailbox = f"vptt@nat-{tag}.baocao.test"
    stack = await services.start(
        at=local("2021-03-01T09:00"),
        env={
            "intake": {"BAOCAO_DEMO_PASSWORD": password},
            "notify": {"BAOCAO_NATIONAL_CONTACTS": json.dumps([{"channel": "email", "address": national_mailbox}])},
        },
        intake_setup=[["accounts", "seed-demo"]],
    )
    http = {name: httpx.AsyncClient(base_url=url, timeout=60) for name, url in stack.urls.items()}
    try:
        run = Run(stack, http, tag, password, national_mailbox)
        await run.set_up()
        await run.the_provinces_owe_their_reports()
        stack.set_clock(local("2021-03-10T09:00"))
        await run.units_report()
        await run.the_office_entered_a_paper_report_on_the_units_behalf()

        await run.publish(ON_TIME, at=local("2021-03-18T10:00"))
        await run.the_missing_province_is_reminded_before_the_deadline()
        await run.publish(LATE, at=DUE + timedelta(seconds=LATE_BY_S))
        stack.set_clock(local("2021-03-21T09:00"))
        await run.compliance_shows_on_time_late_by_the_seconds_and_missing()
        await run.the_missing_province_was_reminded_and_escalated()

        await run.the_national_office_returns_one_and_accepts_it_republished()
        await run.national_totals_per_regime_are_the_sums_of_the_units_figures()
    finally:
        for client in http.values():
            await client.aclose()


class Run:
    def __init__(self, stack, http, tag: str, password: str, national_mailbox: str) -> None:
        self.stack, self.http, self.password, self.national_mailbox = stack, http, password, national_mailbox
        self.regime = f"e2e-{tag}"
        self.plans = {code: f"e2e-{tag}-{code}" for code in PROVINCES}
        self.sent: dict[tuple[str, str], dict[str, int]] = {}  # (province, unit) -> its latest figures
        self.submissions: dict[tuple[str, str], str] = {}
        self.numbers: dict[str, str] = {}  # the number each province's first publication took

    async def sign_in(self, username: str) -> dict[str, str]:
        answer = await self.http["intake"].post(
            "/v1/auth/token", data={"username": username, "password": self.password}
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def office_mailbox(self, code: str) -> str:
        return f"phongthammuu.ca@{self.plans[code]}.baocao.test"

    async def set_up(self) -> None:
        self.admin = await self.sign_in("admin")
        yaml_body = {**self.admin, "Content-Type": "application/yaml"}
        regime = regime_file().replace("id: nhan-quyen", f"id: {self.regime}")
        loaded = await self.http["intake"].put(
            f"/v1/admin/regimes/{self.regime}", content=regime.encode(), headers=yaml_body
        )
        assert loaded.status_code == 200, loaded.text
        self.files = {}
        for code in PROVINCES:
            self.files[code] = demo_province_file(
                code, self.plans[code], national=True,
                **{"regime: nhan-quyen": f"regime: {self.regime}",
                   "first_period: 2019-06": "first_period: 2019-06\n    tracking_from: 2021-03",
                   "    units: all": "    units: [CA, BTG]"},  # the two that report: fewer mails to wait for
            )  # fmt: skip
            loaded = await self.http["intake"].put(
                f"/v1/admin/provinces/{code}", content=self.files[code].encode(), headers=yaml_body
            )
            assert loaded.status_code == 200, loaded.text
        assert (await self.http["intake"].post("/v1/admin/demo-accounts", headers=self.admin)).status_code == 200
        self.national = await self.sign_in("national")
        self.offices = {code: await self.sign_in(f"op-{code}") for code in PROVINCES}
        [plan] = (await self.http["intake"].get("/v1/plans", params={"province": ON_TIME}, headers=self.admin)).json()
        self.indicators = [i["code"] for task in plan["template"]["tasks"] for i in task["indicators"]]
        self.mapping = yaml.safe_load(self.files[ON_TIME])["plans"][0]["national"]["indicators"]
        assert set(self.mapping) == set(self.indicators)  # every indicator maps, to a code of the regime's own

    def figures(self, code: str, unit: str, version: int = 1) -> dict[str, int]:
        return {ind: (int(code) + len(unit) * (i + 1) + 10 * version) % 17 for i, ind in enumerate(self.indicators)}

    def report(self, code: str, unit: str, version: int = 1) -> dict:
        values = self.figures(code, unit, version)
        narratives = {"T1": f"{unit} báo cáo kỳ {PERIOD}."}
        return {"plan_id": self.plans[code], "unit": unit, "period": PERIOD, "values": values, "narratives": narratives}

    async def units_report(self) -> None:
        for code, units in UNITS.items():
            for unit in units:
                if (code, unit) == (NEVER, "BTG"):
                    continue  # its report came on paper: the office enters it
                who = await self.sign_in(f"{code}-{unit}")
                sent = await self.http["intake"].post("/v1/submissions", json=self.report(code, unit), headers=who)
                assert sent.status_code == 201, sent.text
                assert (sent.json()["channel"], sent.json()["entered_by"]) == ("api", None)
                self.submissions[code, unit] = sent.json()["id"]
                self.sent[code, unit] = self.figures(code, unit)

    async def the_office_entered_a_paper_report_on_the_units_behalf(self) -> None:
        office = self.offices[NEVER]
        other = await self.http["intake"].post(  # another province's office may not
            "/v1/submissions", json={**self.report(NEVER, "BTG"), "province": NEVER}, headers=self.offices[LATE]
        )
        assert other.status_code == 403, other.text
        entered = await self.http["intake"].post(
            "/v1/submissions", json={**self.report(NEVER, "BTG"), "province": NEVER, "source": "paper"}, headers=office
        )
        assert entered.status_code == 201, entered.text
        assert (entered.json()["channel"], entered.json()["entered_by"]) == ("on_behalf", f"op-{NEVER}")
        self.sent[NEVER, "BTG"] = self.figures(NEVER, "BTG")
        unit = await self.sign_in(f"{NEVER}-BTG")
        listed = await self.http["intake"].get(
            "/v1/submissions", params={"unit": "BTG", "period": PERIOD}, headers=unit
        )
        [row] = listed.json()
        assert (row["channel"], row["entered_by"]) == ("on_behalf", f"op-{NEVER}")
        history = (await self.http["intake"].get(f"/v1/submissions/{row['id']}", headers=unit)).json()["history"]
        assert [(h["version"], h["channel"], h["entered_by"], h["source"]) for h in history] == [
            (1, "on_behalf", f"op-{NEVER}", "paper")
        ]

    # ------------------------------------------------------------------------------------ the provinces

    def report_url(self, code: str, step: str = "") -> str:
        return f"/v1/reports/{code}/{PERIOD}{'/' + step if step else ''}?plan_id={self.plans[code]}"

    async def wait_for_units(self, code: str, versions: dict[str, int]) -> None:
        async def arrived():
            got = await self.http["consolidation"].get(self.report_url(code), headers=self.offices[code])
            if got.status_code != 200:
                return False
            return {u["unit"]: u["version"] for u in got.json()["units"]} == versions

        await wait_until(arrived, timeout=60, interval=0.3, what=f"consolidation to see province {code}'s units")

    async def publish(self, code: str, *, at: datetime) -> dict:
        """The office approves its report a quarter of an hour before `at` and publishes it at `at`."""
        await self.wait_for_units(code, dict.fromkeys(UNITS[code], 1))
        office = self.offices[code]
        self.stack.set_clock(at - timedelta(minutes=15))
        approved = await self.http["consolidation"].post(self.report_url(code, "approve"), headers=office)
        assert approved.status_code == 200, approved.text
        self.stack.set_clock(at)
        published = await self.http["consolidation"].post(self.report_url(code, "publish"), headers=office)
        assert published.status_code == 200, published.text
        self.numbers[code] = published.json()["number"]

        async def recorded():  # deadlines reads the publication from baocao.reports before the clock moves on
            rows = {r["unit"]: r for r in (await self.national_compliance())["units"]}
            return rows.get(code, {}).get("first_submitted_at")

        await wait_until(recorded, timeout=60, interval=0.3, what=f"deadlines to record province {code}'s report")
        return published.json()

    async def national_compliance(self) -> dict:
        got = await self.http["deadlines"].get(
            "/v1/compliance", params={"level": "national", "period": PERIOD}, headers=self.national
        )
        assert got.status_code == 200, got.text
        return got.json()

    async def the_provinces_owe_their_reports(self) -> None:
        """Deadlines opened the period for the three provinces on the 1st, as the catalogue arrived: only then may
        the clock jump to the 18th. A period opened after its reminders' hour skips them, as it should."""

        async def owed():
            got = await self.http["deadlines"].get(
                "/v1/compliance", params={"level": "national", "period": PERIOD}, headers=self.national
            )
            assert got.status_code in (200, 404), got.text  # 404 until a province owes the period
            rows = {r["unit"]: r["status"] for r in got.json()["units"]} if got.status_code == 200 else {}
            return all(rows.get(code) == "pending" for code in PROVINCES)

        await wait_until(owed, timeout=60, interval=0.3, what="deadlines to open 2021-03 for the three provinces")

    async def compliance_shows_on_time_late_by_the_seconds_and_missing(self) -> None:
        refused = await self.http["deadlines"].get(
            "/v1/compliance", params={"level": "national", "period": PERIOD}, headers=self.offices[ON_TIME]
        )
        assert refused.status_code == 403  # the national level is the national office's

        async def settled():
            found = await self.national_compliance()
            rows = {r["unit"]: r for r in found["units"]}
            states = {code: rows.get(code, {}).get("status") for code in PROVINCES}
            return (found, rows) if states == {ON_TIME: "on_time", LATE: "late", NEVER: "missing"} else None

        found, rows = await wait_until(settled, timeout=60, interval=0.3, what="the national compliance")
        assert datetime.fromisoformat(found["due_at"]) == DUE
        assert rows[LATE]["late_by_s"] == LATE_BY_S
        assert datetime.fromisoformat(rows[LATE]["first_submitted_at"]) == DUE + timedelta(seconds=LATE_BY_S)
        assert datetime.fromisoformat(rows[ON_TIME]["first_submitted_at"]) == local("2021-03-18T10:00")
        assert rows[ON_TIME]["late_by_s"] is None and rows[NEVER]["first_submitted_at"] is None
        assert found["summary"] == {
            "expected": 3, "on_time": 1, "late": 1, "missing": 1, "pending": 0,
            "reporting_rate": 0.6667, "on_time_rate": 0.3333,
        }  # fmt: skip

    async def the_missing_province_is_reminded_before_the_deadline(self) -> None:
        """The clock stays on the 18th until the scheduler reminded province 69 (its reminders of the 16th and the
        18th at 08:00): a reminder that only fires once the deadline passed is dropped, as it should be."""

        async def reminded() -> list:
            return [
                m for m in self.stack.mailbox.to(self.office_mailbox(NEVER))
                if m["Subject"].startswith("[Nhắc hạn] Báo cáo tổng hợp")
            ]  # fmt: skip

        found = await wait_until(reminded, timeout=60, interval=0.3, what="province 69's office reminded on the 18th")
        assert "hạn 00:00 ngày 20/03/2021" in found[0]["Subject"]

    async def the_missing_province_was_reminded_and_escalated(self) -> None:
        office = self.office_mailbox(NEVER)

        def subjects(address: str) -> list[str]:
            return [m["Subject"] for m in self.stack.mailbox.to(address)]

        async def told() -> bool:
            mine = subjects(office)
            return any(s.startswith("[Nhắc hạn] Báo cáo tổng hợp") for s in mine) and any(
                s.startswith("[Quá hạn]") and "báo cáo tổng hợp" in s for s in mine
            )

        try:
            await wait_until(told, timeout=90, interval=0.3, what="province 69's office reminded and told overdue")
        except AssertionError as timed_out:  # say what the office did receive, and who else got mail
            everyone = sorted({str(m["X-Envelope-To"]) for m in self.stack.mailbox.messages})
            raise AssertionError(f"{timed_out}; it got {subjects(office)}; mail went to {everyone}") from None

        async def digests() -> list:  # the national office also receives each published report (Nơi nhận)
            return [m for m in self.stack.mailbox.to(self.national_mailbox) if m["Subject"].startswith("[Tổng hợp]")]

        found = await wait_until(digests, timeout=60, what="the national office's digest")
        [digest] = found  # one digest for the period, naming only the province still missing at its hour
        assert digest["Subject"].startswith("[Tổng hợp] 1 tỉnh, thành phố chưa gửi báo cáo")
        text = self.stack.mailbox.text_of(digest)
        assert f"({NEVER})" in text and f"({ON_TIME})" not in text and f"({LATE})" not in text
        # Provinces that published are not told they are overdue.
        assert not [s for s in subjects(self.office_mailbox(ON_TIME)) if s.startswith("[Quá hạn]") and "tổng hợp" in s]

    # ------------------------------------------------------------------------------------ the national office

    async def the_national_office_returns_one_and_accepts_it_republished(self) -> None:
        consolidation, office = self.http["consolidation"], self.offices[ON_TIME]
        refused = await consolidation.post(self.report_url(ON_TIME, "accept"), headers=office)
        assert refused.status_code == 403  # only the national office answers
        draft = await consolidation.post(self.report_url(NEVER, "accept"), headers=self.national)
        assert draft.status_code == 409  # nothing was published

        reason = "Số liệu của Công an tỉnh chưa khớp với báo cáo chuyên đề; đề nghị rà soát."
        returned = await consolidation.post(
            self.report_url(ON_TIME, "return"), json={"reason": reason}, headers=self.national
        )
        assert returned.status_code == 200, returned.text
        page = await consolidation.get(self.report_url(ON_TIME), headers=office)
        assert page.json()["status"] == "draft" and reason in page.json()["status_note"]
        first_number = self.numbers[ON_TIME]

        unit = await self.sign_in(f"{ON_TIME}-CA")
        amendment = {"values": self.figures(ON_TIME, "CA", version=2), "base_version": 1}

        async def amended():
            answer = await self.http["intake"].put(
                f"/v1/submissions/{self.submissions[ON_TIME, 'CA']}", json=amendment, headers=unit
            )
            return answer if answer.status_code == 200 else None

        await wait_until(amended, timeout=60, interval=0.3, what="intake to unlock the returned period")
        self.sent[ON_TIME, "CA"] = self.figures(ON_TIME, "CA", version=2)
        await self.wait_for_units(ON_TIME, {"CA": 2, "BTG": 1})
        assert (await consolidation.post(self.report_url(ON_TIME, "approve"), headers=office)).status_code == 200
        again = await consolidation.post(self.report_url(ON_TIME, "publish"), headers=office)
        assert again.status_code == 200, again.text
        assert again.json()["replaces"] == first_number and again.json()["number"] != first_number

        accepted = await consolidation.post(self.report_url(ON_TIME, "accept"), headers=self.national)
        assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text
        final = await consolidation.post(
            self.report_url(ON_TIME, "return"), json={"reason": reason}, headers=self.national
        )
        assert final.status_code == 409  # accepting is final

        async def locked():
            answer = await self.http["intake"].put(
                f"/v1/submissions/{self.submissions[ON_TIME, 'CA']}",
                json={"values": self.figures(ON_TIME, "CA", version=3), "base_version": 2}, headers=unit,
            )  # fmt: skip
            return answer.status_code == 409

        await wait_until(locked, timeout=60, interval=0.3, what="intake to keep the accepted period locked")
        # The first publication decided the timeliness; publishing again did not change it.
        rows = {r["unit"]: r for r in (await self.national_compliance())["units"]}
        assert rows[ON_TIME]["status"] == "on_time"

    async def national_totals_per_regime_are_the_sums_of_the_units_figures(self) -> None:
        got = await self.http["consolidation"].get(f"/v1/national/{PERIOD}", headers=self.national)
        assert got.status_code == 200, got.text
        roll_up = got.json()
        assert "totals" not in roll_up  # never a total across regimes
        [regime] = [r for r in roll_up["regimes"] if r["regime"] == self.regime]
        statuses = {p["province"]: p["status"] for p in regime["provinces"]}
        assert statuses == {ON_TIME: "accepted", LATE: "published", NEVER: "draft"}
        assert [m["province"] for m in regime["missing"]] == [NEVER]

        def in_regime(code: str) -> Counter:
            total: Counter = Counter()
            for (province, _), figures in self.sent.items():
                if province == code:
                    total.update({self.mapping[ind]: value for ind, value in figures.items()})
            return total

        per_province = {p["province"]: p["totals"] for p in regime["provinces"] if p["province"] != NEVER}
        assert per_province == {code: dict(in_regime(code)) for code in (ON_TIME, LATE)}
        expected = in_regime(ON_TIME) + in_regime(LATE)  # the missing province's figures count nowhere
        assert {k: v for k, v in regime["totals"].items() if v} == dict(expected)
