"""The e2e and memory benchmarks' parts measure what they say: an open-loop load that does not wait for
answers, a watcher that stamps each accepted key when its row shows up (and counts the ones that never do),
and the broker's heap read from jcmd's words."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from baocao_testing.fixtures import create_database
from bench.observe import Watcher
from bench.openloop import Pool, open_loop
from bench.stack import parse_heap_info


async def test_the_load_starts_every_request_on_schedule_without_waiting_for_answers():
    """The server answers nobody until all ten requests are in: a client that waited for an answer before
    sending the next would get none of them."""
    expected, arrived, everyone_in = 10, [], asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = int(next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1])
            body = await reader.readexactly(length)
            arrived.append(body)
            if len(arrived) >= expected:
                everyone_in.set()
            await everyone_in.wait()
            if body.endswith(b"0"):  # every other answer chunked, the rest with a Content-Length
                writer.write(b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nyes\r\n1\r\n:\r\n")
                writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
            else:
                answer = b"yes:" + body
                writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pool = Pool(f"http://127.0.0.1:{port}", size=16, timeout=30)
    try:

        async def send(i: int) -> tuple[int, bytes]:
            answer = await pool.request("POST", "/v1/submissions", {"Content-Type": "text/plain"}, b"n%d" % i)
            return answer.status, answer.body

        run = await open_loop(200, expected / 200, send, limit=expected, drain_s=30)
        again = await pool.request("POST", "/", {}, b"once more")  # a kept-alive connection is reused
    finally:
        await pool.close()
        server.close()
    assert run.offered == expected and run.by_status() == {"201": expected}
    assert sorted(o.body for o in run.outcomes) == sorted(b"yes:n%d" % i for i in range(expected))
    assert [o.due - run.started for o in run.outcomes] == pytest.approx([i / 200 for i in range(expected)])
    assert again.body == b"yes:once more" and pool.opened == expected


async def test_an_unanswered_request_is_counted_not_waited_for_forever():
    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads, never answers

    server = await asyncio.start_server(never, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pool = Pool(f"http://127.0.0.1:{port}", size=4, timeout=30)
    try:

        async def send(i: int) -> tuple[int, bytes]:
            answer = await pool.request("GET", "/", {})
            return answer.status, answer.body

        run = await open_loop(100, 0.03, send, limit=3, drain_s=0.5)
    finally:
        await pool.close()
        server.close()
    assert run.by_status() == {"no answer": 3}
    assert all("no answer within" in o.error for o in run.outcomes)


@pytest.mark.integration
async def test_the_watcher_stamps_each_accepted_row_once_and_counts_the_ones_never_seen(postgres):
    dsn = make_url(await create_database(postgres, "watch")).set(drivername="postgresql").render_as_string(False)
    conn = await asyncpg.connect(dsn)
    await conn.execute("CREATE TABLE seen (plan_id text, unit text, PRIMARY KEY (plan_id, unit))")
    watcher = Watcher(
        "test",
        dsn,
        "SELECT t.plan_id, t.unit FROM unnest($1::text[], $2::text[]) AS k(plan_id, unit)"
        " JOIN seen t ON t.plan_id = k.plan_id AND t.unit = k.unit",
    )
    await watcher.start()
    try:
        accepted = time.perf_counter()
        for key in (("p1", "A"), ("p2", "A"), ("p1", "B")):
            watcher.expect(key, accepted)
        await conn.execute("INSERT INTO seen VALUES ('p1', 'A'), ('p2', 'A'), ('p9', 'Z')")  # Z: never expected
        assert not await watcher.wait_all(timeout=1.0)  # B has not come
        assert set(watcher.seen) == {("p1", "A"), ("p2", "A")} and set(watcher.waiting) == {("p1", "B")}
        await conn.execute("INSERT INTO seen VALUES ('p1', 'B')")
        assert await watcher.wait_all(timeout=60)
        watcher.expect(("p3", "C"), time.perf_counter())  # accepted, never shows up
    finally:
        await watcher.stop()
        await conn.close()
    assert set(watcher.seen) == {("p1", "A"), ("p2", "A"), ("p1", "B")}
    assert all(s >= 0 for s in watcher.seen.values())
    assert len(watcher.unseen_s) == 1 and len(watcher.latencies()) == 4  # the unseen one counts, as a lower bound
    assert watcher.polls >= 2


def test_the_heap_is_read_from_jcmd_in_both_formats():
    jdk17 = " garbage-first heap   total 339968K, used 182596K [0x00000000e0000000, 0x0000000100000000)\n"
    jdk21 = " garbage-first heap   total reserved 524288K, committed 339968K, used 182596K [0x00000000e0000000)\n"
    for out in (jdk17, jdk21):
        heap = parse_heap_info(out)
        assert heap["committed_mb"] == pytest.approx(339968 * 1024 / 1e6)
        assert heap["used_mb"] == pytest.approx(182596 * 1024 / 1e6)
    assert "error" in parse_heap_info("12345:\ncom.sun.tools.attach.AttachNotSupportedException")
