"""What the notify pages show, in Vietnamese: labels of kinds, channels and statuses, rows, page links.

Pure: the routes read through the use cases (notify.handlers) and hand the deliveries to these functions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

from baocao_shared.events.deadlines import DEADLINE_MISSED, ESCALATION_RAISED, NUDGE_REQUESTED, REMINDER_DUE
from baocao_shared.events.reports import REPORT_APPROVED, REPORT_PUBLISHED
from baocao_shared.web import local_time

DELIVERIES = "/thong-bao"
INBOX = "/hop-thu"
PAGE_SIZE = 50
REASON_SHOWN = 240  # characters of a failure's reason in the list; the detail page has it whole

# What caused a delivery, as the staff office calls it.
KINDS = {
    REMINDER_DUE.type: "Nhắc hạn",
    DEADLINE_MISSED.type: "Quá hạn",
    NUDGE_REQUESTED.type: "Đôn đốc",
    ESCALATION_RAISED.type: "Tổng hợp chưa nộp",
    REPORT_APPROVED.type: "Báo cáo đã duyệt",
    REPORT_PUBLISHED.type: "Báo cáo đã gửi",
}
CHANNELS = {"email": "Email", "webhook": "Webhook", "inbox": "Hộp thư"}
# status -> (label, badge class of baocao.css, a symbol so that colour is not the only cue)
STATUSES = {
    "pending": ("Đang chờ", "open", "…"),
    "sent": ("Đã gửi", "done", "✓"),
    "failed": ("Thất bại", "overdue", "✗"),
}


@dataclass(frozen=True)
class Badge:
    status: str
    label: str
    css: str
    symbol: str


def badge(status: str) -> Badge:
    label, css, symbol = STATUSES.get(status, (status, "open", "?"))
    return Badge(status, label, css, symbol)


@dataclass(frozen=True)
class DeliveryRow:
    id: str
    created: str
    kind: str
    unit: str | None
    unit_name: str | None
    period: str | None
    channel: str
    recipient: str
    label: str | None  # whom the recipient is (a line of Nơi nhận, a unit)
    document: str | None  # the file name of the signed document it carries
    attached: bool  # the document went as an attachment (email), not as a link
    subject: str
    badge: Badge
    attempts: int
    sent: str
    reason: str | None  # why it failed, or why the last attempt of a pending one did
    body_text: str

    @property
    def failed(self) -> bool:
        return self.badge.status == "failed"

    @property
    def short_reason(self) -> str:
        reason = self.reason or ""
        return reason if len(reason) <= REASON_SHOWN else reason[: REASON_SHOWN - 1] + "…"


def delivery_row(row: Any, *, timezone: str, unit_names: dict[str, str]) -> DeliveryRow:
    return DeliveryRow(
        id=str(row.id),
        created=local_time(row.created_at, timezone),
        kind=KINDS.get(row.cause_type, row.cause_type),
        unit=row.unit,
        unit_name=unit_names.get(row.unit) if row.unit else None,
        period=row.period,
        channel=CHANNELS.get(row.channel, row.channel),
        recipient=row.recipient,
        label=row.recipient_label,
        document=row.document_filename,
        attached=bool(row.document_filename) and row.channel == "email",
        subject=row.subject,
        badge=badge(row.status),
        attempts=row.attempts,
        sent=local_time(row.sent_at, timezone),
        reason=row.last_error if row.status != "sent" else None,
        body_text=row.body_text,
    )


@dataclass(frozen=True)
class Count:
    badge: Badge
    value: int
    href: str
    current: bool


@dataclass(frozen=True)
class ListQuery:
    """The list's address: a province and its filters, and which page of the newest first."""

    province: str
    period: str = ""
    status: str = ""
    channel: str = ""
    unit: str = ""
    page: int = 1

    def url(self, **changes: Any) -> str:
        fields = {**asdict(self), **changes}
        if fields["page"] == 1:
            fields["page"] = ""
        return f"{DELIVERIES}?{urlencode({k: v for k, v in fields.items() if v})}"

    @property
    def filtered(self) -> bool:
        return bool(self.period or self.status or self.channel or self.unit)

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE


def counts(query: ListQuery, by_status: dict[str, int]) -> list[Count]:
    """One figure per status, each a link that filters the list by it (or lifts that filter)."""
    return [
        Count(badge(s), n, query.url(status="" if query.status == s else s, page=1), query.status == s)
        for s, n in by_status.items()
    ]


@dataclass(frozen=True)
class Pager:
    first: int  # 1-based position of the first row shown
    last: int
    total: int
    newer: str | None
    older: str | None


def pager(query: ListQuery, shown: int, total: int) -> Pager:
    first = query.offset + 1 if shown else 0
    return Pager(
        first=first,
        last=query.offset + shown,
        total=total,
        newer=query.url(page=query.page - 1) if query.page > 1 else None,
        older=query.url(page=query.page + 1) if query.offset + shown < total else None,
    )


def local_path(url: str, prefix: str) -> str | None:
    """`url` when it is this site's `prefix` page, with or without a query (a form's way back), else None."""
    if (url == prefix or url.startswith(prefix + "?")) and url.isprintable() and "\\" not in url:
        return url
    return None
