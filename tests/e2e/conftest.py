"""The four services as real processes, for end-to-end tests that use nothing but their HTTP APIs.

The launcher is baocao_testing.processes (the fault suite uses it too): `await services.start(at=...)`
runs intake, deadlines, consolidation and notify with `python -m <service>` on free loopback ports, each on
a fresh database of the session's PostgreSQL and on the session's Kafka, all reading one file clock
(BAOCAO_CLOCK=file) that the test moves with `stack.set_clock(...)`. notify mails an aiosmtpd server run
there (`stack.mailbox`). Logs go to `<tmp_path>/logs/<service>.log`; a failing test shows their last lines.
Every process is stopped by its pid at the end, pass or fail.
"""

from __future__ import annotations

import pytest

from baocao_stack.procs import tail
from baocao_testing.processes import Services


@pytest.fixture
def services(postgres, kafka, tmp_path):
    launcher = Services(postgres=postgres, kafka=kafka, home=tmp_path)
    try:
        yield launcher
    finally:
        launcher.stop()
        # pytest shows this only with a failure, under "Captured stdout teardown".
        for name in launcher.procs:
            print(f"----- last lines of {name}.log -----\n{tail(tmp_path / 'logs' / f'{name}.log', 40)}")
