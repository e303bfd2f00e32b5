"""Run one service under pyinstrument and write its text profile when it stops: `python -m bench.profiled
<service> <out.txt>` (bench/stack.py does this for the services named in BENCH_PROFILE).

`python -m pyinstrument -m <service>` writes nothing here: uvicorn, after its graceful shutdown, raises the
SIGTERM it caught again with the previous handler, the default one, and the process dies before pyinstrument
renders. A handler of ours turns that second SIGTERM into SystemExit, so the profile is written."""

from __future__ import annotations

import runpy
import signal
import sys
from pathlib import Path

from pyinstrument import Profiler


def main(service: str, out: Path) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    profiler = Profiler(interval=0.005, async_mode="enabled")
    profiler.start()
    try:
        runpy.run_module(service, run_name="__main__", alter_sys=True)
    finally:
        profiler.stop()
        out.write_text(profiler.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
