"""What test_month.py's month must show at its end: compliance, the report and its DOCX, intake's lock, the national
roll-up, every mail once, and no secret in a log. A mixin of Month, which gives the clients and the readers
(`http`, `report`, `compliance`, `mails_sent`) and what the month did (`latest`, `totals`, `expected_mails`)."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime

import docx
import yaml

from baocao_testing.kit import SmtpMailbox, wait_until
from baocao_testing.samples import REGIME
from tests.e2e.month_script import (
    AFTER_REMINDER,
    DUE,
    EARLY,
    LAST_MINUTE,
    LATE,
    NEVER,
    PERIOD,
    PROVINCE,
    in_regime,
    kind_of,
    local,
    message_id,
    province_file,
    vn,
)


class MonthChecks:
    async def check_compliance(self) -> None:
        async def closed():
            found = await self.compliance()
            flagged = [u["unit"] for u in found.get("units", []) if u["amended_after_due"]]
            return found.get("closed_at") and flagged == ["SYT"] and found

        found = await wait_until(closed, timeout=60, interval=0.2, what="the period closed, SYT's amendment flagged")
        assert found["due_at"] == DUE.astimezone(UTC).isoformat().replace("+00:00", "Z")
        assert found["summary"] == {"expected": 29, "on_time": 23, "late": 3, "missing": 3, "pending": 0,
                                    "reporting_rate": round(26 / 29, 4), "on_time_rate": round(23 / 29, 4)}  # fmt: skip
        units = {u["unit"]: u for u in found["units"]}
        statuses = {u: s["status"] for u, s in units.items()}
        assert statuses == {**dict.fromkeys([*EARLY, *AFTER_REMINDER, LAST_MINUTE], "on_time"),
                            **dict.fromkeys(LATE, "late"), **dict.fromkeys(NEVER, "missing")}  # fmt: skip
        late_by = {u: units[u]["late_by_s"] for u in LATE}
        assert late_by == {u: int((local(at) - DUE).total_seconds()) for u, at in LATE.items()}
        assert datetime.fromisoformat(units[LAST_MINUTE]["first_submitted_at"]) == local("2018-10-15T23:59:59")

    async def check_report(self) -> None:
        """consolidation sums the latest version of every unit's report, and knows the discipline."""
        expected_units = {unit: (version, values) for unit, (_, version, values) in self.latest.items()}

        async def complete():
            report = (await self.report()).json()
            seen = {u["unit"]: (u["version"], u["values"]) for u in report["units"]}
            return seen == expected_units and report["discipline"]["closed"] and report

        report = await wait_until(complete, timeout=60, interval=0.2, what="the report to hold every latest version")
        self.totals = {i["code"]: sum(v[i["code"]] for _, _, v in self.latest.values()) for i in self.indicators}
        assert report["totals"] == self.totals
        assert {i["code"]: i["total"] for t in report["tasks"] for i in t["indicators"]} == self.totals
        assert report["revision"] == 1 + sum(version for _, version, _ in self.latest.values())
        d = report["discipline"]
        assert (d["expected"], d["on_time"], d["late"], d["missing"], d["pending"]) == (29, 23, 3, 3, 0)
        assert sorted(u["unit"] for u in d["late_units"]) == sorted(LATE)
        assert sorted(u["unit"] for u in d["missing_units"]) == sorted(NEVER)
        assert report["status"] == "draft"

    async def check_locked(self) -> None:
        """Publishing locks the period in intake: a later amendment, or a first report, gets 409."""
        submission, version, _ = self.latest["CA"]
        intake, ca = self.http["intake"], self.unit_auth["CA"]

        async def locked():
            return (await intake.get(f"/v1/submissions/{submission}", headers=ca)).json()["locked"]

        await wait_until(locked, timeout=60, interval=0.2, what="intake to lock the published period")
        amended = await intake.put(
            f"/v1/submissions/{submission}", json={"values": self.figures("CA", 9), "base_version": version}, headers=ca
        )
        assert amended.status_code == 409 and "locked" in amended.json()["error"]["message"], amended.text
        late = await intake.post("/v1/submissions", json=self.body(NEVER[0]), headers=self.unit_auth[NEVER[0]])
        assert late.status_code == 409, late.text

    async def check_docx(self) -> None:
        answer = await self.report(suffix=".docx")
        assert answer.status_code == 200, answer.text
        document = docx.Document(io.BytesIO(answer.content))
        lines = [p.text for p in document.paragraphs]
        for i in self.indicators:  # the office's sections, still the drafts the figures make
            assert any(line.startswith(f"– {i['label']}: {vn(self.totals[i['code']])} {i['unit']} (") for line in lines)
        assert document.tables[0].rows[1].cells[0].text.startswith("Số: 1/BC-BCĐNQ")  # the register's first
        assert "Tổng số đơn vị phải gửi báo cáo: 29; gửi đúng hạn: 23; gửi muộn: 3; chưa gửi: 3." in lines
        missing = next(line for line in lines if line.startswith("– Các đơn vị chưa gửi báo cáo"))
        assert all(self.names[u] in missing for u in NEVER)
        header = document.tables[0]
        assert "Hải Dương, ngày 28 tháng 10 năm 2018" in [c.text for row in header.rows for c in row.cells]
        section = document.sections[0]
        assert "DỰ THẢO" not in section.first_page_header.paragraphs[0].text + section.header.paragraphs[0].text
        appendix = [[c.text for c in row.cells] for row in document.tables[-1].rows]
        assert appendix[-1][0] == "TỔNG CỘNG"
        assert appendix[-1][2:] == [vn(self.totals[i["code"]]) for i in self.indicators]
        rows = {row[1]: row[2:] for row in appendix[2:-1]}
        assert rows == {
            self.names[u]: [vn(v[i["code"]]) for i in self.indicators] for u, (_, _, v) in self.latest.items()
        }

    async def check_national(self) -> None:
        """The national office sees the province published, and its regime's totals over every published report
        of that regime, in the regime's codes."""
        answer = await self.http["consolidation"].get(f"/v1/national/{PERIOD}", headers=self.national)
        assert answer.status_code == 200, answer.text
        roll_up = answer.json()
        [ours] = [e for e in roll_up["provinces"] if (e["province"], e["plan_id"]) == (PROVINCE, self.plan_id)]
        assert ours["status"] == "published" and ours["province_name"] == "Hải Dương"
        assert datetime.fromisoformat(ours["published_at"]) == local("2018-10-28T10:00")
        assert (PROVINCE, self.plan_id) not in {(e["province"], e["plan_id"]) for e in roll_up["not_reported"]}
        assert "totals" not in roll_up, "no total across regimes"
        mapping = yaml.safe_load(province_file(self.tag))["plans"][0]["national"]["indicators"]
        [regime] = [r for r in roll_up["regimes"] if r["regime"] == REGIME]
        [mine] = [p for p in regime["provinces"] if (p["province"], p["plan_id"]) == (PROVINCE, self.plan_id)]
        assert mine["totals"] == in_regime(self.totals, mapping)
        expected: Counter = Counter(mine["totals"])
        for other in regime["provinces"]:  # other tests on the session's broker may have published this period
            if other["status"] == "published" and other is not mine:
                found = await self.report(headers=self.national, province=other["province"], plan_id=other["plan_id"])
                expected.update(in_regime(found.json()["totals"], mapping))  # the demo files' plans map alike
        assert regime["totals"] == dict(sorted(expected.items()))

    async def check_mails(self) -> None:
        """Every delivery reached the SMTP server once, to its recipient; nothing else reached our people."""
        rows = await self.mails_sent()
        assert all(r["attempts"] == 1 for r in rows)
        by_id = {message_id(r): r for r in rows}
        messages = list(self.stack.mailbox.messages)
        ours = [m for m in messages if m["Message-ID"] in by_id]
        assert Counter(m["Message-ID"] for m in ours) == Counter(dict.fromkeys(by_id, 1))
        assert all(m["X-Envelope-To"] == by_id[m["Message-ID"]]["recipient"] for m in ours)
        people = {*self.mail.values(), self.operator_mail}
        assert not [m["Subject"] for m in messages if m["X-Envelope-To"] in people and m["Message-ID"] not in by_id]
        assert Counter((m["X-Envelope-To"], kind_of(m["Subject"])) for m in ours) == self.expected_mails

        by_unit = {address: unit for unit, address in self.mail.items()}
        for m in ours:
            unit = by_unit.get(m["X-Envelope-To"])
            if kind_of(m["Subject"]) != "published":  # a notice names its unit; the report is the province's
                assert unit is None or self.names[unit] in m["Subject"], m["Subject"]
            if kind_of(m["Subject"]) == "reminder":  # the province's own report is due at the national office later
                due = "20/10/2018" if m["X-Envelope-To"] == self.operator_mail else "16/10/2018"
                assert m["Subject"].endswith(f"hạn 00:00 ngày {due}"), m["Subject"]
        [digest] = [m for m in ours if kind_of(m["Subject"]) == "escalation"]
        assert digest["Subject"] == "[Tổng hợp] 6 đơn vị chưa gửi báo cáo tháng 10/2018"
        listed = SmtpMailbox.text_of(digest)
        assert all(f"({u})" in listed for u in [*LATE, *NEVER])
        assert not [u for u in self.names if f"({u})" in listed and u not in {*LATE, *NEVER}]

        inbox = await self.http["notify"].get("/v1/inbox", headers=self.operator)
        titles = sorted(kind_of(m["title"]) for m in inbox.json() if "10/2018" in m["title"])
        # the digest and the approval, and the province's own reminders and overdue notices (the national level)
        assert titles == sorted(["approved", "escalation", *["reminder"] * 3, *["overdue"] * 3]), titles

    def check_no_secret_logged(self) -> None:
        """The month's password, every JWT (and its signature alone) and every API token: in no service's log."""
        bearers = [h["Authorization"].split(" ", 1)[1] for h in [self.admin, self.operator, self.national,
                                                                 *self.unit_auth.values()]]  # fmt: skip
        kinds = Counter("api token" if b.startswith("bc_") else "jwt" if b.count(".") == 2 else "?" for b in bearers)
        assert len(bearers) == 3 + 29 and set(kinds) == {"api token", "jwt"}, kinds
        secrets = [self.password, *bearers, *(b.rsplit(".", 1)[1] for b in bearers if b.count(".") == 2)]
        logs = {p.name: p.read_text(encoding="utf-8", errors="replace") for p in self.stack.logs.glob("*.log")}
        assert len(logs) == 4 and all(logs.values())
        leaked = [(name, i) for name, text in logs.items() for i, s in enumerate(secrets) if s in text]
        assert not leaked, f"secrets (by index) in the logs: {leaked}"
