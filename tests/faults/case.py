"""A fault case: the load it sends while its fault happens, and `reconcile()`, which checks that every accepted
submission shows once in the totals and the compliance and that every silent unit was reminded once."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from baocao_testing.kit import wait_until
from tests.faults.scale import AMEND_EVERY, ARTIFACTS, LONG, PROVINCE, SCALE, Retryable, local

if TYPE_CHECKING:
    from tests.faults.world import World


@dataclass
class Accepted:
    submission: str
    version: int
    values: dict[str, int]


@dataclass
class FaultCase:
    world: World
    name: str
    period: str
    accepted: dict[str, Accepted] = field(default_factory=dict)  # unit -> its latest accepted version
    attempted: int = 0
    answered_201: int = 0
    replayed: int = 0
    amended: int = 0
    retries: int = 0
    unanswered: list[str] = field(default_factory=list)
    intakes: list[str] = field(default_factory=list)  # the intake URLs the load spreads over
    notes: dict[str, object] = field(default_factory=dict)
    pace: float = 1.0  # the share of SCALE.rate the load sends at; a case lowers it to keep the load going longer
    # The reminder instant once deadlines shows every accepted submission, not during the fault: exactly the
    # silent units are reminded, so two runs of one script remind the same units (the scale-out comparison).
    remind_when_settled: bool = False
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.tag = uuid.uuid4().hex[:8]
        self.talking = self.world.units[: -SCALE.silent]
        self.silent = self.world.units[-SCALE.silent :]
        self.started = time.monotonic()

    def accepted_so_far(self) -> int:
        return self.answered_201 + self.amended

    def elapsed(self) -> float:
        """Seconds since the case began (a figure, the same clock as `load_s` and `reminder_at`)."""
        return round(time.monotonic() - self.started, 1)

    def values(self, unit: str, version: int) -> dict[str, int]:
        """Distinct per unit and version: a unit counted twice, or an old version, changes the totals."""
        n = self.world.units.index(unit) + 1
        return {code: n * 10 + k + 7 * (version - 1) for k, code in enumerate(self.world.indicators)}

    # ------------------------------------------------------------------------------------------- the load

    async def run(self, fault: Callable[[], Awaitable[None]]) -> None:
        """The load from start to end, with `fault` applied SCALE.rounds times in the middle of it."""
        load = asyncio.create_task(self._load())
        try:
            await self._progress(SCALE.settle_s)
            for round_ in range(SCALE.rounds):
                await fault()
                if round_ == 0 and not self.remind_when_settled:
                    self.reminder_instant()  # after the first round's fault, if the fault did not move it
            # Every unit that talks submits before the reconciliation: units left silent by a short load
            # would only add overdue notices to the next case's mail queue.
            await asyncio.wait({load}, timeout=SCALE.load_bound_s)
        finally:
            self._stop.set()
            await load
        if self.remind_when_settled:
            await self._deadlines_knows_every_submission()
        self.reminder_instant()

    async def _deadlines_knows_every_submission(self) -> None:
        async def all_on_time():
            found = await self.world.compliance(self.period)
            return set(self.accepted) <= {u["unit"] for u in found.get("units", []) if u["status"] == "on_time"}

        await wait_until(all_on_time, timeout=SCALE.reconcile_s, interval=0.5, what="deadlines to know them all")

    async def _progress(self, seconds: float) -> None:
        """Let the load run on for `seconds` (the load's length, not a synchronisation)."""
        await asyncio.sleep(seconds)

    def reminder_instant(self) -> None:
        """The clock at 08:00 on the 12th: the period's first reminder round is due."""
        if "reminder_at" not in self.notes:
            self.notes["reminder_at"] = round(time.monotonic() - self.started, 1)
            self.world.stack.set_clock(local(self.period, 12, 8))

    async def _load(self) -> None:
        in_flight: set[asyncio.Task] = set()
        limit = asyncio.Semaphore(60)
        queue = list(self.talking)
        amend_after: list[tuple[float, str]] = []
        next_at = time.monotonic()
        count = 0
        async with httpx.AsyncClient(timeout=15) as client:
            while not self._stop.is_set() and (queue or amend_after):
                now = time.monotonic()
                if next_at > now:
                    await asyncio.sleep(next_at - now)
                next_at += 1 / (SCALE.rate * self.pace)
                if amend_after and (amend_after[0][0] <= time.monotonic() or not queue):
                    _, unit = amend_after.pop(0)
                    if unit not in self.accepted:  # its submission is still being retried: amend later
                        amend_after.append((time.monotonic() + 1.0, unit))
                        continue
                    job = self._amend(client, unit)
                elif queue:
                    unit = queue.pop(0)
                    count += 1
                    if count % AMEND_EVERY == 0:
                        amend_after.append((time.monotonic() + 2.0, unit))
                    job = self._submit(client, unit)
                else:
                    continue

                async def bounded(job=job):
                    async with limit:
                        await job

                task = asyncio.create_task(bounded())
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            if in_flight:
                await asyncio.gather(*in_flight)
        self.notes["load_s"] = round(time.monotonic() - self.started, 1)

    def _intake(self, unit: str) -> str:
        urls = self.intakes or [self.world.url("intake")]
        return urls[self.world.units.index(unit) % len(urls)]

    async def _send(self, client: httpx.AsyncClient, method: str, unit: str, path: str, **kwargs) -> httpx.Response:
        """One request, sent again on a transport error or a 5xx (bounded in time)."""
        async for attempt in AsyncRetrying(
            stop=stop_after_delay(120),
            wait=wait_exponential(multiplier=0.2, max=2),
            retry=retry_if_exception_type(Retryable),
            reraise=True,
        ):
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    self.retries += 1
                try:
                    answer = await client.request(method, f"{self._intake(unit)}{path}", **kwargs)
                except httpx.TransportError as exc:
                    raise Retryable(repr(exc)) from exc
                if answer.status_code >= 500:
                    raise Retryable(f"{answer.status_code} {answer.text[:200]}")
                return answer
        raise AssertionError("unreachable")

    async def _submit(self, client: httpx.AsyncClient, unit: str) -> None:
        self.attempted += 1
        values = self.values(unit, 1)
        body = {"plan_id": self.world.plan_id, "unit": unit, "period": self.period, "values": values}
        headers = {**self.world.unit_auth[unit], "Idempotency-Key": f"{unit}-{self.period}-{self.tag}"}
        try:
            answer = await self._send(client, "POST", unit, "/v1/submissions", json=body, headers=headers)
        except Retryable as exc:
            self.unanswered.append(f"submit {unit}: {exc}")
            return
        assert answer.status_code == 201, f"{unit}: {answer.status_code} {answer.text}"
        if answer.headers.get("Idempotent-Replayed") == "true":
            self.replayed += 1
        self.answered_201 += 1
        receipt = answer.json()
        self.accepted[unit] = Accepted(receipt["id"], receipt["version"], values)

    async def _amend(self, client: httpx.AsyncClient, unit: str) -> None:
        """PUT has no Idempotency-Key: after a lost answer, a 409 on the retry is checked against intake's copy."""
        self.attempted += 1
        before = self.accepted[unit]
        values = self.values(unit, before.version + 1)
        body = {"values": values, "base_version": before.version}
        path = f"/v1/submissions/{before.submission}"
        auth = self.world.unit_auth[unit]
        try:
            answer = await self._send(client, "PUT", unit, path, json=body, headers=auth)
            if answer.status_code == 409:
                held = (await self._send(client, "GET", unit, path, headers=auth)).json()
                if held["version"] == before.version + 1 and held["values"] == values:
                    self.amended += 1
                    self.accepted[unit] = Accepted(before.submission, before.version + 1, values)
                    return
        except Retryable as exc:
            self.unanswered.append(f"amend {unit}: {exc}")
            return
        assert answer.status_code == 200, f"{unit}: {answer.status_code} {answer.text}"
        self.amended += 1
        self.accepted[unit] = Accepted(before.submission, answer.json()["version"], values)

    async def wait_accepted(self, more: int, timeout: float = 120) -> None:
        """Until `more` further submissions were accepted (the load made progress), within a bound."""
        target = self.answered_201 + self.amended + more

        async def progressed():
            return self.answered_201 + self.amended >= target or self._stop.is_set() or "load_s" in self.notes

        await wait_until(progressed, timeout=timeout, interval=0.1, what=f"{more} more accepted submissions")

    # ----------------------------------------------------------------------------------------- reconcile

    async def reconcile(self) -> dict:
        """Poll until the pipeline caught up or the deadline passed; record the figures; fail on a loss."""
        world, http = self.world, self.world.http
        expected = {unit: (a.version, a.values) for unit, a in self.accepted.items()}
        expected_totals = {c: sum(a.values[c] for a in self.accepted.values()) for c in world.indicators}
        seen: dict = {"report": {}, "compliance": {}, "reminders": [], "mail_ids": Counter()}

        async def report_matches():
            try:
                answer = await http.get(
                    f"{world.url('consolidation')}/v1/reports/{PROVINCE}/{self.period}",
                    params={"plan_id": world.plan_id},
                    headers=world.admin,
                )
            except httpx.TransportError:
                return False
            if answer.status_code != 200:
                return False
            seen["report"] = report = answer.json()
            units = {u["unit"]: (u["version"], u["values"]) for u in report["units"]}
            return len(report["units"]) == len(units) and units == expected and report["totals"] == expected_totals

        async def compliance_matches():
            seen["compliance"] = found = await world.compliance(self.period)
            statuses = [(u["unit"], u["status"]) for u in found.get("units", [])]
            on_time = sorted(u for u, s in statuses if s == "on_time")
            return (
                found
                and len(statuses) == len(world.units)
                and on_time == sorted(expected)
                and found["summary"]["on_time"] == len(expected)
                and found["summary"]["pending"] == len(world.units) - len(expected)
            )

        async def reminders_sent():
            try:
                answer = await http.get(
                    f"{world.url('notify')}/v1/deliveries",
                    params={"province": PROVINCE, "period": self.period, "channel": "email", "limit": 5000},
                    headers=world.admin,
                )
            except httpx.TransportError:
                return False
            if answer.status_code != 200:
                return False
            seen["reminders"] = rows = [d for d in answer.json() if d["subject"].startswith("[Nhắc hạn]")]
            seen["mail_ids"] = Counter(m["Message-ID"] for m in list(world.stack.mailbox.messages))
            mailed = seen["mail_ids"]
            sent = {r["unit"] for r in rows if r["status"] == "sent" and f"<{r['id']}@baocao.notify>" in mailed}
            return set(self.silent) <= sent

        deadline = time.monotonic() + SCALE.reconcile_s
        outcome = {}
        for what, check in (("report", report_matches), ("compliance", compliance_matches),
                            ("reminders", reminders_sent)):  # fmt: skip
            left, began = max(5.0, deadline - time.monotonic()), time.monotonic()
            try:
                await wait_until(check, timeout=left, interval=0.5, what=what)
                outcome[what] = round(time.monotonic() - began, 1)  # seconds until it matched
            except AssertionError:
                outcome[what] = False
        return self._figures(expected, expected_totals, seen, outcome)

    def _figures(self, expected: dict, expected_totals: dict, seen: dict, outcome: dict) -> dict:
        report = seen["report"]
        in_report: Counter = Counter(u["unit"] for u in report.get("units", []))
        report_units = {u["unit"]: (u["version"], u["values"]) for u in report.get("units", [])}
        compliance_units = {u["unit"]: u["status"] for u in seen["compliance"].get("units", [])}
        lost_report = sorted(u for u, v in expected.items() if report_units.get(u) != v)
        lost_compliance = sorted(u for u in expected if compliance_units.get(u) != "on_time")
        totals = report.get("totals", {})
        over = {c: totals.get(c, 0) - t for c, t in expected_totals.items() if totals.get(c, 0) != t}
        per_unit = Counter(r["unit"] for r in seen["reminders"])
        mails = seen["mail_ids"]
        reminder_ids = {f"<{r['id']}@baocao.notify>" for r in seen["reminders"]}
        delivered = {
            r["unit"] for r in seen["reminders"] if r["status"] == "sent" and f"<{r['id']}@baocao.notify>" in mails
        }
        self.observed = seen  # what the services answered last: report, compliance, reminders, mails
        figures = {
            "case": self.name,
            "long": LONG,
            "period": self.period,
            "attempted": self.attempted,
            "accepted_201": self.answered_201,
            "replayed_201": self.replayed,
            "amended_200": self.amended,
            "retried_requests": self.retries,
            "unanswered": len(self.unanswered),
            "accepted_units": len(expected),
            "lost_in_totals": len(lost_report),
            "lost_in_compliance": len(lost_compliance),
            "units_listed_twice": sum(1 for n in in_report.values() if n > 1),
            "totals_off_by": over,
            "reminders_expected": len(self.silent),
            "reminders_delivered": len(set(self.silent) & delivered),
            "reminders_lost": sorted(set(self.silent) - delivered),
            "reminder_deliveries": len(seen["reminders"]),
            "duplicate_reminder_deliveries": sum(n - 1 for n in per_unit.values() if n > 1),
            "duplicate_mails": sum(n - 1 for mid, n in mails.items() if n > 1 and mid in reminder_ids),
            "duplicate_mails_all_periods": sum(n - 1 for n in mails.values() if n > 1),
            "caught_up": outcome,
            "seconds": round(time.monotonic() - self.started, 1),
            **self.notes,
        }
        self.figures = figures
        self._write()
        print(
            f"\nFAULT {self.name}: attempted {self.attempted}, accepted {self.answered_201} (+{self.amended} amended), "
            f"retried {self.retries}, unanswered {len(self.unanswered)}, "
            f"lost {len(lost_report)}/{len(lost_compliance)} "
            f"(totals/compliance), duplicated in totals {figures['units_listed_twice']} {over or ''}, reminders "
            f"{figures['reminders_delivered']}/{len(self.silent)} delivered, duplicate reminders "
            f"{figures['duplicate_reminder_deliveries']}, duplicate mails {figures['duplicate_mails']}, "
            f"{figures['seconds']}s"
        )
        self.lost = {"totals": lost_report, "compliance": lost_compliance, "reminders": figures["reminders_lost"]}
        return figures

    def record(self, **found) -> None:
        """Figures a case finds after its reconciliation (its dead letters): into its JSON with the others."""
        self.notes.update(found)
        self.figures.update(found)
        self._write()

    def _write(self) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.figures, indent=2, ensure_ascii=False) + "\n"
        (ARTIFACTS / f"{self.name}.json").write_text(text)

    def assert_nothing_lost(self) -> None:
        """What a user would notice: an accepted report missing or counted twice, a reminder never sent."""
        f = self.figures
        assert not self.unanswered, f"requests never answered within their retry bound: {self.unanswered[:5]}"
        assert f["accepted_units"] > 0, "the load got nothing accepted"
        assert not self.lost["totals"], f"accepted reports missing from the totals: {self.lost['totals'][:10]} {f}"
        assert not f["totals_off_by"] and not f["units_listed_twice"], f"totals counted wrong: {f}"
        assert not self.lost["compliance"], f"accepted reports not on time in compliance: {self.lost['compliance']}"
        assert not self.lost["reminders"], f"reminders never delivered: {self.lost['reminders']} {f}"

    # -------------------------------------------------------------------------------------- fault helpers

    def shuffled(self, items: list) -> list:
        items = list(items)
        random.Random(self.tag).shuffle(items)
        return items
