"""The one injectable clock every time-dependent rule reads.

Production uses the system clock. Tests and the demo use a simulated clock that every process
agrees on: simulated now = START + (real now - EPOCH) * SPEED (ARCHITECTURE.md, "Time").
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
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


def build_clock(
    *,
    kind: str,
    env: str,
    start: datetime | None,
    epoch: datetime | None,
    speed: float,
) -> Clock:
    """Choose the clock from settings; production refuses a simulated clock."""
    if kind == "system":
        return SystemClock()
    if kind != "simulated":
        raise ClockConfigError(f"BAOCAO_CLOCK must be 'system' or 'simulated', not {kind!r}")
    if env == "production":
        raise ClockConfigError("BAOCAO_ENV=production refuses BAOCAO_CLOCK=simulated")
    if start is None:
        raise ClockConfigError("BAOCAO_CLOCK=simulated needs BAOCAO_CLOCK_START (ISO 8601)")
    if speed <= 0:
        raise ClockConfigError("BAOCAO_CLOCK_SPEED must be positive")
    return SimulatedClock(
        start=_aware(start),
        epoch=_aware(epoch) if epoch else datetime.now(UTC),
        speed=speed,
    )
