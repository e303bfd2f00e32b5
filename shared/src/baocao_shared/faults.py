"""Named crash points for the fault tests (in the manner of etcd's gofail).

`BAOCAO_FAULTS=consumer.after_db_commit` makes the process SIGKILL itself the first time it
reaches that point; a marker file in `BAOCAO_FAULTS_DIR` makes it fire once, so the restarted
process runs through. Ignored entirely when BAOCAO_ENV=production.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path


def fault_point(name: str) -> None:
    armed = os.environ.get("BAOCAO_FAULTS", "")
    if not armed or os.environ.get("BAOCAO_ENV") == "production":
        return
    if name not in {f.strip() for f in armed.split(",")}:
        return
    marker = Path(os.environ.get("BAOCAO_FAULTS_DIR", ".")) / f"fired.{name}"
    try:
        marker.touch(exist_ok=False)
    except FileExistsError:
        return
    os.kill(os.getpid(), signal.SIGKILL)
