"""The one injectable clock every time-dependent rule reads (ARCHITECTURE.md, "Time").

Three kinds, chosen by `BAOCAO_CLOCK`:
- `system` (the default, and the only one production accepts): the machine's clock;
- `simulated`: simulated now = START + (real now - EPOCH) * SPEED. Every process given the same
  `BAOCAO_CLOCK_START`, `BAOCAO_CLOCK_EPOCH` and `BAOCAO_CLOCK_SPEED` agrees on the time; the demo
  runs a month in seconds with it;
- `file`: now is the one ISO 8601 instant written in `BAOCAO_CLOCK_FILE`. Time stands still until
  someone writes the file again, so a test drives every process through chosen instants (a
  reminder's 08:00, the deadline, the close) and waits for each effect, without racing a running
  clock. The file is re-read only when its inode, size or mtime changes: one stat() per `now()`.
  Write it atomically (a temporary file renamed over it, `write_clock_file`), so a reader never
  sees half an instant; a file that cannot be read later keeps the last instant read.

`BAOCAO_ENV=production` refuses both the simulated and the file clock.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware in UTC."""
        ...

    def sleep_interval(self, simulated_seconds: float) -> float:
        """Real seconds that correspond to the given simulated seconds."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep_interval(self, simulated_seconds: float) -> float:
        return simulated_seconds


@dataclass(frozen=True)
class SimulatedClock:
    start: datetime
    epoch: datetime
    speed: float = 1.0

    def now(self) -> datetime:
        real_now = datetime.fromtimestamp(time.time(), UTC)
        return self.start + (real_now - self.epoch) * self.speed

    def sleep_interval(self, simulated_seconds: float) -> float:
        return simulated_seconds / self.speed


class FixedClock:
    """A clock a test moves by hand."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at

    def sleep_interval(self, simulated_seconds: float) -> float:
        return simulated_seconds


class ClockConfigError(ValueError):
    pass


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class FileClock:
    """Now is the instant written in a file: every process reading the file agrees on it (BAOCAO_CLOCK=file)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            stamp = self._stamp()
            self._at = self._read()
        except (OSError, ValueError) as exc:
            raise ClockConfigError(f"BAOCAO_CLOCK_FILE={self.path}: {exc}") from None
        self._seen = stamp

    def now(self) -> datetime:
        try:
            stamp = self._stamp()
        except OSError:
            return self._at  # being replaced, or gone: the last instant read stands
        if stamp != self._seen:
            try:
                self._at, self._seen = self._read(), stamp
            except (OSError, ValueError):
                pass  # written by hand, not atomically: read it again at its next change
        return self._at

    def sleep_interval(self, simulated_seconds: float) -> float:
        return simulated_seconds

    def _stamp(self) -> tuple[int, int, int]:
        st = os.stat(self.path)
        return st.st_ino, st.st_size, st.st_mtime_ns

    def _read(self) -> datetime:
        text = self.path.read_text(encoding="utf-8").strip()
        if not text:
            raise ValueError("the file is empty; it holds one ISO 8601 instant")
        try:
            return _aware(datetime.fromisoformat(text)).astimezone(UTC)
        except ValueError:
            raise ValueError(f"{text[:60]!r} is not an ISO 8601 instant") from None


def write_clock_file(path: Path, at: datetime) -> None:
    """Set a file clock: write the instant to a temporary file beside it and rename it over the old one."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(_aware(at).isoformat() + "\n", encoding="utf-8")
    os.replace(temporary, path)


def build_clock(
    *,
    kind: str,
    env: str,
    start: datetime | None,
    epoch: datetime | None,
    speed: float,
    file: Path | None = None,
) -> Clock:
    """Choose the clock from settings; production refuses any clock but the system's."""
    if kind == "system":
        return SystemClock()
    if kind not in ("simulated", "file"):
        raise ClockConfigError(f"BAOCAO_CLOCK must be 'system', 'simulated' or 'file', not {kind!r}")
    if env == "production":
        raise ClockConfigError(f"BAOCAO_ENV=production refuses BAOCAO_CLOCK={kind}")
    if kind == "file":
        if file is None:
            raise ClockConfigError("BAOCAO_CLOCK=file needs BAOCAO_CLOCK_FILE (a file holding one ISO 8601 instant)")
        return FileClock(file)
    if start is None:
        raise ClockConfigError("BAOCAO_CLOCK=simulated needs BAOCAO_CLOCK_START (ISO 8601)")
    if speed <= 0:
        raise ClockConfigError("BAOCAO_CLOCK_SPEED must be positive")
    return SimulatedClock(
        start=_aware(start),
        epoch=_aware(epoch) if epoch else datetime.now(UTC),
        speed=speed,
    )
