"""How often a crash of the sender duplicates a mail: measured, and bounded by `sender_concurrency`.

The sender sends, then records the delivery as sent; a SIGKILL between the two sends that mail again
when it restarts (at least once). The real sender loop runs as its own process against real
PostgreSQL and a real aiosmtpd server that answers each mail after a few milliseconds, as a busy
server does; the test kills it and starts it again. Every delivery is counted by its Message-ID.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from baocao_shared.db import make_engine, upgrade_database
from baocao_stack.ports import free_port
from baocao_testing.fixtures import create_database
from baocao_testing.kit import SmtpMailbox, wait_until
from notify.adapters import orm
from notify.main import MIGRATIONS

pytestmark = [pytest.mark.integration, pytest.mark.faults]
WORKER = Path(__file__).with_name("sender_worker.py")


class SlowMailbox(SmtpMailbox):
    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.005)
        return await super().handle_DATA(server, session, envelope)


class Sender:
    def __init__(self, tmp: Path, db_url: str, smtp_port: int, concurrency: int, faults: str = "") -> None:
        self.log = tmp / f"sender-{uuid.uuid4().hex[:6]}.log"
        env = {**os.environ, "BAOCAO_FAULTS": faults, "BAOCAO_FAULTS_DIR": str(tmp)}
        args = [sys.executable, str(WORKER), db_url, str(smtp_port), str(concurrency)]
        self.proc = subprocess.Popen(args, stdout=self.log.open("w"), stderr=subprocess.STDOUT, env=env)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.kill()


@pytest.fixture
async def deliveries_db(postgres):
    url = await create_database(postgres, "notify")
    await upgrade_database(MIGRATIONS, url)
    engine = make_engine(url)
    yield url, engine
    await engine.dispose()


async def pending(engine, count: int) -> set[str]:
    rows = [
        {
            "id": uuid.uuid4(),
            "cause_event_id": uuid.uuid4(),
            "cause_type": "vn.baocao.reminder.due.v1",
            "province": "93",
            "plan_id": "crash",
            "period": "2019-06",
            "unit": f"U{i}",
            "channel": "email",
            "recipient": f"vanthu.u{i}@crash.baocao.test",
            "subject": f"[Nhắc hạn] U{i}",
            "body_text": "Kính gửi",
        }
        for i in range(count)
    ]
    async with engine.begin() as conn:
        await conn.execute(orm.deliveries.insert(), rows)
    return {f"<{r['id']}@baocao.notify>" for r in rows}


async def sent_count(engine) -> int:
    async with engine.connect() as conn:
        d = orm.deliveries.c
        return await conn.scalar(select(func.count()).where(d.status == "sent"))


async def test_a_crash_after_sending_sends_that_mail_once_more(deliveries_db, tmp_path):
    """The fault point between the SMTP answer and the commit: exactly one mail twice, one at a time."""
    url, engine = deliveries_db
    ids = await pending(engine, 20)
    mailbox = SmtpMailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    first = Sender(tmp_path, url, smtp.port, concurrency=1, faults="notify.after_send")
    try:
        await wait_until(lambda: _exited(first), timeout=60, what="the sender to die at its fault point")
        assert first.proc.returncode == -signal.SIGKILL
        assert len(mailbox.messages) == 1 and await sent_count(engine) == 0  # sent, not recorded
        second = Sender(tmp_path, url, smtp.port, concurrency=1, faults="notify.after_send")  # fires once only
        try:
            await wait_until(lambda: _all_sent(engine, 20), timeout=60, what="all 20 deliveries sent")
        finally:
            second.stop()
    finally:
        first.stop()
        smtp.stop()
    copies = Counter(m["Message-ID"] for m in mailbox.messages)
    assert set(copies) == ids
    assert sorted(copies.values()) == [1] * 19 + [2]


async def test_duplicates_under_repeated_kills_stay_within_the_mails_in_flight(deliveries_db, tmp_path, capsys):
    """400 mails, 4 in flight, the sender SIGKILLed five times mid-stream: every mail arrives, and at most
    4 per crash arrive twice. The measured figure is printed (see docs/RELIABILITY.md)."""
    url, engine = deliveries_db
    total, concurrency, kills = 400, 4, 5
    ids = await pending(engine, total)
    mailbox = SlowMailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    senders: list[Sender] = []
    try:
        for k in range(kills):
            senders.append(Sender(tmp_path, url, smtp.port, concurrency))
            threshold = (k + 1) * total // (kills + 2)
            await wait_until(
                lambda t=threshold: _received(mailbox, t), timeout=60, interval=0.005, what=f"{threshold} mails"
            )
            senders[-1].kill()
        senders.append(Sender(tmp_path, url, smtp.port, concurrency))
        await wait_until(lambda: _all_sent(engine, total), timeout=120, what=f"all {total} deliveries sent")
    finally:
        for sender in senders:
            sender.stop()
        smtp.stop()
    copies = Counter(m["Message-ID"] for m in mailbox.messages)
    duplicates = sum(n - 1 for n in copies.values())
    with capsys.disabled():
        print(
            f"\nnotify sender: {total} mails, {kills} SIGKILLs, {duplicates} duplicates (bound {kills * concurrency})"
        )
    assert set(copies) == ids  # nothing lost
    assert max(copies.values()) <= 2
    assert duplicates <= kills * concurrency


async def _exited(sender: Sender) -> bool:
    return sender.proc.poll() is not None


async def _all_sent(engine, total: int) -> bool:
    return await sent_count(engine) == total


async def _received(mailbox: SmtpMailbox, count: int) -> bool:
    return len(mailbox.messages) >= count
