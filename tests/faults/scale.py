"""The fault suite's scale and calendar: how many units, how fast, for how long (BAOCAO_FAULTS_LONG=1 for the long
run), and the monthly periods its cases take in turn."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from baocao_testing.kit import FAULTS_LONG

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "faults"
ICT = timezone(timedelta(hours=7))
LONG = FAULTS_LONG
CLUSTER_BROKERS = 3


@dataclass(frozen=True)
class Scale:
    units: int  # the province's units; the last `silent` never submit (they must get reminders)
    silent: int
    rate: float  # submissions (and amendments) per second
    rounds: int  # how many times a case applies its fault
    settle_s: float  # load before the first round
    load_bound_s: float  # how long the load may go on after the last round
    reconcile_s: float  # how long the pipeline may take to catch up after the load


SCALE = (
    Scale(units=900, silent=12, rate=15, rounds=3, settle_s=8, load_bound_s=240, reconcile_s=240)
    if LONG
    # 54 talking units and their 13 amendments at 5/s: about 13 s of load, which a fault ~3 s in lands in the middle of.
    else Scale(units=60, silent=6, rate=5, rounds=1, settle_s=2, load_bound_s=120, reconcile_s=150)
)
PROVINCE = "77"
FIRST_PERIOD = (2019, 6)
AMEND_EVERY = 4  # every 4th accepted unit amends its report once


class Retryable(Exception):
    """A transport error or a 5xx: the client sends the same request again."""


def period_of(index: int) -> str:
    year, month = FIRST_PERIOD
    month += index
    return f"{year + (month - 1) // 12}-{(month - 1) % 12 + 1:02d}"


def local(period: str, day: int, hour: int) -> datetime:
    year, month = map(int, period.split("-"))
    return datetime(year, month, day, hour, tzinfo=ICT)
