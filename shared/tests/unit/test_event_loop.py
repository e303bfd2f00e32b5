"""Every service runs on asyncio's own event loop, not uvloop (its outbox relay's thread too: asyncio.run).

Under uvloop, writing to a connection the broker has closed raises RuntimeError, which aiokafka does not catch
(aio-libs/aiokafka#1038): in `make faults`, killing the broker killed deadlines' consumer group coordination
("Unexpected error in coordinator routine ... uvloop ... the handler is closed"), and deadlines applied no
submission again (769 and then 888 accepted submissions missing from compliance). asyncio's transport drops such
a write and aiokafka reconnects."""

from __future__ import annotations

import uvicorn

from baocao_shared import service
from baocao_shared.settings import ServiceSettings


def test_serve_runs_uvicorn_on_asyncios_loop_with_one_worker_or_several(monkeypatch):
    runs = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append(options))
    monkeypatch.setattr(service, "configure_logging", lambda *a: None)
    service.serve(lambda settings: object(), ServiceSettings(service_name="probe"))
    assert [options["loop"] for options in runs] == ["asyncio"]
