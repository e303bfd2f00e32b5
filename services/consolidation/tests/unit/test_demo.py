"""The demo's publications: every outcome shows across the country, at instants on either side of the
province's deadline, through the real workflow, and a second run keeps what was published."""

from __future__ import annotations

from datetime import UTC, datetime

from consolidation.handlers.demo import demo_targets, publish_as_the_office
from services.consolidation.tests.unit.fakes import FakePress
from services.consolidation.tests.unit.world import world

NOW = datetime(2019, 8, 10, 3, tzinfo=UTC)  # June's and July's deadlines (the 16th, the 20th) have passed


async def test_the_country_shows_on_time_late_and_missing_around_the_20th():
    uow = await world()
    targets = await demo_targets(uow, now=NOW, periods=2)
    found = {(t.province, t.period): (t.outcome, t.at) for t in targets}
    assert found == {
        ("30", "2019-06"): ("on_time", datetime(2019, 6, 18, 2, tzinfo=UTC)),  # the 18th, 09:00 in Hà Nội
        ("30", "2019-07"): ("late", datetime(2019, 7, 21, 7, 30, tzinfo=UTC)),  # 1 day 14 h 30 min after the 20th
        ("31", "2019-06"): ("late", datetime(2019, 6, 21, 7, 30, tzinfo=UTC)),
        ("31", "2019-07"): ("missing", None),
    }


async def test_the_office_publishes_at_the_chosen_instant_and_a_second_run_keeps_it():
    uow = await world()
    press = FakePress()
    targets = await demo_targets(uow, now=NOW, periods=2)
    done = [await publish_as_the_office(uow, target=t, press=press) for t in targets]
    published = {(d.province, d.period): d.number for d in done if d.number}
    assert published == {
        ("30", "2019-06"): "1/BC-BCĐNQ",
        ("30", "2019-07"): "2/BC-BCĐNQ",
        ("31", "2019-06"): "1/BC-BCĐNQ",
    }
    june = await uow.reports.get("30", "hd-467-2019", "2019-06")
    assert (june.status, june.published_at, june.published_by) == (
        "published",
        datetime(2019, 6, 18, 2, tzinfo=UTC),
        "op-30",
    )
    assert await uow.reports.get("31", "lg-1", "2019-07") is None  # missing: never approved nor published

    again = [await publish_as_the_office(uow, target=t, press=press) for t in targets]
    assert [d.outcome for d in again] == ["kept", "kept", "kept", "missing"]
