"""Sample events for tests: valid data a test changes only where its point is."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from baocao_shared.events.submissions import SubmissionV1

RECEIVED_AT = datetime(2019, 6, 10, 3, 0, tzinfo=UTC)  # 10 June 2019, 10:00 in Hải Dương: before the deadline


def a_submission(**overrides: Any) -> SubmissionV1:
    """A unit's first report of June 2019 (province 30, unit CA), with Vietnamese text; `overrides` set any field."""
    fields: dict[str, Any] = {
        "submission_id": uuid.uuid4(),
        "province": "30",
        "unit": "CA",
        "plan_id": "plan-x",
        "period": "2019-06",
        "version": 1,
        "values": {"t1_sessions": 2},
        "narratives": {"T1": "Hội nghị quán triệt Chỉ thị 44"},
        "received_at": RECEIVED_AT,
        "first_received_at": RECEIVED_AT,
    }
    return SubmissionV1(**{**fields, **overrides})


TET_2020 = [date(2020, 1, day) for day in range(23, 30)]  # Thu 23 .. Wed 29 January 2020
TET_2021 = [date(2021, 2, day) for day in range(10, 17)]  # Wed 10 .. Tue 16 February 2021

# The calendar of plan 467 as deploy/provinces/30-hai-duong.yaml configures it.
PLAN_467_CALENDAR = {
    "frequency": "monthly",
    "cutoff_day": 15,
    "due_day": 16,
    "province_due_day": 20,
    "non_working_day_policy": "keep",
    "holidays": [
        *(date(2019, 9, 2), date(2020, 1, 1), *TET_2020, date(2020, 4, 2)),
        *(date(2020, 4, 30), date(2020, 5, 1), date(2020, 9, 2)),
    ],
    "reminders": {"days": [-3, -1, 0], "at": "08:00"},
    "overdue": {"days": [1, 3, 5], "at": "08:00"},
    "escalation": {"days": [1], "at": "08:00"},
    "close": {"days": [10], "at": "00:00"},
}


def period_code(frequency: str, year: int, index: int) -> str:
    """The code of the index-th (1-based) period of a year, written independently of baocao_shared.calendar."""
    return {
        "monthly": f"{year}-{index:02d}",
        "quarterly": f"{year}-Q{index}",
        "six_monthly": f"{year}-H{index}",
        "yearly": f"{year}-Y",
    }[frequency]


PROVINCE_FILES = Path(__file__).resolve().parents[3] / "deploy/provinces"
NATIONAL_FILES = Path(__file__).resolve().parents[3] / "deploy/national"  # the national regimes plans map onto
REGIME = "nhan-quyen"  # the regime plan 467 and Hải Phòng's plan report into


def regime_file(regime: str = REGIME) -> str:
    """A national regime's file (deploy/national/<regime>.yaml), to load before (or with) the province files whose
    plans name it: `PUT /v1/admin/regimes/<regime>`, `catalog load`, or intake's `load_provinces(regimes=)`."""
    return (NATIONAL_FILES / f"{regime}.yaml").read_text(encoding="utf-8")


NATIONAL = re.compile(r"^    national:.*\n(?:^      .*\n)*", re.MULTILINE)


def without_the_national_regime(text: str) -> str:
    """A demo province file whose plans report into no national regime (their `national:` blocks taken out), for
    tests whose point is not the national roll-up and that load no regime file."""
    kept, taken = NATIONAL.subn("", text)
    assert taken, "the province file no longer names a national regime: nothing to take out"
    return kept


def rewritten(file: str, changes: dict[str, str]) -> str:
    """A demo province file (deploy/provinces/`file`) with each old text replaced by its new one; a change that no
    longer applies fails."""
    text = (PROVINCE_FILES / file).read_text(encoding="utf-8")
    for old, new in changes.items():
        assert old in text, f"{file} no longer has {old!r}"
        text = text.replace(old, new)
    return text


def demo_province_file(province: str, tag: str, *, national: bool = False, **more: str) -> str:
    """The demo province file (deploy/provinces/30-hai-duong.yaml) as another province of its own: its code, its
    operators' inbox, plan id `<tag>` and mail domain `@<tag>.baocao.test`, so that a test on the shared broker
    reads only its own; `more` replaces further text (old -> new). A change that no longer applies fails. Its plan
    reports into no national regime unless `national` (then load `regime_file()` first)."""
    changes = {
        '  code: "30"': f'  code: "{province}"',
        "address: op-30": f"address: op-{province}",
        "id: hd-467-2019": f"id: {tag}",
        "@haiduong.baocao.test": f"@{tag}.baocao.test",
        **more,
    }
    # The copy is a province of its own that was never reorganised.
    text = without_the_merger(rewritten("30-hai-duong.yaml", changes))
    return text if national else without_the_national_regime(text)


REORGANISED = re.compile(r"^\s*(valid_to: 2025-06|last_period: 2025-06|successors: \[.*\]|successor: \{.*\})\s*(#.*)?$")


def without_the_merger(text: str) -> str:
    """Hải Dương's province file without its merger into Hải Phòng (its end and its plan's in 2025-06, and its
    successors in province 31), for tests whose point is not the reorganisation and that do not load province 31."""
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not REORGANISED.match(line)]
    assert len(kept) < len(lines), "the province file no longer says how it merged: nothing to take out"
    return "".join(kept)


def before_the_merger(catalogue):
    """A parsed province file (intake's ProvinceCatalog) as it stood before a reorganisation was loaded: no
    end of validity (of the province, its units or its plans) and no successors, for tests whose point is not
    the reorganisation (Hải Dương's file says it merged into Hải Phòng after 2025-06)."""
    from dataclasses import replace

    clear = {"valid_to": None, "successors": []}
    return replace(
        catalogue,
        province=catalogue.province.model_copy(update=clear),
        units=[u.model_copy(update=clear) for u in catalogue.units],
        plans=[p.model_copy(update={"successor": None, "last_period": None}) for p in catalogue.plans],
    )
