"""The month test_month.py drives (province 90, period 2018-10): who submits when, and small readers of its
figures, mails and province file."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from baocao_testing.samples import demo_province_file

PROVINCE, PERIOD = "90", "2018-10"
ICT = timezone(timedelta(hours=7))
DUE = datetime(2018, 10, 16, tzinfo=ICT)

EARLY = ["CA", "BTG", "STTTT", "SLDTBXH", "SNV", "SYT", "SGDDT", "SVHTTDL", "BDT", "BCHQS", "TAND", "VKSND",
         "BHD", "PTTH", "MTTQ", "UBND-TPHD", "UBND-CL", "UBND-KM", "UBND-CG", "UBND-BG"]  # fmt: skip
TWICE = ["BTG", "UBND-CL"]  # the same request twice, with one Idempotency-Key
AFTER_REMINDER, LAST_MINUTE = ["UBND-GL", "UBND-KT"], "UBND-NS"
LATE = {"SNGV": "2018-10-17T09:30", "STP": "2018-10-17T14:00", "UBND-NG": "2018-10-19T10:00"}
NEVER = ["UBND-TH", "UBND-TM", "UBND-TK"]
KINDS = {"[Nhắc hạn]": "reminder", "[Quá hạn]": "overdue", "[Đôn đốc]": "nudge", "[Tổng hợp]": "escalation",
         "[Đã duyệt]": "approved", "[Đã gửi]": "published"}  # fmt: skip


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ICT)


def vn(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def kind_of(subject: str) -> str:
    return next(kind for prefix, kind in KINDS.items() if subject.startswith(prefix))


def province_file(tag: str) -> str:
    """The demo province under this run's code, plan id and mail domain."""
    # A year early: every other test's copy of plan 467 begins in 2019, so in this month our
    # deadlines and notify work for this province alone, however many tests ran before.
    early = {"issued_on: 2019-05-19": "issued_on: 2018-05-19", "first_period: 2019-06": "first_period: 2018-06"}
    return demo_province_file(PROVINCE, f"e2e-{tag}", national=True, **early)


def in_regime(totals: dict[str, int], mapping: dict[str, str]) -> dict[str, int]:
    """A plan's totals in its national regime's codes, computed here apart from consolidation's rule."""
    found: Counter = Counter()
    for code, value in totals.items():
        found[mapping.get(code, code)] += value
    return dict(sorted(found.items()))


def message_id(delivery: dict) -> str:
    return f"<{delivery['id']}@baocao.notify>"
