"""In-memory stand-ins for consolidation's repositories, answering as the SQL ones do, so the use cases'
rules are tested without PostgreSQL or Kafka.

    uow = FakeConsolidationUnitOfWork()
    await projection.submission_recorded(uow, submission)
    uow.events_of(REPORT_REVERTED), uow.audited, uow.reports.rows
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from baocao_shared.events.catalog import PlanV1, ProvinceV1, RegimeV1, UnitV1
from baocao_shared.events.deadlines import ObligationV1, PeriodClosedV1
from baocao_shared.events.submissions import SubmissionV1
from baocao_testing.fakes import FakeUnitOfWork
from consolidation.adapters.documents import StoredDocument
from consolidation.domain.comparisons import PeriodFigures
from consolidation.domain.documents import DOCX, PDF, FrozenDocument
from consolidation.domain.errors import SigningKeyUnavailable
from consolidation.domain.months import MONTH
from consolidation.domain.report import LatestReport, Timeliness
from consolidation.domain.sections import EditedSection
from consolidation.domain.timeliness import replaces
from consolidation.domain.workflow import ReportState, revision

Key = tuple[str, str, str]


class InMemoryCatalogue:
    def __init__(self) -> None:
        self.by_code: dict[str, ProvinceV1] = {}
        self.units: dict[tuple[str, str], UnitV1] = {}
        self.plans: dict[tuple[str, str], PlanV1] = {}
        self.regime_docs: dict[str, RegimeV1] = {}

    async def upsert_regime(self, regime: RegimeV1) -> None:
        self.regime_docs[regime.id] = regime

    async def regimes(self) -> dict[str, RegimeV1]:
        return dict(sorted(self.regime_docs.items()))

    async def upsert_province(self, province: ProvinceV1) -> None:
        self.by_code[province.code] = province

    async def upsert_unit(self, unit: UnitV1) -> None:
        self.units[unit.province, unit.code] = unit

    async def upsert_units(self, units: Sequence[UnitV1]) -> None:
        for unit in units:
            await self.upsert_unit(unit)

    async def upsert_plan(self, plan: PlanV1) -> None:
        self.plans[plan.province, plan.id] = plan

    async def province(self, code: str) -> ProvinceV1 | None:
        return self.by_code.get(code)

    async def plans_of(self, province: str) -> list[PlanV1]:
        return [p for (code, _), p in sorted(self.plans.items()) if code == province and p.active]

    async def provinces(self) -> list[ProvinceV1]:
        return [p for _, p in sorted(self.by_code.items())]

    async def units_of(self, province: str) -> list[UnitV1]:
        return [u for (p, _), u in sorted(self.units.items()) if p == province]

    async def plans_with_successors(self) -> list[PlanV1]:
        return [p for _, p in sorted(self.plans.items()) if p.successor is not None]

    async def unit_names(self, province: str) -> dict[str, str]:
        return {code: u.name for (p, code), u in self.units.items() if p == province}


class InMemoryUnitReports:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str, str], SubmissionV1] = {}

    async def record(self, s: SubmissionV1) -> bool:
        key = (s.province, s.plan_id, s.period, s.unit)
        stored = self.rows.get(key)
        if stored is not None and stored.version >= s.version:
            return False
        first = stored.first_received_at if stored is not None else s.first_received_at  # the SQL keeps it
        self.rows[key] = s.model_copy(update={"first_received_at": first})
        return True

    async def record_latest(self, latest: Iterable[SubmissionV1]) -> None:
        for s in latest:
            await self.record(s)

    def _of(self, province: str, plan_id: str, period: str) -> list[SubmissionV1]:
        return [s for (p, plan, per, _), s in self.rows.items() if (p, plan, per) == (province, plan_id, period)]

    async def latest(
        self, province: str, plan_id: str, period: str, *, imported_only: bool = False
    ) -> list[LatestReport]:
        return [
            LatestReport(s.unit, s.version, s.received_at, s.first_received_at, s.values, s.narratives)
            for s in self._of(province, plan_id, period)
            if s.imported or not imported_only
        ]

    async def revision(self, province: str, plan_id: str, period: str) -> int:
        return revision(sum(s.version for s in self._of(province, plan_id, period)))

    async def figures(
        self, province: str, plan_id: str, periods: list[str], *, history: Collection[str] = ()
    ) -> dict[str, PeriodFigures]:
        found = {}
        for period in periods:
            reports = [s for s in self._of(province, plan_id, period) if s.imported or period not in history]
            if reports:
                totals: dict[str, int] = {}
                for s in reports:
                    for code, value in s.values.items():
                        totals[code] = totals.get(code, 0) + int(value)
                found[period] = PeriodFigures(totals, len(reports))
        return found

    async def newest_month(self, *, up_to: str, province: str | None = None) -> str | None:
        months = [
            per for (p, _, per, _) in self.rows if re.match(MONTH, per) and per <= up_to and province in (None, p)
        ]
        return max(months, default=None)


class InMemoryObligations:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str, str], tuple[ObligationV1, bool]] = {}
        self.closed: dict[Key, datetime] = {}

    async def record(self, o: ObligationV1, *, final: bool) -> None:
        key = (o.province, o.plan_id, o.period, o.unit)
        stored = self.rows.get(key)
        if stored is None or replaces(new_status=o.status, new_final=final, old_status=stored[0].status,
                                      old_final=stored[1]):  # fmt: skip
            self.rows[key] = (o, final)

    async def record_latest(self, latest: Iterable[ObligationV1]) -> None:
        for o in latest:
            await self.record(o, final=o.closed)

    async def close(self, closed: PeriodClosedV1) -> None:
        self.closed.setdefault((closed.province, closed.plan_id, closed.period), closed.closed_at)

    async def timeliness(self, province: str, plan_id: str, period: str) -> dict[str, Timeliness]:
        return {
            unit: Timeliness(o.status, o.late_by_s)
            for (p, plan, per, unit), (o, _) in self.rows.items()
            if (p, plan, per) == (province, plan_id, period)
        }

    async def is_closed(self, province: str, plan_id: str, period: str) -> bool:
        return (province, plan_id, period) in self.closed


class InMemoryReports:
    def __init__(self, unit_reports: InMemoryUnitReports) -> None:
        self.rows: dict[Key, ReportState] = {}
        self.unit_reports = unit_reports

    async def get(self, province: str, plan_id: str, period: str) -> ReportState | None:
        return self.rows.get((province, plan_id, period))

    async def of_period(self, period: str) -> dict[tuple[str, str], ReportState]:
        return {(p, plan): state for (p, plan, per), state in self.rows.items() if per == period}

    async def save(self, province: str, plan_id: str, period: str, *, at: datetime, **values: Any) -> None:
        key = (province, plan_id, period)
        stored = self.rows.get(key)
        if stored is None:
            self.rows[key] = ReportState(province=province, plan_id=plan_id, period=period, status_at=at, **values)
        elif stored.status_at is None or stored.status_at <= at:  # as SQL: never backwards
            self.rows[key] = replace(stored, status_at=at, **values)

    async def lock(
        self, province: str, plan_id: str, period: str, *, revision: int, create: bool = True
    ) -> ReportState | None:
        key = (province, plan_id, period)
        if key not in self.rows and create:
            self.rows[key] = ReportState(
                province=province, plan_id=plan_id, period=period, status="draft", revision=revision
            )
        return self.rows.get(key)

    async def raise_version(self, province: str, plan_id: str, period: str, *, version: int) -> None:
        key = (province, plan_id, period)
        stored = self.rows.get(key) or ReportState(
            province=province, plan_id=plan_id, period=period, status="draft", revision=1
        )
        self.rows[key] = replace(stored, version=max(stored.version, version))

    async def approved_revisions(self, keys: list[Key]) -> dict[Key, tuple[int, int]]:
        return {
            key: (state.revision, await self.unit_reports.revision(*key))
            for key, state in self.rows.items()
            if key in keys and state.status == "approved"
        }


class InMemorySections:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str, str], EditedSection] = {}

    async def edited(self, province: str, plan_id: str, period: str) -> dict[str, EditedSection]:
        return {key: s for (p, plan, per, key), s in self.rows.items() if (p, plan, per) == (province, plan_id, period)}

    async def save(self, province: str, plan_id: str, period: str, section: EditedSection) -> None:
        key = (province, plan_id, period, section.key)
        if key not in self.rows or self.rows[key].version <= section.version:
            self.rows[key] = section


class InMemoryRegister:
    def __init__(self) -> None:
        self.last_numbers: dict[tuple[str, int], int] = {}

    async def take_next(self, province: str, year: int) -> int:
        self.last_numbers[province, year] = self.last_numbers.get((province, year), 0) + 1
        return self.last_numbers[province, year]

    async def taken(self, province: str, year: int, number: int) -> None:
        self.last_numbers[province, year] = max(self.last_numbers.get((province, year), 0), number)

    async def last(self, province: str, year: int) -> int:
        return self.last_numbers.get((province, year), 0)


class InMemoryDocuments:
    def __init__(self) -> None:
        self.rows: dict[str, StoredDocument] = {}

    async def add(self, document: StoredDocument) -> None:
        self.rows.setdefault(document.sha256, document)

    async def find(self, sha256: str, *, body: bool = False) -> StoredDocument | None:
        found = self.rows.get(sha256)
        return found if found is None or body else replace(found, body=None)

    async def issued_for(self, province: str, plan_id: str, period: str) -> list[StoredDocument]:
        found = [d for d in self.rows.values() if (d.province, d.plan_id, d.period) == (province, plan_id, period)]
        return [replace(d, body=None) for d in sorted(found, key=lambda d: (d.published_at, d.kind))]

    async def of_report(self, province: str, plan_id: str, period: str, kind: str) -> StoredDocument | None:
        found = [d for d in await self.issued_for(province, plan_id, period) if d.kind == kind]
        return found[-1] if found else None


class FakeConsolidationUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.catalogue = InMemoryCatalogue()
        self.unit_reports = InMemoryUnitReports()
        self.obligations = InMemoryObligations()
        self.reports = InMemoryReports(self.unit_reports)
        self.sections = InMemorySections()
        self.register = InMemoryRegister()
        self.documents = InMemoryDocuments()


class FakePress:
    """Stands in for the press in use-case tests: documents whose bytes name the report and its number, and
    a key that can be made unusable."""

    def __init__(self) -> None:
        self.broken: str | None = None
        self.history: bool | None = None  # what the last freeze was told about the period

    def freeze(self, report, *, issued_on, history=False) -> list[FrozenDocument]:
        self.history = history
        if self.broken:
            raise SigningKeyUnavailable(province=report.province, reason=self.broken)
        body = f"{report.province}/{report.period}/{report.number}/{issued_on}".encode()
        return [
            FrozenDocument("pdf", PDF, "r.pdf", b"%PDF-" + body, signed_by="BAN CHỈ ĐẠO"),
            FrozenDocument("docx", DOCX, "r.docx", b"PK" + body),
        ]

    def draft_pdf(self, report, *, issued_on, history=False) -> bytes:
        return b"%PDF-draft"

    def verify(self, pdf: bytes):
        return None
