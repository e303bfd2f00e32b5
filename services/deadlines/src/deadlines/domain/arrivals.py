"""What a run of submissions leaves on the obligations they arrive for: the rule of recording a submission (any
version, in any order), folded so that a run of them is written in one set-based statement.

Recording is commutative except for the submission id, which the last one sets: the earliest first_received_at,
the highest version, the latest received_at, `after_close` if any version says so, and an amendment received at
or after the deadline flags the obligation (the deadline is in the database: the fold keeps the latest
amendment's time, which is at or after the deadline whenever any amendment's is).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from baocao_shared.events.submissions import SubmissionV1

Key = tuple[str, str, str, str]  # province, plan_id, period, unit


def key_of(s: SubmissionV1) -> Key:
    return s.province, s.plan_id, s.period, s.unit


@dataclass(frozen=True)
class Arrived:
    """What arrived for one obligation, as one row to record."""

    province: str
    plan_id: str
    period: str
    unit: str
    first_submitted_at: datetime
    submission_id: uuid.UUID
    last_version: int
    last_received_at: datetime
    after_close: bool
    amended_at: datetime | None  # the latest amendment's (version > 1) received_at; None when none came

    @classmethod
    def of(cls, s: SubmissionV1) -> Arrived:
        return cls(
            *key_of(s),
            first_submitted_at=s.first_received_at,
            submission_id=s.submission_id,
            last_version=s.version,
            last_received_at=s.received_at,
            after_close=s.after_close,
            amended_at=s.received_at if s.version > 1 else None,
        )

    def then(self, s: SubmissionV1) -> Arrived:
        """This, and then `s` (same obligation) recorded after it."""
        later = Arrived.of(s)
        amended = [t for t in (self.amended_at, later.amended_at) if t is not None]
        return Arrived(
            *key_of(s),
            first_submitted_at=min(self.first_submitted_at, later.first_submitted_at),
            submission_id=later.submission_id,
            last_version=max(self.last_version, later.last_version),
            last_received_at=max(self.last_received_at, later.last_received_at),
            after_close=self.after_close or later.after_close,
            amended_at=max(amended) if amended else None,
        )


def fold(submissions: Iterable[SubmissionV1]) -> list[Arrived]:
    """Per obligation, what its submissions (in the order given) leave: one row each, in the order of each
    obligation's first submission."""
    folded: dict[Key, Arrived] = {}
    for s in submissions:
        key = key_of(s)
        folded[key] = folded[key].then(s) if key in folded else Arrived.of(s)
    return list(folded.values())


def split_first(submissions: Iterable[SubmissionV1]) -> tuple[list[SubmissionV1], list[SubmissionV1]]:
    """The first submission of each obligation (in order), and the others (in order)."""
    seen: set[Key] = set()
    first, rest = [], []
    for s in submissions:
        (rest if key_of(s) in seen else first).append(s)
        seen.add(key_of(s))
    return first, rest
