"""Fakes for unit tests of use cases, without PostgreSQL or Kafka (cosmicpython's FakeUnitOfWork).

A service's unit tests extend `FakeUnitOfWork` with in-memory repositories that answer like its SQL ones:

    class FakeIntakeUnitOfWork(FakeUnitOfWork):
        def __init__(self):
            super().__init__()
            self.submissions = InMemorySubmissions()

Use cases take it where they take the real one; the test then reads what a user would notice: the state the
repositories hold, the events published (`events_of(SUBMISSION_RECEIVED)`), the audit rows, and whether the
transaction committed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel

from baocao_shared.events.registry import EventSpec


@dataclass(frozen=True)
class Published:
    spec: EventSpec
    data: BaseModel
    province: str | None
    at: datetime


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.published: list[Published] = []
        self.audited: list[dict[str, Any]] = []
        self.committed = False
        self.rolled_back = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: Any) -> None:
        if exc_type is None:
            self.committed = True
        else:
            self.rolled_back = True

    async def publish(
        self, spec: EventSpec, data: BaseModel | Iterable[BaseModel], *, province: str | None, at: datetime
    ) -> None:
        items = [data] if isinstance(data, BaseModel) else list(data)
        for item in items:
            if not isinstance(item, spec.model):
                raise TypeError(f"{spec.type} carries {spec.model.__name__}, not {type(item).__name__}")
            self.published.append(Published(spec, item, province, at))

    @asynccontextmanager
    async def together(self) -> AsyncIterator[None]:
        """As the real one: what the block publishes and audits is kept only when it ends without raising."""
        published, audited = len(self.published), len(self.audited)
        try:
            yield
        except BaseException:
            del self.published[published:], self.audited[audited:]
            raise

    async def audit(self, *, at: datetime, actor: str, action: str, subject: str, details: dict[str, Any]) -> None:
        self.audited.append({"at": at, "actor": actor, "action": action, "subject": subject, "details": details})

    def events_of(self, spec: EventSpec) -> list[Any]:
        """The data of every event of this type published so far, in order."""
        return [p.data for p in self.published if p.spec is spec]
