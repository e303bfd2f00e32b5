"""Security of a whole run (issue 8): the four services as processes, driven over HTTP only.

A province of this run's own (code 93, plan sec-<tag>) whose unit CA is named with markup; reports,
an amendment, a nudge and a reopen reason full of HTML, script and template syntax (HOSTILE). Checked:

- the audit trails: every submission (API, API token and web form), amendment, lock, reopen, approval
  and publication is exactly one row with who, when and what; the service's own database user cannot
  UPDATE, DELETE or TRUNCATE them;
- escaping: every page that shows those texts (intake form/receipt/history, deadlines dashboard,
  consolidation report, national page and the report's HTML, notify deliveries/detail/inbox, the mail's
  HTML part, the mail sink's pages) has them as text and no live element (parsed, not grepped); the
  DOCX has them literally;
- CSRF: every POST form of every service (from app.routes: the routes that read a CsrfForm) answers
  403 without the token, with a wrong one and with another browser's, and no database changes;
- secrets: no password, JWT, API token, session or CSRF cookie, webhook secret, SMTP password, signing key or
  signing passphrase of the run appears in any service's log, in PostgreSQL's log, or in an error body.
"""

from __future__ import annotations

import base64
import io
import json
import mailbox
import re
import secrets
import uuid
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import asyncpg
import docx
import httpx
import pytest
from sqlalchemy.engine import make_url

from baocao_shared.web.csrf import FIELD as CSRF_FIELD
from baocao_shared.web.csrf import checked_form
from baocao_testing.html import Page, csrf_of
from baocao_testing.kit import wait_until
from baocao_testing.samples import demo_province_file

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
PROVINCE, PERIOD = "93", "2019-06"
ICT = timezone(timedelta(hours=7))
HOSTILE = (
    '<script>alert(1)</script> "><img src=x onerror=alert(1)> <a href="javascript:alert(1)">bấm</a> '
    "{{7*7}} {% if 1 %}x{% endif %} ${7*7}"
)
UNIT_NAME = 'Công an tỉnh <script>alert(2)</script>"><img src=x onerror=alert(2)>'
REASON = f"Bổ sung số liệu {HOSTILE}"
CSRF_REJECTED = "Biểu mẫu đã hết hạn hoặc thiếu mã bảo vệ"


def province_file(tag: str) -> str:
    mailbox = f"address: vanthu.sngv@sec-{tag}.baocao.test}}"
    return demo_province_file(
        PROVINCE,
        f"sec-{tag}",
        **{
            "    name: Công an tỉnh\n": f"    name: '{UNIT_NAME}'\n",
            mailbox: f"{mailbox}\n      - {{channel: inbox, address: {PROVINCE}-SNGV}}",
        },
    )


class Markup(HTMLParser):
    """Every element with its attributes, and the text a reader sees."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.chunks: list[str] = []
        self.feed(html)
        self.close()
        self.text = " ".join("".join(self.chunks).split())

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k.lower(): v or "" for k, v in attrs}))

    def handle_data(self, data):
        self.chunks.append(data)


def assert_inert(html: str, where: str, *shown: str) -> None:
    """No script, event handler, javascript: URL or injected image is live; `shown` are there as text
    (HOSTILE's "{{7*7}}" and "${7*7}" literally: no template evaluated them)."""
    page = Markup(html)
    for tag, attrs in page.elements:
        assert tag != "script", f"{where}: a <script> element"
        assert not [a for a in attrs if a.startswith("on")], f"{where}: <{tag} {attrs}> has an event handler"
        for name in ("href", "src", "action", "formaction", "xlink:href"):
            assert not attrs.get(name, "").strip().lower().startswith("javascript:"), f"{where}: <{tag} {attrs}>"
        assert not (tag == "img" and attrs.get("src") == "x"), f"{where}: the injected <img> is an element"
    for text in shown:
        assert " ".join(text.split()) in page.text, f"{where}: {text!r} is not shown as text"


def debian_chromium() -> str:
    """Debian's Chromium, as tests/browser uses (Playwright cannot download its own here); absent: a failure."""
    chromium = Path("/usr/bin/chromium")
    assert chromium.exists(), "install Debian's chromium (apt-get install chromium); .ci/run does so"
    return str(chromium)


async def dialogs_in_chromium(pages: dict[str, str]) -> dict[str, list[str]]:
    """Each page's HTML rendered by Chromium with no Content-Security-Policy to help, its javascript: links
    clicked: the dialogs that fired, by page. A control first: the hostile text itself, unescaped, must fire
    its three (script, image error, link), or the check proves nothing."""
    from playwright.async_api import async_playwright

    fired: dict[str, list[str]] = {}

    async def render(browser, where: str, html: str) -> None:
        page = await browser.new_page()

        async def dismiss(dialog) -> None:
            fired.setdefault(where, []).append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", dismiss)
        await page.set_content(html, wait_until="load")
        for link in await page.locator("a[href^='javascript:' i]").all():
            await link.click()
        if where == "control":
            await wait_until(lambda: _at_least(fired, where, 3), timeout=10, what="the control's three dialogs")
        await page.close()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=debian_chromium(), args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        try:
            await render(browser, "control", f"<p>{HOSTILE}</p>")
            fired.pop("control")
            for where, html in pages.items():
                await render(browser, where, html)
        finally:
            await browser.close()
    return fired


async def _at_least(fired: dict[str, list[str]], where: str, n: int) -> bool:
    return len(fired.get(where, [])) >= n


class Browser:
    """An httpx client with its own cookie jar, signed in through intake's form; its cookies go to every port."""

    def __init__(self, urls: dict[str, str], errors: list[str]) -> None:
        self.urls = urls
        self.http = httpx.AsyncClient(timeout=30, event_hooks={"response": [_keep_errors(errors)]})

    async def sign_in(self, username: str, password: str) -> Browser:
        form = await self.get("intake", "/dang-nhap")
        answer = await self.post("intake", "/dang-nhap", {CSRF_FIELD: csrf_of(form), "username": username,
                                                          "password": password})  # fmt: skip
        assert answer.status_code == 303, answer.text
        return self

    async def get(self, service: str, path: str, **params) -> httpx.Response:
        return await self.http.get(self.urls[service] + path, params=params or None)

    async def post(self, service: str, path: str, data: dict) -> httpx.Response:
        return await self.http.post(self.urls[service] + path, data=data)

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.http.cookies.jar if c.name == name)


def _keep_errors(errors: list[str]):
    async def hook(response: httpx.Response) -> None:
        if response.status_code >= 400:
            await response.aread()
            errors.append(response.text)

    return hook


async def test_hostile_text_audit_csrf_and_secrets_over_a_whole_run(services, postgres, tmp_path):
    tag = uuid.uuid4().hex[:8]
    password = f"sec-{tag}-mật-khẩu"
    webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    smtp_password = f"smtp-{secrets.token_urlsafe(16)}"
    # The test SMTP server offers no AUTH: notify holds the password (no username, so it does not log in).
    notify_env = {"BAOCAO_WEBHOOK_SECRET": webhook_secret, "BAOCAO_SMTP_PASSWORD": smtp_password}
    stack = await services.start(
        at=datetime(2019, 6, 10, 10, tzinfo=ICT),
        env={"intake": {"BAOCAO_DEMO_PASSWORD": password}, "notify": notify_env},
        intake_setup=[["accounts", "seed-demo"]],
    )
    run = Run(stack, tag, password)
    try:
        await run.act()
        await run.check_pages()
        await run.check_audit()
        await run.check_csrf()
        run.check_secrets(postgres, [webhook_secret, smtp_password], tmp_path)
    finally:
        await run.close()


class Run:
    def __init__(self, stack, tag: str, password: str) -> None:
        self.stack, self.tag, self.password, self.plan_id = stack, tag, password, f"sec-{tag}"
        self.errors: list[str] = []  # every error body any client got
        self.tokens: list[str] = []  # every bearer token issued
        self.api = {n: httpx.AsyncClient(base_url=u, timeout=30, event_hooks={"response": [_keep_errors(self.errors)]})
                    for n, u in stack.urls.items()}  # fmt: skip
        self.browsers: list[Browser] = []

    async def close(self) -> None:
        for client in [*self.api.values(), *(b.http for b in self.browsers)]:
            await client.aclose()

    async def browser(self, username: str) -> Browser:
        signed_in = await Browser(self.stack.urls, self.errors).sign_in(username, self.password)
        self.browsers.append(signed_in)
        return signed_in

    async def bearer(self, username: str) -> dict[str, str]:
        answer = await self.api["intake"].post("/v1/auth/token", data={"username": username, "password": self.password})
        assert answer.status_code == 200, answer.text
        self.tokens.append(answer.json()["access_token"])
        return {"Authorization": f"Bearer {self.tokens[-1]}"}

    # ------------------------------------------------------------------------------ the actions

    async def act(self) -> None:
        intake = self.api["intake"]
        self.admin = await self.bearer("admin")
        loaded = await intake.put(f"/v1/admin/provinces/{PROVINCE}", content=province_file(self.tag).encode(),
                                  headers={**self.admin, "Content-Type": "application/yaml"})  # fmt: skip
        assert loaded.status_code == 200, loaded.text
        assert (await intake.post("/v1/admin/demo-accounts", headers=self.admin)).status_code == 200
        self.operator, self.ca = await self.bearer(f"op-{PROVINCE}"), await self.bearer(f"{PROVINCE}-CA")
        [plan] = (await intake.get("/v1/plans", params={"province": PROVINCE}, headers=self.operator)).json()
        self.indicators = [i["code"] for t in plan["template"]["tasks"] for i in t["indicators"]]
        self.tasks = [t["code"] for t in plan["template"]["tasks"]]

        # CA by the API, then an amendment; a district unit's software by an API token.
        body = {"plan_id": self.plan_id, "unit": "CA", "period": PERIOD, "values": dict.fromkeys(self.indicators, 1),
                "narratives": {self.tasks[0]: HOSTILE, "next_month": HOSTILE}}  # fmt: skip
        sent = await intake.post("/v1/submissions", json=body, headers=self.ca)
        assert sent.status_code == 201, sent.text
        self.ca_submission = sent.json()["id"]
        amended = await intake.put(f"/v1/submissions/{self.ca_submission}", headers=self.ca, json={
            "values": dict.fromkeys(self.indicators, 2), "base_version": 1,
            "narratives": {self.tasks[0]: HOSTILE + " (2)", "next_month": HOSTILE}})  # fmt: skip
        assert amended.status_code == 200 and amended.json()["version"] == 2, amended.text
        issued = await intake.post(f"/v1/units/{PROVINCE}/UBND-TPHD/api-tokens", headers=self.admin,
                                   json={"label": "Phần mềm văn bản"})  # fmt: skip
        assert issued.status_code == 201, issued.text
        self.api_token = issued.json()["token"]
        by_token = await intake.post("/v1/submissions", headers={"Authorization": f"Bearer {self.api_token}"},
                                     json={**body, "unit": "UBND-TPHD", "narratives": {}})  # fmt: skip
        assert by_token.status_code == 201, by_token.text
        self.district_submission = by_token.json()["id"]

        # BTG through the web form, every narrative hostile.
        self.btg = await self.browser(f"{PROVINCE}-BTG")
        form_url = f"/bao-cao/{self.plan_id}/{PERIOD}"
        form = Page.of((await self.btg.get("intake", form_url)).text).form_data()
        fields = {k: (HOSTILE if k.startswith("n.") else "3" if k.startswith("v.") else v) for k, v in form.items()}
        posted = await self.btg.post("intake", form_url, fields)
        assert posted.status_code == 303 and posted.headers["location"].startswith("/bien-nhan/"), posted.text
        self.btg_receipt = posted.headers["location"]
        self.btg_submission = self.btg_receipt.split("/")[2].split("?")[0]

        # An operator locks and reopens the period by hand in intake.
        lock = f"/v1/admin/locks/{PROVINCE}/{self.plan_id}/{PERIOD}"
        assert (await intake.put(lock, json={"reason": REASON}, headers=self.admin)).status_code == 200
        assert (await intake.request("DELETE", lock, json={"reason": REASON}, headers=self.admin)).status_code == 200

        # The operator urges SNGV with a hostile message: a mail and an inbox message. deadlines learns the
        # period from the catalogue's events, a moment after intake loaded the province.
        async def owes() -> bool:
            params = {"province": PROVINCE, "plan_id": self.plan_id, "period": PERIOD}
            answer = await self.api["deadlines"].get("/v1/compliance", params=params, headers=self.operator)
            return answer.status_code == 200 and "SNGV" in {u["unit"] for u in answer.json()["units"]}

        await wait_until(owes, timeout=60, interval=0.2, what="deadlines to know SNGV owes the period")
        nudge = {"province": PROVINCE, "plan_id": self.plan_id, "period": PERIOD, "units": ["SNGV"], "message": HOSTILE}
        assert (await self.api["deadlines"].post("/v1/nudges", json=nudge, headers=self.operator)).status_code == 202
        self.sngv_mail = f"vanthu.sngv@sec-{self.tag}.baocao.test"
        self.nudge_mail = await wait_until(lambda: self._one_mail(self.sngv_mail), timeout=60, interval=0.2,
                                           what="the nudge mailed to SNGV")  # fmt: skip

        # The report: approved through the page's form, published by the API, reopened by an admin.
        reports = self.api["consolidation"]
        params = {"plan_id": self.plan_id}
        url = f"/v1/reports/{PROVINCE}/{PERIOD}"

        async def every_unit_in():
            answer = await reports.get(url, params=params, headers=self.operator)
            seen = {u["unit"]: u["version"] for u in answer.json()["units"]} if answer.status_code == 200 else {}
            return seen == {"CA": 2, "BTG": 1, "UBND-TPHD": 1}

        await wait_until(every_unit_in, timeout=60, interval=0.2, what="consolidation to hold the three reports")
        self.op = await self.browser(f"op-{PROVINCE}")
        page = await self.op.get("consolidation", f"/tong-hop/{PROVINCE}/{PERIOD}", **params)
        approve = {CSRF_FIELD: csrf_of(page), "plan_id": self.plan_id}
        approved = await self.op.post("consolidation", f"/tong-hop/{PROVINCE}/{PERIOD}/duyet", approve)
        assert approved.status_code == 303, approved.text
        published = await reports.post(f"{url}/publish", params=params, headers=self.operator)
        assert published.status_code == 200 and published.json()["status"] == "published", published.text
        self.docx = await reports.get(f"{url}.docx", params=params, headers=self.operator)
        assert self.docx.status_code == 200, self.docx.text
        await self._locked_in_intake(True)
        reopened = await reports.post(f"{url}/reopen", params=params, headers=self.admin, json={"reason": REASON})
        assert reopened.status_code == 200 and reopened.json()["status"] == "draft", reopened.text
        await self._locked_in_intake(False)

    async def _one_mail(self, address: str):
        found = self.stack.mailbox.to(address)
        assert len(found) <= 1
        return found[0] if found else None

    async def _locked_in_intake(self, locked: bool) -> None:
        async def now_so():
            answer = await self.api["intake"].get(f"/v1/submissions/{self.ca_submission}", headers=self.ca)
            return answer.json()["locked"] is locked

        await wait_until(now_so, timeout=60, interval=0.2, what=f"intake to see the period locked={locked}")

    # ------------------------------------------------------------------------------- the pages

    async def check_pages(self) -> None:
        ca = await self.browser(f"{PROVINCE}-CA")
        form_url, pages = f"/bao-cao/{self.plan_id}/{PERIOD}", []
        pages += [
            ("intake form (CA)", await ca.get("intake", form_url), [UNIT_NAME, HOSTILE + " (2)"]),
            ("intake receipt (CA)", await ca.get("intake", f"/bien-nhan/{self.ca_submission}", v="2"), []),
            ("intake history (CA)", await ca.get("intake", f"{form_url}/lich-su"), [UNIT_NAME]),
            ("intake receipt (BTG)", await self.btg.get("intake", self.btg_receipt), []),
            ("intake form (BTG)", await self.btg.get("intake", form_url), [HOSTILE]),
            ("intake periods (CA)", await ca.get("intake", "/"), [UNIT_NAME]),
        ]
        dashboard = {"province": PROVINCE, "plan_id": self.plan_id, "period": PERIOD}
        pages.append(("deadlines dashboard", await self.op.get("deadlines", "/tien-do", **dashboard), [UNIT_NAME]))
        report = await self.op.get("consolidation", f"/tong-hop/{PROVINCE}/{PERIOD}", plan_id=self.plan_id)
        pages.append(("consolidation report page", report, [UNIT_NAME, HOSTILE + " (2)", REASON]))
        html = await self.api["consolidation"].get(f"/v1/reports/{PROVINCE}/{PERIOD}.html",
                                                   params={"plan_id": self.plan_id}, headers=self.operator)  # fmt: skip
        pages.append(("consolidation report HTML", html, [UNIT_NAME, HOSTILE + " (2)"]))
        national = await self.browser("national")
        pages.append(("national page", await national.get("consolidation", f"/quoc-gia/{PERIOD}"), []))
        deliveries = await self.api["notify"].get("/v1/deliveries", params={"province": PROVINCE, "period": PERIOD},
                                                  headers=self.operator)  # fmt: skip
        self.nudges = [d for d in deliveries.json() if d["subject"].startswith("[Đôn đốc]")]
        assert {d["channel"] for d in self.nudges} == {"email", "inbox"}, self.nudges
        pages.append(("notify deliveries", await self.op.get("notify", "/thong-bao", province=PROVINCE), []))
        for d in self.nudges:
            pages.append((f"notify delivery {d['channel']}", await self.op.get("notify", f"/thong-bao/{d['id']}"),
                          [HOSTILE]))  # fmt: skip
        self.sngv = await self.browser(f"{PROVINCE}-SNGV")
        pages.append(("notify inbox (SNGV)", await self.sngv.get("notify", "/hop-thu"), [HOSTILE]))
        problems = []
        for where, answer, shown in pages:
            try:
                assert answer.status_code == 200, f"{where}: {answer.status_code} {answer.text[:300]}"
                assert_inert(answer.text, where, *shown)
            except AssertionError as exc:
                problems.append(str(exc).splitlines()[0])
        assert not problems, problems

        html_part = self.nudge_mail.get_body(("html",)).get_content()
        assert_inert(html_part, "the nudge mail's HTML part", HOSTILE)
        assert HOSTILE in self.nudge_mail.get_body(("plain",)).get_content()
        sink = await self._mail_sink_pages()
        rendered = {where: answer.text for where, answer, _ in pages} | {"mail HTML part": html_part} | sink
        assert await dialogs_in_chromium(rendered) == {}

        text = "\n".join(p.text for p in docx.Document(io.BytesIO(self.docx.content)).paragraphs)
        text += "\n".join(c.text for t in docx.Document(io.BytesIO(self.docx.content)).tables
                          for row in t.rows for c in row.cells)  # fmt: skip
        assert HOSTILE + " (2)" in text and UNIT_NAME in text

    async def _mail_sink_pages(self) -> dict[str, str]:
        """The nudge mail as `make up`'s mail sink shows it: the list, the mail, its HTML part (sandboxed)."""
        from baocao_stack.mailsink import SinkSettings, create_app

        folder = self.stack.logs.parent / "mailsink"
        key = mailbox.Maildir(folder, create=True).add(self.nudge_mail.as_bytes())
        app = create_app(SinkSettings(mail_dir=folder))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sink.test") as sink:
            listing, one, part = await sink.get("/"), await sink.get(f"/thu/{key}"), await sink.get(f"/thu/{key}/html")
        assert_inert(listing.text, "mail sink list")
        assert_inert(one.text, "mail sink mail", HOSTILE)
        assert_inert(part.text, "mail sink HTML part", HOSTILE)
        assert "sandbox" in part.headers["content-security-policy"]
        return {"mail sink list": listing.text, "mail sink mail": one.text, "mail sink HTML part": part.text}

    # ------------------------------------------------------------------------------ the audit

    async def connect(self, service: str) -> asyncpg.Connection:
        url = make_url(self.stack.env[service]["BAOCAO_DATABASE_URL"]).set(drivername="postgresql")
        return await asyncpg.connect(url.render_as_string(hide_password=False))

    async def check_audit(self) -> None:
        plan, period = self.plan_id, PERIOD
        lock_subject = f"period:{PROVINCE}.{plan}.{period}"
        expected = {
            "intake": [
                ("submission.received", f"submission:{self.ca_submission}", f"{PROVINCE}-CA", 1),
                ("submission.amended", f"submission:{self.ca_submission}", f"{PROVINCE}-CA", 2),
                ("submission.received", f"submission:{self.district_submission}", None, 1),
                ("submission.received", f"submission:{self.btg_submission}", f"{PROVINCE}-BTG", 1),
                ("period.locked", lock_subject, "admin", None),
                ("period.reopened", lock_subject, "admin", None),
                ("period.locked", lock_subject, None, None),  # on the report's publication
                ("period.reopened", lock_subject, None, None),  # on its reopening
            ],
            "consolidation": [
                ("report.approved", f"report:{PROVINCE}.{plan}.{period}", f"op-{PROVINCE}", "revision"),
                ("report.published", f"report:{PROVINCE}.{plan}.{period}", f"op-{PROVINCE}", "revision"),
                ("report.reopened", f"report:{PROVINCE}.{plan}.{period}", "admin", "revision"),
            ],
        }
        ours = ["submission:" + s for s in (self.ca_submission, self.district_submission, self.btg_submission)]
        for service, rows in expected.items():
            conn = await self.connect(service)
            try:
                found = await conn.fetch(
                    "SELECT at, actor, action, subject, details FROM audit_log WHERE subject = ANY($1) ORDER BY id",
                    [*ours, lock_subject, f"report:{PROVINCE}.{plan}.{period}"]
                    if service == "intake"
                    else [f"report:{PROVINCE}.{plan}.{period}"],
                )
                assert [(r["action"], r["subject"]) for r in found] == [(a, s) for a, s, _, _ in rows], found
                for row, (action, _, actor, what) in zip(found, rows, strict=True):
                    assert row["at"] is not None and row["actor"], row
                    if actor:
                        assert row["actor"] == actor, row
                    details = json.loads(row["details"])
                    if isinstance(what, int):
                        assert details["version"] == what and details["period"] == PERIOD, row
                    elif what == "revision":
                        assert isinstance(details.get("revision"), int), row
                    elif action.startswith("period."):
                        assert details.get("reason"), row
                for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
                    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                        await conn.execute(statement)
                assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE actor = 'x'") == 0
            finally:
                await conn.close()

    # ------------------------------------------------------------------------------- CSRF

    async def fingerprint(self) -> dict[str, str]:
        """Each service's tables, hashed row by row: any change to any of them shows."""
        found = {}
        for service in self.stack.urls:
            conn = await self.connect(service)
            try:
                for table in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"):
                    name = table["tablename"]
                    found[f"{service}.{name}"] = await conn.fetchval(
                        f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{name}\" t"
                    )
            finally:
                await conn.close()
        return found

    async def check_csrf(self) -> None:
        admin = await self.browser("admin")
        other = Browser(self.stack.urls, self.errors)  # a stranger's browser with its own CSRF cookie
        self.browsers.append(other)
        await other.get("intake", "/dang-nhap")
        inbox = await self.api["notify"].get("/v1/inbox", headers=await self.bearer(f"{PROVINCE}-SNGV"))
        values = {"province": PROVINCE, "period": PERIOD, "plan_id": self.plan_id,
                  "message_id": inbox.json()[0]["id"], "delivery_id": self.nudges[0]["id"], "key": "t1",
                  "unit": "SNGV"}  # fmt: skip
        who = {"intake": self.btg, "deadlines": self.op, "consolidation": self.op, "notify": self.sngv}
        forms = form_routes()
        assert len(forms) >= 9, forms
        before = await self.fingerprint()
        tried = []
        for service, path in forms:
            browser = admin if path.startswith("/he-thong") else who[service]
            url = path.format(**values)
            await browser.get(service, "/healthz")  # nothing: the cookie is there from its pages
            fields = {"plan_id": self.plan_id, "province": PROVINCE, "period": PERIOD, "units": "SNGV",
                      "username": "admin", "password": self.password, "message": "x", "group": "x"}  # fmt: skip
            for case, token in {"none": None, "wrong": secrets.token_urlsafe(32),
                                "another browser's": other.cookie("baocao_csrf")}.items():  # fmt: skip
                data = fields if token is None else {**fields, CSRF_FIELD: token}
                answer = await browser.post(service, url, data)
                tried.append((service, url, case))
                assert answer.status_code == 403 and CSRF_REJECTED in answer.text, (service, url, case, answer.text)
        assert await self.fingerprint() == before
        assert len(tried) == 3 * len(forms)

    # ----------------------------------------------------------------------------- secrets

    def check_secrets(self, postgres, given: list[str], home: Path) -> None:
        cookies = [c.value for b in self.browsers for c in b.http.cookies.jar
                   if c.name in ("baocao_session", "baocao_csrf")]  # fmt: skip
        signatures = [t.rsplit(".", 1)[1] for t in [*self.tokens, *cookies] if t.count(".") == 2]
        keys = [line for pem in (home / "keys").glob("*") for line in pem.read_text().splitlines()
                if line and not line.startswith("-----")]  # fmt: skip
        assert keys, "intake's development signing key was not found"
        found = {
            "password": [self.password],
            "secret": given,
            "token": [*self.tokens, self.api_token, *signatures],
            "cookie": cookies,
            "signing key": keys,
            "signing passphrase": [self.stack.signing.passphrase()],  # consolidation's PKCS#12 key file's
        }
        assert all(found.values()) and len(cookies) >= 2 * len(self.browsers) - 1, found
        logs = {p.name: p.read_text(encoding="utf-8", errors="replace") for p in self.stack.logs.glob("*.log")}
        assert set(logs) >= {f"{s}.log" for s in self.stack.urls} and all(logs.values())
        if postgres.server is not None:
            logs["postgres.log"] = Path(postgres.server.log_file).read_text(encoding="utf-8", errors="replace")
        logs["error bodies"] = "\n".join(self.errors)
        assert self.errors, "no error body was seen: the CSRF checks should have made some"
        for kind, values in found.items():
            for value in values:
                for where, text in logs.items():
                    assert value not in text, f"a {kind} of this run is in {where}"
        for where, text in logs.items():
            assert not re.search(r"[?&](access_token|token|password)=", text), f"a secret in a logged URL ({where})"


def form_routes() -> list[tuple[str, str]]:
    """(service, path) of every POST route of every service whose handler reads a CsrfForm."""
    from consolidation.main import create_app as consolidation
    from deadlines.main import create_app as deadlines
    from intake.main import create_app as intake
    from notify.main import create_app as notify

    def reads_form(dependant) -> bool:
        return dependant.call is checked_form or any(reads_form(d) for d in dependant.dependencies)

    def endpoints(routes):
        """The app's routes, through included routers (FastAPI 0.165 keeps them as _IncludedRouter)."""
        for route in routes:
            if hasattr(route, "effective_candidates"):
                candidates = route.effective_candidates
                yield from endpoints(candidates() if callable(candidates) else candidates)
            elif hasattr(route, "dependant") and hasattr(route, "methods"):
                yield route

    found = []
    for service, factory in {"intake": intake, "deadlines": deadlines, "consolidation": consolidation,
                             "notify": notify}.items():  # fmt: skip
        for route in endpoints(factory().routes):
            if "POST" in route.methods and reads_form(route.dependant):
                found.append((service, route.path))
    return found
