"""The staff office's report end to end, on the four services as processes, through their HTTP APIs only.

The demo province (plan 467, 29 units) under a code, plan and mail domain of this run, beginning in 2017-06.
Units report 14 months, 2017-09 to 2018-10, each on the 10th of its month (some skip months; nobody reports
2018-03), so the comparisons of 2018-09 and 2018-10 read a previous period, the same month a year before, and a
year to date that restarts in January. Checked:
- two operators save one section at once: one gets 200, the other 409 naming the current version;
- a unit amends after the edit (October has closed: under the office's exception): the section is flagged,
  naming the unit, and the office's text is kept;
- the comparisons equal sums computed here, independently, with "not reported" never counted as zero;
- approving and publishing 2018-09, then 2018-10, gives numbers n and n+1 of the register;
- the PDF validates with pyHanko: intact, covering the whole file, signed by the demo province's key, and
  with one byte flipped it no longer does; two downloads are identical and match report.published's hash;
- a mail with that PDF reaches every recipient of "Nơi nhận" that has a contact;
- the workbook's totals equal the API's.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import random
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import openpyxl
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from baocao_shared.messaging.history import read_history
from baocao_testing.kit import wait_until
from baocao_testing.samples import demo_province_file

pytestmark = pytest.mark.e2e
PROVINCE = "93"
ICT = timezone(timedelta(hours=7))
MONTHS = [f"2017-{m:02d}" for m in range(9, 13)] + [f"2018-{m:02d}" for m in range(1, 11)]  # 14 months
SILENT_MONTH = "2018-03"  # nobody reports: "not reported", never zero
REPORTERS = ["CA", "BTG", "SNGV", "STP", "UBND-TPHD", "UBND-CL", "UBND-KM"]


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ICT)


async def test_the_office_writes_numbers_signs_and_sends_its_report(services):
    tag = uuid.uuid4().hex[:8]
    national_mail, password = f"vptt@e2e-{tag}.baocao.test", f"e2e-{tag}-mật-khẩu"
    contacts = f'[{{"channel": "email", "address": "{national_mail}"}}]'
    stack = await services.start(
        at=local("2017-09-10T09:00"),
        env={"intake": {"BAOCAO_DEMO_PASSWORD": password}, "notify": {"BAOCAO_NATIONAL_CONTACTS": contacts}},
        intake_setup=[["accounts", "seed-demo"]],
    )
    http = {name: httpx.AsyncClient(base_url=url, timeout=60) for name, url in stack.urls.items()}
    try:
        office = Office(stack, http, tag, password, national_mail)
        await office.set_up()
        await office.history()
        await office.two_operators_save_one_section()
        await office.an_amendment_flags_the_section()
        await office.comparisons_equal_independent_sums()
        first, second = await office.publish("2018-09"), await office.publish("2018-10")
        n = int(first["number"].split("/")[0])
        assert second["number"] == f"{n + 1}/BC-BCĐNQ" and first["number"] == f"{n}/BC-BCĐNQ"
        pdf = await office.signed_pdf_checks(second)
        await office.mails_carry_the_pdf(second, pdf)
        await office.workbook_equals_the_api("2018-10")
        await office.document_is_identified(second, pdf)
    finally:
        for client in http.values():
            await client.aclose()


class Office:
    def __init__(self, stack, http, tag: str, password: str, national_mail: str) -> None:
        self.stack, self.http, self.tag, self.password = stack, http, tag, password
        self.plan_id, self.national_mail = f"e2e-{tag}", national_mail
        self.sent: dict[tuple[str, str], dict[str, int]] = {}  # (unit, period) -> latest figures sent
        self.ids: dict[tuple[str, str], str] = {}
        self.rng = random.Random(16)

    async def set_up(self) -> None:
        early = {"issued_on: 2019-05-19": "issued_on: 2017-05-19", "first_period: 2019-06": "first_period: 2017-06"}
        text = demo_province_file(PROVINCE, self.plan_id, **early)
        self.admin = await self.sign_in("admin")
        intake = self.http["intake"]
        loaded = await intake.put(
            f"/v1/admin/provinces/{PROVINCE}",
            content=text.encode(),
            headers={**self.admin, "Content-Type": "application/yaml"},
        )
        assert loaded.status_code == 200, loaded.text
        assert (await intake.post("/v1/admin/demo-accounts", headers=self.admin)).status_code == 200
        self.operator = await self.sign_in(f"op-{PROVINCE}")
        units = (await intake.get("/v1/units", params={"province": PROVINCE}, headers=self.operator)).json()
        self.names = {u["code"]: u["name"] for u in units}
        self.mail = {u["code"]: u["contacts"][0]["address"] for u in units}
        [plan] = (await intake.get("/v1/plans", params={"province": PROVINCE}, headers=self.operator)).json()
        self.indicators = [i["code"] for task in plan["template"]["tasks"] for i in task["indicators"]]
        self.head_mail = next(
            a["contacts"][0]["address"] for a in plan["report"]["addressees"] if a["reach"] == "contacts"
        )
        self.units = {code: await self.sign_in(f"{PROVINCE}-{code}") for code in REPORTERS if code in self.names}
        for code in REPORTERS:
            if code not in self.units:  # districts report through an API token
                issued = await intake.post(
                    f"/v1/units/{PROVINCE}/{code}/api-tokens", json={"label": "phần mềm"}, headers=self.admin
                )
                self.units[code] = {"Authorization": f"Bearer {issued.json()['token']}"}
        # A second operator of the same province, created on the server as an admin does.
        made = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "intake.cli", "accounts", "create", f"op2-{self.tag}", "--role",
             "province_operator", "--province", PROVINCE],
            env=self.stack.env["intake"], input=f"{self.password}\n", capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr[-2000:]
        self.second = await self.sign_in(f"op2-{self.tag}")

    async def sign_in(self, username: str) -> dict[str, str]:
        answer = await self.http["intake"].post(
            "/v1/auth/token", data={"username": username, "password": self.password}
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def tick(self) -> None:
        """The office's next step, a few minutes later."""
        self.now = getattr(self, "now", local("2018-11-18T09:00")) + timedelta(minutes=5)
        self.stack.set_clock(self.now)

    def url(self, period: str, suffix: str = "") -> str:
        return f"/v1/reports/{PROVINCE}/{period}{suffix}?plan_id={self.plan_id}"

    async def report(self, period: str, who=None) -> dict:
        answer = await self.http["consolidation"].get(self.url(period), headers=who or self.operator)
        assert answer.status_code == 200, answer.text
        return answer.json()

    # ------------------------------------------------------------------------------------------ history

    async def history(self) -> None:
        """14 months of reports; each unit skips a month now and then; nobody reports in SILENT_MONTH."""
        for period in MONTHS:
            if period == SILENT_MONTH:
                continue
            self.stack.set_clock(local(f"{period}-10T09:00"))  # in the month's window, before it is due
            for unit in REPORTERS:
                if self.rng.random() < 0.2 and period not in ("2018-09", "2018-10"):
                    continue
                figures = {code: self.rng.randint(0, 40) for code in self.indicators}
                narratives = {"T1": f"{self.names[unit]} quán triệt kỳ {period}.", "difficulties": "Thiếu kinh phí."}
                sent = await self.http["intake"].post(
                    "/v1/submissions",
                    headers=self.units[unit],
                    json={"plan_id": self.plan_id, "unit": unit, "period": period, "values": figures,
                          "narratives": narratives},
                )  # fmt: skip
                assert sent.status_code == 201, sent.text
                self.sent[unit, period], self.ids[unit, period] = figures, sent.json()["id"]

        async def all_seen():
            report = await self.report("2018-10")
            return len(report["units"]) == len(REPORTERS) and report["coverage"]["year_to_date"] == sum(
                1 for (_, p) in self.sent if p.startswith("2018-")
            )

        self.stack.set_clock(local("2018-11-18T09:00"))  # the office's work: October closed on the 25th
        await wait_until(all_seen, timeout=90, what="consolidation to see 14 months of reports")

    # ------------------------------------------------------------------------------------------- sections

    async def two_operators_save_one_section(self) -> None:
        report = await self.report("2018-10")
        base = report["version"]
        t1 = next(s for s in report["sections"] if s["key"] == "t1")
        assert not t1["edited"] and "đơn vị" in t1["text"]  # the draft from the figures

        async def save(who, words):
            return await self.http["consolidation"].put(
                self.url("2018-10", "/sections/t1"), headers=who, json={"text": words, "base_version": base}
            )

        first, second = await asyncio.gather(
            save(self.operator, "Văn phòng: các đơn vị quán triệt đầy đủ."),
            save(self.second, "Người thứ hai viết khác."),
        )
        statuses = sorted([first.status_code, second.status_code])
        assert statuses == [200, 409], (first.text, second.text)
        won, lost = (first, second) if first.status_code == 200 else (second, first)
        assert won.json()["version"] == base + 1
        assert lost.json()["error"]["details"]["current_version"] == base + 1
        self.office_text = next(s["text"] for s in won.json()["sections"] if s["key"] == "t1")
        refused = await self.http["consolidation"].put(
            self.url("2018-10", "/sections/t1"),
            headers=self.units["CA"],
            json={"text": "đơn vị không viết được", "base_version": base + 1},
        )
        assert refused.status_code == 403

    async def an_amendment_flags_the_section(self) -> None:
        figures = {**self.sent["CA", "2018-10"], "t1_sessions": self.sent["CA", "2018-10"]["t1_sessions"] + 7}
        url = f"/v1/submissions/{self.ids['CA', '2018-10']}"
        closed = await self.http["intake"].put(url, headers=self.units["CA"], json={"values": figures})
        assert closed.status_code == 409 and closed.json()["error"]["code"] == "period_closed", closed.text
        granted = await self.http["intake"].post(
            f"/v1/periods/{PROVINCE}/2018-10/exceptions", params={"plan_id": self.plan_id}, headers=self.operator,
            json={"unit": "CA", "reason": "Công an tỉnh báo sai số buổi quán triệt; văn phòng cho sửa."},
        )  # fmt: skip
        assert granted.status_code in (200, 201), granted.text
        amended = await self.http["intake"].put(url, headers=self.units["CA"], json={"values": figures})
        assert amended.status_code == 200, amended.text
        self.sent["CA", "2018-10"] = figures

        async def flagged():
            t1 = next(s for s in (await self.report("2018-10"))["sections"] if s["key"] == "t1")
            return t1 if t1["source_changed"] else None

        t1 = await wait_until(flagged, timeout=30, what="the section to show that CA's report changed")
        assert t1["text"] == self.office_text  # the office's words stay
        assert [c["unit"] for c in t1["source_changes"]] == ["CA"]

    # ---------------------------------------------------------------------------------------- comparisons

    def expected(self, period: str) -> dict[str, dict[str, int | None]]:
        def total(code: str, of: str) -> int | None:
            values = [f[code] for (_, p), f in self.sent.items() if p == of]
            return sum(values) if values else None

        year, month = int(period[:4]), int(period[5:])
        before = f"{year}-{month - 1:02d}" if month > 1 else f"{year - 1}-12"
        so_far = [f"{year}-{m:02d}" for m in range(1, month + 1)]
        result = {}
        for code in self.indicators:
            known = [t for t in (total(code, p) for p in so_far) if t is not None]
            result[code] = {
                "total": total(code, period),
                "previous": total(code, before),
                "last_year": total(code, f"{year - 1}-{month:02d}"),
                "year_to_date": sum(known) if known else None,
            }
        return result

    async def comparisons_equal_independent_sums(self) -> None:
        for period in ("2018-10", "2018-09", "2018-04"):  # 2018-04: the month before was silent
            report = await self.report(period)
            assert report["comparisons"] == self.expected(period), period
        april = await self.report("2018-04")
        assert all(c["previous"] is None for c in april["comparisons"].values())  # not zero
        assert april["coverage"]["previous"] == 0
        january = await self.report("2018-01")
        assert january["coverage"]["year_periods"] == ["2018-01"]  # the year to date restarts

    # ----------------------------------------------------------------------------------------- publishing

    async def publish(self, period: str) -> dict:
        c = self.http["consolidation"]
        self.tick()
        approved = await c.post(self.url(period, "/approve"), headers=self.operator)
        assert approved.status_code == 200, approved.text
        self.tick()
        published = await c.post(self.url(period, "/publish"), headers=self.operator)
        assert published.status_code == 200, published.text
        report = published.json()
        assert report["status"] == "published" and report["signed_by"]
        assert {d["kind"] for d in report["documents"]} == {"pdf", "docx"}
        edit = await c.put(
            self.url(period, "/sections/t1"),
            headers=self.operator,
            json={"text": "x", "base_version": report["version"]},
        )
        assert edit.status_code == 409  # published: frozen
        return report

    async def signed_pdf_checks(self, report: dict) -> bytes:
        c = self.http["consolidation"]
        one = await c.get(self.url("2018-10", ".pdf"), headers=self.operator)
        two = await c.get(self.url("2018-10", ".pdf"), headers=self.operator)
        assert one.status_code == 200 and one.headers["content-type"] == "application/pdf"
        assert one.content == two.content
        pdf_ref = next(d for d in report["documents"] if d["kind"] == "pdf")
        assert hashlib.sha256(one.content).hexdigest() == pdf_ref["sha256"]
        published_event = await self.published_event("2018-10")
        assert next(d for d in published_event["documents"] if d["kind"] == "pdf")["sha256"] == pdf_ref["sha256"]

        trust = ValidationContext(trust_roots=[self.stack.signing_ca()], allow_fetching=False)
        signature = PdfFileReader(io.BytesIO(one.content)).embedded_signatures[0]
        status = await asyncio.to_thread(validate_pdf_signature, signature, trust)  # pyHanko runs its own loop
        assert status.intact and status.valid and status.trusted
        assert status.coverage.name == "ENTIRE_FILE"
        assert "HẢI DƯƠNG" in status.signing_cert.subject.human_friendly

        flipped = bytearray(one.content)
        flipped[len(flipped) // 3] ^= 0x01
        assert not await asyncio.to_thread(_validates, bytes(flipped), trust)
        return one.content

    async def published_event(self, period: str) -> dict:
        """report.published as it is on baocao.reports (the record, not the API)."""
        bootstrap = self.stack.env["consolidation"]["BAOCAO_KAFKA_BOOTSTRAP_SERVERS"]
        found = None
        async for _, records in read_history(bootstrap, ["baocao.reports"]):
            for record in records:
                event = json.loads(record.value)
                data = event["data"]
                if event["type"] == "vn.baocao.report.published.v1" and data["plan_id"] == self.plan_id:
                    found = data if data["period"] == period else found
        assert found is not None, "report.published is not on baocao.reports"
        return found

    async def mails_carry_the_pdf(self, report: dict, pdf: bytes) -> None:
        recipients = {self.national_mail, self.head_mail, *self.mail.values()}

        async def all_delivered():
            got = {}
            for message in self.stack.mailbox.messages:
                for part in message.iter_attachments():
                    if part.get_content_type() == "application/pdf" and part.get_content() == pdf:
                        got[message["X-Envelope-To"]] = got.get(message["X-Envelope-To"], 0) + 1
            return got if recipients <= set(got) else None

        got = await wait_until(all_delivered, timeout=60, what="the signed PDF to reach every recipient")
        assert all(got[r] == 1 for r in recipients), got
        deliveries = (
            await self.http["notify"].get(
                "/v1/deliveries", params={"province": PROVINCE, "period": "2018-10"}, headers=self.admin
            )
        ).json()
        published = [d for d in deliveries if d["cause_type"] == "vn.baocao.report.published.v1"]
        assert {d["recipient"] for d in published if d["channel"] == "email"} >= recipients
        assert all(d["status"] == "sent" for d in published if d["channel"] == "email")

    async def workbook_equals_the_api(self, period: str) -> None:
        report = await self.report(period)
        answer = await self.http["consolidation"].get(self.url(period, ".xlsx"), headers=self.operator)
        assert answer.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(answer.content))
        units = book.worksheets[0]
        rows = list(units.iter_rows(values_only=True))
        header, total = rows[1], rows[-1]
        assert total[2] == "TỔNG CỘNG"
        for code, value in report["totals"].items():
            column = next(i for i, h in enumerate(header) if h and code in _code_of(report, h))
            assert total[column] == value and isinstance(total[column], int)
        compared = {row[0]: row for row in book.worksheets[1].iter_rows(min_row=3, values_only=True) if row[0]}
        for code, c in report["comparisons"].items():
            assert compared[code][2:6] == (c["total"], c["previous"], c["last_year"], c["year_to_date"])

    async def document_is_identified(self, report: dict, pdf: bytes) -> None:
        c = self.http["consolidation"]
        found = await c.get(f"/v1/documents/{hashlib.sha256(pdf).hexdigest()}")
        assert found.status_code == 200 and found.json()["number"] == report["number"]
        assert (await c.get(f"/v1/documents/{hashlib.sha256(pdf + b'x').hexdigest()}")).status_code == 404


def _code_of(report: dict, header: str) -> str:
    """The indicator codes whose label the workbook's column header carries."""
    labels = {i["code"]: i["label"] for t in report["tasks"] for i in t["indicators"]}
    return " ".join(code for code, label in labels.items() if label in header)


def _validates(pdf: bytes, trust: ValidationContext) -> bool:
    try:
        status = validate_pdf_signature(PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[0], trust)
    except Exception:  # a broken file is not a valid signed document
        return False
    return status.intact and status.valid
