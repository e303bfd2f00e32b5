"""In-memory stand-ins for notify's repositories, answering as the SQL ones do, for the use cases' unit tests."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from baocao_testing.fakes import FakeUnitOfWork
from notify.adapters.waiting import kept, revived
from notify.domain.cause import Cause
from notify.domain.delivery import Delivery, Filters, NewDelivery
from notify.domain.documents import Document
from notify.domain.inbox import InboxMessage
from notify.domain.places import Place

EPOCH = datetime(2019, 6, 1, tzinfo=UTC)


class Ticks:
    """The database's now() for rows stamped on insert: a step later at each row, so that order shows."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> datetime:
        self.count += 1
        return EPOCH + timedelta(minutes=self.count)


Row = TypeVar("Row", Delivery, InboxMessage)


class _Table(Generic[Row]):
    """Rows by id; the shared ticks stamp them as the database's now() does."""

    def __init__(self, ticks: Ticks) -> None:
        self.rows: dict[uuid.UUID, Row] = {}
        self._ticks = ticks

    def put(self, row: Row) -> Row:
        self.rows[row.id] = row
        return row


class InMemoryDeliveries(_Table[Delivery]):
    async def add_once(self, deliveries: Sequence[NewDelivery]) -> int:
        taken = {(d.cause_event_id, d.recipient, d.channel) for d in self.rows.values()}
        added = 0
        for new in deliveries:
            if new.once_key in taken:
                continue
            taken.add(new.once_key)
            at = self._ticks()
            self.put(
                Delivery(
                    **dataclasses.asdict(new), status="pending", attempts=0, next_attempt_at=at,
                    last_error=None, created_at=at, sent_at=None,
                )
            )  # fmt: skip
            added += 1
        return added

    async def get(self, delivery_id: uuid.UUID, *, for_update: bool = False) -> Delivery | None:
        return self.rows.get(delivery_id)

    def _passing(self, filters: Filters, *, with_status: bool = True) -> list[Delivery]:
        wanted = {"province": filters.province, "period": filters.period, "channel": filters.channel}
        wanted["unit"] = filters.unit
        if with_status:
            wanted["status"] = filters.status
        return [d for d in self.rows.values() if all(getattr(d, k) == v for k, v in wanted.items() if v)]

    async def find(self, filters: Filters, *, limit: int, offset: int = 0, newest_first: bool = True) -> list[Delivery]:
        ordered = sorted(self._passing(filters), key=lambda d: (d.created_at, d.id), reverse=newest_first)
        return ordered[offset : offset + limit]

    async def count_by_status(self, filters: Filters) -> dict[str, int]:
        found: dict[str, int] = {}
        for d in self._passing(filters, with_status=False):
            found[d.status] = found.get(d.status, 0) + 1
        return found

    async def periods(self, province: str) -> list[str]:
        return list({d.period for d in self.rows.values() if d.province == province and d.period})

    async def units(self, province: str) -> list[str]:
        return list({d.unit for d in self.rows.values() if d.province == province and d.unit})

    async def provinces(self) -> set[str]:
        return {d.province for d in self.rows.values()}

    async def requeue(self, delivery_id: uuid.UUID, *, now: datetime) -> Delivery:
        again = dataclasses.replace(
            self.rows[delivery_id], status="pending", attempts=0, next_attempt_at=now, last_error=None
        )
        return self.put(again)

    async def claim_due(self, *, now: datetime) -> Delivery | None:
        due = [d for d in self.rows.values() if d.status == "pending" and d.next_attempt_at <= now]
        return min(due, key=lambda d: d.next_attempt_at, default=None)

    async def retry_later(self, delivery_id: uuid.UUID, **changes: Any) -> None:
        self.put(dataclasses.replace(self.rows[delivery_id], **changes))

    async def settle(self, delivery_id: uuid.UUID, *, sent_at: datetime | None, **changes: Any) -> None:
        """As the SQL one: a delivery that failed keeps no sending time."""
        if sent_at is not None:
            changes["sent_at"] = sent_at
        self.put(dataclasses.replace(self.rows[delivery_id], **changes))


class InMemoryWaiting:
    """Kept rows go through the real row shape (kept/revived), as they would through JSONB."""

    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, dict[str, Any]] = {}  # by event id, in the order kept

    async def hold(self, province: str, unit: str | None = None, *, plan_id: str | None = None) -> None:
        """The advisory lock of the real adapter; one test task at a time needs none."""

    async def keep(self, cause: Cause, notice: BaseModel, *, unit: str | None, plan_id: str | None = None) -> None:
        self.rows.setdefault(cause.event_id, kept(cause, notice, unit=unit, plan_id=plan_id))

    async def take(
        self, province: str, unit: str | None, *, service_urls: Mapping[str, str], plan_id: str | None = None
    ) -> list[tuple[Cause, BaseModel]]:
        awaited = (province, unit, plan_id)
        mine = [k for k, row in self.rows.items() if (row["province"], row["unit"], row["plan_id"]) == awaited]
        return [revived(self.rows.pop(k), service_urls) for k in mine]

    def waiting_for(self) -> dict[str, str | None]:
        """event type -> the unit each kept notice waits for (None: its province, or a plan)."""
        return {row["cause_type"]: row["unit"] for row in self.rows.values()}

    def plans_awaited(self) -> dict[str, str | None]:
        """event type -> the plan each kept notice waits for."""
        return {row["cause_type"]: row["plan_id"] for row in self.rows.values()}


class InMemoryCatalog:
    def __init__(self) -> None:
        self.provinces: dict[str, ProvinceV1] = {}
        self.units: dict[tuple[str, str], UnitV1] = {}
        self.plans: dict[tuple[str, str], PlanV1] = {}

    async def upsert_province(self, province: ProvinceV1) -> None:
        self.provinces[province.code] = province

    async def upsert_unit(self, unit: UnitV1) -> None:
        self.units[(unit.province, unit.code)] = unit

    async def upsert_plan(self, plan: PlanV1) -> None:
        self.plans[(plan.province, plan.id)] = plan

    async def province(self, code: str) -> ProvinceV1 | None:
        return self.provinces.get(code)

    async def place(self, code: str | None) -> Place:
        return Place.of(code, self.provinces.get(code) if code else None)

    async def unit(self, province: str, code: str) -> UnitV1 | None:
        return self.units.get((province, code))

    async def units_named(self, province: str, codes: Sequence[str]) -> dict[str, UnitV1]:
        return {code: self.units[(province, code)] for code in codes if (province, code) in self.units}

    async def plan(self, province: str, plan_id: str) -> PlanV1 | None:
        return self.plans.get((province, plan_id))

    async def unit_names(self, province: str) -> dict[str, str]:
        return {code: unit.name for (p, code), unit in self.units.items() if p == province}

    async def province_names(self) -> dict[str, str]:
        return {code: province.name for code, province in self.provinces.items()}


class InMemoryInbox(_Table[InboxMessage]):
    async def receive(self, delivery: Delivery) -> None:
        self.put(
            InboxMessage(
                id=uuid.uuid4(), delivery_id=delivery.id, recipient=delivery.recipient, title=delivery.subject,
                body=delivery.body_text, created_at=self._ticks(), read_at=None,
            )
        )  # fmt: skip

    async def newest(self, recipient: str, *, limit: int) -> list[InboxMessage]:
        mine = [m for m in self.rows.values() if m.recipient == recipient]
        return sorted(mine, key=lambda m: (m.created_at, m.id), reverse=True)[:limit]

    async def count_unread(self, recipient: str) -> int:
        return sum(1 for m in self.rows.values() if m.recipient == recipient and m.read_at is None)

    async def mark_read(self, message_id: uuid.UUID, *, recipient: str, now: datetime) -> InboxMessage | None:
        found = self.rows.get(message_id)
        if found is None or found.recipient != recipient:
            return None
        return self.put(dataclasses.replace(found, read_at=found.read_at or now))

    async def mark_all_read(self, recipient: str, *, now: datetime) -> int:
        unread = [m for m in self.rows.values() if m.recipient == recipient and m.read_at is None]
        for m in unread:
            self.put(dataclasses.replace(m, read_at=now))
        return len(unread)


class InMemoryDocuments:
    def __init__(self) -> None:
        self.rows: dict[str, Document] = {}

    async def keep(self, document: Document) -> bool:
        return self.rows.setdefault(document.sha256, document) is document

    async def has(self, sha256: str) -> bool:
        return sha256 in self.rows

    async def get(self, sha256: str) -> Document | None:
        return self.rows.get(sha256)


class FakeNotifyUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.ticks = Ticks()
        self.deliveries = InMemoryDeliveries(self.ticks)
        self.waiting = InMemoryWaiting()
        self.catalog = InMemoryCatalog()
        self.inbox = InMemoryInbox(self.ticks)
        self.documents = InMemoryDocuments()

    def savepoint(self) -> contextlib.AbstractAsyncContextManager[object]:
        return contextlib.nullcontext()
