"""An in-memory IntakeUnitOfWork for unit tests of the use cases: repositories that answer like the SQL ones."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from baocao_shared.audit import AuditEntry, AuditPage
from baocao_shared.events.catalog import AccountAccessV1, PlanV1, ProvinceV1, RegimeV1, UnitV1
from baocao_shared.token_access import Access
from baocao_testing.fakes import FakeUnitOfWork
from intake.adapters.idempotency import StoredAnswer
from intake.domain.models import PlanHolder, Submission, VersionOut

# As in the database: a report's latest row has no columns for these; each version keeps its own in the history.
NOT_OF_THE_LATEST_ROW = {"imported": False, "after_close": False, "channel": None, "entered_by": None, "source": None}


class InMemoryCatalog:
    def __init__(self) -> None:
        self.docs: dict[str, dict[tuple, dict]] = {"province": {}, "unit": {}, "plan": {}}
        self.regime_store: dict[str, dict] = {}  # the national regimes by id

    def add(self, *entities: ProvinceV1 | UnitV1 | PlanV1 | RegimeV1) -> None:
        for entity in entities:
            if isinstance(entity, RegimeV1):
                self.regime_store[entity.id] = entity.model_dump(mode="json")
                continue
            kind, key = _kind_and_key(entity)
            self.docs[kind][key] = entity.model_dump(mode="json")

    async def regimes(self) -> list[RegimeV1]:
        return [RegimeV1.model_validate(doc) for _, doc in sorted(self.regime_store.items())]

    async def regime_docs(self) -> dict[str, dict]:
        return dict(self.regime_store)

    async def stored_docs(self, province: str) -> dict[str, dict[str, dict]]:
        return {
            kind: {key[-1]: doc for key, doc in docs.items() if key[0] == province} for kind, docs in self.docs.items()
        }

    async def upsert(self, entity, doc: dict, now: datetime) -> None:
        if isinstance(entity, RegimeV1):
            self.regime_store[entity.id] = doc
            return
        kind, key = _kind_and_key(entity)
        self.docs[kind][key] = doc

    async def provinces(self) -> list[ProvinceV1]:
        return self._all(ProvinceV1, "province", None)

    async def structure(self) -> tuple[list[ProvinceV1], list[UnitV1], list[PlanV1]]:
        return (
            self._all(ProvinceV1, "province", None),
            [UnitV1.model_validate(d) for d in self.docs["unit"].values() if d.get("active", True)],
            [PlanV1.model_validate(d) for d in self.docs["plan"].values() if d.get("active", True)],
        )

    async def province(self, code: str) -> ProvinceV1 | None:
        return self._one(ProvinceV1, "province", (code, code))

    async def units(self, province: str) -> list[UnitV1]:
        return self._all(UnitV1, "unit", province)

    async def unit(self, province: str, code: str) -> UnitV1 | None:
        return self._one(UnitV1, "unit", (province, code))

    async def plans(self, province: str) -> list[PlanV1]:
        return self._all(PlanV1, "plan", province)

    async def plan(self, province: str, plan_id: str) -> PlanV1 | None:
        return self._one(PlanV1, "plan", (province, plan_id))

    def _one(self, model, kind: str, key: tuple):
        doc = self.docs[kind].get(key)
        return model.model_validate(doc) if doc else None

    def _all(self, model, kind: str, province: str | None) -> list:
        """Sorted by key; for units and plans, only the province's active ones."""
        found = sorted(self.docs[kind].items())
        return [model.model_validate(d) for (p, _), d in found if province is None or (p == province and d["active"])]

    async def has_province(self, code: str) -> bool:
        return (code, code) in self.docs["province"]

    async def has_unit(self, province: str, unit: str, *, active_only: bool = False) -> bool:
        doc = self.docs["unit"].get((province, unit))
        return doc is not None and (doc["active"] or not active_only)

    async def active_scopes(self) -> tuple[list[str], list[tuple[str, str]]]:
        provinces = [code for (code, _), doc in self.docs["province"].items() if doc.get("active", True)]
        return provinces, [key for key, doc in self.docs["unit"].items() if doc["active"]]


def _kind_and_key(entity: Any) -> tuple[str, tuple]:
    if isinstance(entity, ProvinceV1):
        return "province", (entity.code, entity.code)
    if isinstance(entity, UnitV1):
        return "unit", (entity.province, entity.code)
    return "plan", (entity.province, entity.id)


class InMemoryLocks:
    def __init__(self) -> None:
        self.locked: set[tuple[str, str, str]] = set()

    async def is_locked(self, province: str, plan_id: str, period: str) -> bool:
        return (province, plan_id, period) in self.locked

    async def locked_periods(self, province: str, plan_id: str) -> set[str]:
        return {period for p, plan, period in self.locked if (p, plan) == (province, plan_id)}

    async def add(self, *, province: str, plan_id: str, period: str, at: datetime, by: str, reason: str) -> bool:
        new = (province, plan_id, period) not in self.locked
        self.locked.add((province, plan_id, period))
        return new

    async def remove(self, *, province: str, plan_id: str, period: str) -> bool:
        found = (province, plan_id, period) in self.locked
        self.locked.discard((province, plan_id, period))
        return found


class InMemoryExceptions:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str, str], dict[str, Any]] = {}

    async def has(self, *, province: str, plan_id: str, period: str, unit: str) -> bool:
        return (province, plan_id, period, unit) in self.rows

    async def of_period(self, *, province: str, plan_id: str, period: str) -> list[dict]:
        return [{"unit": k[3], **v} for k, v in sorted(self.rows.items()) if k[:3] == (province, plan_id, period)]

    async def periods_of_unit(self, *, province: str, plan_id: str, unit: str) -> set[str]:
        return {k[2] for k in self.rows if (k[0], k[1], k[3]) == (province, plan_id, unit)}

    async def grant(self, *, province, plan_id, period, unit, reason: str, by: str, at: datetime) -> None:
        self.rows[(province, plan_id, period, unit)] = {"reason": reason, "granted_by": by, "granted_at": at}

    async def revoke(self, *, province: str, plan_id: str, period: str, unit: str) -> bool:
        return self.rows.pop((province, plan_id, period, unit), None) is not None


class InMemorySubmissions:
    def __init__(self, catalog: InMemoryCatalog, locks: InMemoryLocks) -> None:
        self.catalog, self.locks = catalog, locks
        self.stored: dict[uuid.UUID, Submission] = {}
        self.versions: dict[uuid.UUID, list[VersionOut]] = {}

    async def plan_holders(self, plan_id: str, period: str, unit: str) -> list[PlanHolder]:
        return [
            PlanHolder(
                p,
                PlanV1.model_validate(doc),
                ProvinceV1.model_validate(self.catalog.docs["province"][(p, p)]).timezone,
                (p, plan_id, period) in self.locks.locked,
                await self.catalog.unit(p, unit),
            )
            for (p, key), doc in sorted(self.catalog.docs["plan"].items())
            if key == plan_id
        ]

    async def add_first(self, submission: Submission, *, changes: dict) -> bool:
        same = (submission.province, submission.plan_id, submission.unit, submission.period)
        if any((s.province, s.plan_id, s.unit, s.period) == same for s in self.stored.values()):
            return False
        self.stored[submission.id] = submission.model_copy(update=NOT_OF_THE_LATEST_ROW)
        await self.add_history(submission, changes=changes)
        return True

    async def id_for(self, *, province: str, plan_id: str, unit: str, period: str) -> uuid.UUID | None:
        same = (province, plan_id, unit, period)
        return next((s.id for s in self.stored.values() if (s.province, s.plan_id, s.unit, s.period) == same), None)

    async def get(self, submission_id: uuid.UUID, *, for_update: bool = False) -> Submission | None:
        stored = self.stored.get(submission_id)
        return self._as_read(stored) if stored else None

    async def store_version(self, submission: Submission) -> None:
        self.stored[submission.id] = submission.model_copy(update=NOT_OF_THE_LATEST_ROW)

    async def add_history(self, submission: Submission, *, changes: dict) -> None:
        version = submission.model_dump(include={"version", "received_at", "submitted_by", *NOT_OF_THE_LATEST_ROW})
        self.versions.setdefault(submission.id, []).append(VersionOut(**version, changes=changes))

    def _as_read(self, stored: Submission) -> Submission:
        """As the database reads a report: its latest row with the flags of its latest version in the history."""
        latest = next((v for v in self.versions.get(stored.id, []) if v.version == stored.version), None)
        return stored.model_copy(update=latest.model_dump(include=set(NOT_OF_THE_LATEST_ROW)) if latest else {})

    async def history(self, submission_id: uuid.UUID) -> list[VersionOut]:
        return list(self.versions.get(submission_id, []))

    async def search(self, *, limit: int, **filters: str | None) -> list[Submission]:
        found = [
            self._as_read(s)
            for s in self.stored.values()
            if all(not v or getattr(s, k) == v for k, v in filters.items())
        ]
        found.sort(key=lambda s: (s.province, s.unit))
        return sorted(found, key=lambda s: s.period, reverse=True)[:limit]


class InMemoryIdempotencyKeys:
    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], StoredAnswer] = {}

    async def claim(
        self, *, owner: str, key: str, fingerprint: str, answer: tuple[int, Any] | None = None
    ) -> StoredAnswer | None:
        if (owner, key) in self.keys:
            return self.keys[(owner, key)]
        self.keys[(owner, key)] = StoredAnswer(fingerprint, *(answer or (0, None)))
        return None

    async def remember(self, *, owner: str, key: str, status_code: int, body: Any) -> None:
        self.keys[(owner, key)] = replace(self.keys[(owner, key)], status_code=status_code, body=body)


class InMemoryAccounts:
    def __init__(self) -> None:
        self.rows: dict[str, SimpleNamespace] = {}

    async def get(self, username: str, *, for_share: bool = False) -> SimpleNamespace | None:
        return self.rows.get(username)

    async def add(self, *, username: str, password_hash: str, role: str, province, unit) -> dict | None:
        if username in self.rows:
            return None
        row = dict(username=username, role=role, province=province, unit=unit, active=True, created_at=None)
        self.rows[username] = SimpleNamespace(**row, password_hash=password_hash)
        return row

    async def add_missing(self, rows: list[dict[str, Any]]) -> set[str]:
        added = {r["username"] for r in rows if r["username"] not in self.rows}
        self.rows |= {r["username"]: SimpleNamespace(**r, active=True) for r in rows if r["username"] in added}
        return added

    async def set_password_hash(self, username: str, password_hash: str) -> bool:
        if username not in self.rows:
            return False
        self.rows[username].password_hash = password_hash
        return True

    upgrade_hash = set_password_hash  # one transaction at a time here: never a deadlock

    async def set_active(self, username: str, active: bool) -> bool:
        if username not in self.rows:
            return False
        self.rows[username].active = active
        return True


class InMemoryAccountAccess:
    def __init__(self) -> None:
        self.rows: dict[str, Access] = {}

    async def get(self, username: str) -> Access | None:
        return self.rows.get(username)

    async def put(self, access: AccountAccessV1) -> None:
        self.rows[access.username] = Access(access.active, access.not_before)


class InMemoryLoginFailures:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, datetime]] = []  # (username, client, at)

    async def take_turn(self, name: str) -> None:
        return None

    async def of_client(self, client: str, *, since: datetime) -> list[datetime]:
        return [at for _, c, at in self.rows if c == client and at > since]

    async def of_pair(self, username: str, client: str, *, since: datetime) -> list[datetime]:
        return [at for u, c, at in self.rows if u == username and c == client and at > since]

    async def add(self, *, username: str, client: str, at: datetime, forget_before: datetime) -> None:
        self.rows.append((username, client, at))
        self.rows = [r for r in self.rows if not ((r[0] == username or r[1] == client) and r[2] <= forget_before)]

    async def forget(self, username: str, *, client: str | None = None) -> None:
        self.rows = [r for r in self.rows if not (r[0] == username and client in (None, r[1]))]


class InMemoryApiTokens:
    def __init__(self, catalog: InMemoryCatalog) -> None:
        self.catalog = catalog
        self.rows: dict[uuid.UUID, dict[str, Any]] = {}

    async def add(self, *, token_id: uuid.UUID, **token: Any) -> None:
        self.rows[token_id] = {"id": token_id, **token, "last_used_at": None, "revoked_at": None}

    async def of_unit(self, province: str, unit: str) -> list[dict]:
        mine = [r for r in self.rows.values() if (r["province"], r["unit"]) == (province, unit)]
        return [{k: v for k, v in r.items() if k != "token_hash"} for r in mine]

    async def revoke(self, *, province: str, unit: str, token_id: uuid.UUID, at: datetime) -> bool:
        row = self.rows.get(token_id)
        if row is None or (row["province"], row["unit"]) != (province, unit) or row["revoked_at"] is not None:
            return False
        row["revoked_at"] = at
        return True

    async def exists(self, *, province: str, unit: str, token_id: uuid.UUID) -> bool:
        row = self.rows.get(token_id)
        return row is not None and (row["province"], row["unit"]) == (province, unit)

    async def in_use(self, token_hash: str) -> SimpleNamespace | None:
        for row in self.rows.values():
            unit = self.catalog.docs["unit"].get((row["province"], row["unit"]))
            if row["token_hash"] == token_hash and row["revoked_at"] is None and unit and unit["active"]:
                return SimpleNamespace(**row)
        return None

    async def mark_used(self, token_id: uuid.UUID, at: datetime) -> None:
        self.rows[token_id]["last_used_at"] = at


class FakeIntakeUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.catalog = InMemoryCatalog()
        self.locks = InMemoryLocks()
        self.exceptions = InMemoryExceptions()
        self.submissions = InMemorySubmissions(self.catalog, self.locks)
        self.idempotency = InMemoryIdempotencyKeys()
        self.accounts = InMemoryAccounts()
        self.login_failures = InMemoryLoginFailures()
        self.api_tokens = InMemoryApiTokens(self.catalog)
        self.account_access = InMemoryAccountAccess()

    @asynccontextmanager
    async def savepoint(self):
        yield  # nothing to undo: the use cases under test raise before they write

    async def audit_trail(self, *, province: str | None, before: int | None, limit: int) -> AuditPage:
        rows = [
            AuditEntry(id=n, province=row["details"].get("province"), **row)
            for n, row in enumerate(self.audited, start=1)
            if province is None or row["details"].get("province") == province
        ]
        rows = [r for r in reversed(rows) if before is None or r.id < before]
        return AuditPage(items=rows[:limit], next_before=rows[limit - 1].id if len(rows) > limit else None)
