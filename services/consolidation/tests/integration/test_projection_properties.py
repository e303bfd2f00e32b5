"""The projection on a real PostgreSQL, as a property: whatever order the submission events of a period
arrive in, however often each is delivered, the report's totals are the sums of each unit's highest
version, its appendix lists that version, and its revision is 1 + the sum of those versions.

The events go through the live handler (projection.submission_recorded), one transaction each as the
consumer applies them; no Kafka is needed for that. Bounded: a fixed number of examples, derandomized."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baocao_shared.db import make_engine, make_sessionmaker, upgrade_database
from baocao_shared.events.submissions import SubmissionV1
from baocao_testing.fixtures import create_database
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.domain.report import ReportAddress
from consolidation.handlers import projection, reports
from consolidation.main import MIGRATIONS
from services.consolidation.tests.kit import HAI_DUONG

pytestmark = pytest.mark.integration
CODES = [i.code for task in HAI_DUONG.plans[0].template.tasks for i in task.indicators]
UNITS = ["CA", "BTG", "SNV", "STP"]
AT = datetime(2019, 6, 10, 3, tzinfo=UTC)


@pytest.fixture(scope="module")
async def sessions(postgres):
    url = await create_database(postgres, "consolidation")
    await upgrade_database(MIGRATIONS, url)
    engine = make_engine(url, pool_size=2)
    maker = make_sessionmaker(engine)
    async with maker() as db, ConsolidationUnitOfWork(db) as uow:
        await projection.province_upserted(uow, HAI_DUONG.province)
    yield maker
    await engine.dispose()


@st.composite
def histories(draw) -> dict[str, list[dict[str, int]]]:
    """For some units, the figures of versions 1..n of their report."""
    units = draw(st.lists(st.sampled_from(UNITS), unique=True, min_size=1))
    figures = st.fixed_dictionaries({code: st.integers(0, 10_000_000) for code in CODES})
    return {unit: draw(st.lists(figures, min_size=1, max_size=4)) for unit in units}


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories(), st.lists(st.integers(0, 50), max_size=6), st.randoms(use_true_random=False))
async def test_totals_are_the_highest_versions_whatever_the_order_and_duplication(
    sessions, history, repeats, rng: random.Random
):
    plan = HAI_DUONG.plans[0].model_copy(update={"id": f"p{uuid.uuid4().hex[:8]}", "units": UNITS})
    async with sessions() as db, ConsolidationUnitOfWork(db) as uow:
        await projection.plan_upserted(uow, plan)
    events = []
    for unit, versions in history.items():
        sid = uuid.uuid4()
        for n, values in enumerate(versions, start=1):
            events.append(
                SubmissionV1(
                    submission_id=sid,
                    province="30",
                    unit=unit,
                    plan_id=plan.id,
                    period="2019-06",
                    version=n,
                    values=values,
                    narratives={},
                    received_at=AT + timedelta(hours=n),
                    first_received_at=AT,
                )
            )
    delivered = events + [events[i % len(events)] for i in repeats]  # at-least-once: some twice or more
    rng.shuffle(delivered)
    for event in delivered:
        async with sessions() as db, ConsolidationUnitOfWork(db) as uow:
            await projection.submission_recorded(uow, event)

    async with sessions() as db, ConsolidationUnitOfWork(db) as uow:
        report = await reports.current(uow, address=ReportAddress("30", "2019-06", plan.id), now=AT)
    latest = {unit: versions[-1] for unit, versions in history.items()}
    assert report.totals == {code: sum(v[code] for v in latest.values()) for code in CODES}
    assert {u.unit: (u.version, u.values) for u in report.units} == {
        unit: (len(versions), versions[-1]) for unit, versions in history.items()
    }
    assert report.revision == 1 + sum(len(versions) for versions in history.values())
    assert {c: sum(u.values[c] for u in report.units) for c in CODES} == report.totals


def word(plan, unit: str, status: str, *, closed: bool):
    from baocao_shared.events.deadlines import ObligationV1

    due = AT + timedelta(days=5)
    return ObligationV1(
        province="30", plan_id=plan.id, period="2019-06", unit=unit, unit_name=unit, due_at=due, status=status,
        first_submitted_at=AT if status != "missing" else None, late_by_s=None, amended_after_due=False,
        closed=closed,
    )  # fmt: skip


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.permutations(range(4)), st.booleans())
async def test_deadlines_words_on_a_unit_stand_the_same_whatever_order_they_arrive_in(sessions, order, batched):
    """CA's report reached deadlines after the close fired: the close says "missing" (keyed by province), the
    correction says "on time", final (keyed by the unit): on two partitions, read in either order, live or on a
    rebuild. BTG reported before the close. SNV never did."""
    from baocao_shared.events.deadlines import PeriodClosedV1

    plan = HAI_DUONG.plans[0].model_copy(update={"id": f"p{uuid.uuid4().hex[:8]}", "units": UNITS})
    close = PeriodClosedV1(
        province="30", plan_id=plan.id, period="2019-06", due_at=AT + timedelta(days=5),
        closed_at=AT + timedelta(days=14), expected=3, on_time=1, late=0, missing=2,
        units=[word(plan, "CA", "missing", closed=True), word(plan, "BTG", "on_time", closed=True),
               word(plan, "SNV", "missing", closed=True)],
    )  # fmt: skip
    words = [
        word(plan, "CA", "pending", closed=False),
        word(plan, "CA", "on_time", closed=True),  # the correction after the close
        word(plan, "BTG", "on_time", closed=False),
        close,
    ]
    arriving = [words[i] for i in order]
    async with sessions() as db, ConsolidationUnitOfWork(db) as uow:
        await projection.plan_upserted(uow, plan)
    if batched:  # the consumer applies a run of obligation.updated in one statement
        updates = [w for w in arriving if not isinstance(w, PeriodClosedV1)]
        async with sessions() as db, ConsolidationUnitOfWork(db) as uow:
            await projection.obligations_updated(uow, updates)
        async with sessions() as db, ConsolidationUnitOfWork(db) as uow:
            await projection.period_closed(uow, close)
    else:
        for w in arriving:
            async with sessions() as db, ConsolidationUnitOfWork(db) as uow:
                if isinstance(w, PeriodClosedV1):
                    await projection.period_closed(uow, w)
                else:
                    await projection.obligation_updated(uow, w)
    async with sessions() as db, ConsolidationUnitOfWork(db) as uow:
        known = await uow.obligations.timeliness("30", plan.id, "2019-06")
    assert {unit: t.status for unit, t in known.items()} == {"CA": "on_time", "BTG": "on_time", "SNV": "missing"}
