"""A notice that comes before its unit or province is kept as data and comes back as the same notice,
under the same cause, so that its deliveries are still made once per (event, recipient, channel)."""

import json
import uuid
from datetime import UTC, datetime

from baocao_shared.events.deadlines import ESCALATION_RAISED, REMINDER_DUE, EscalationV1, UnitNoticeV1
from notify.adapters.waiting import kept, revived
from notify.domain.cause import Cause

URLS = {"intake": "http://intake.test"}
DUE = datetime(2019, 6, 15, 17, 0, tzinfo=UTC)


def through_jsonb(row: dict) -> dict:
    return {**row, "data": json.loads(json.dumps(row["data"]))}


def test_a_reminder_waits_for_its_unit_and_comes_back_unchanged_under_its_own_event():
    cause = Cause(event_id=uuid.uuid4(), event_type=REMINDER_DUE.type, service_urls=URLS)
    reminder = UnitNoticeV1(
        province="89", plan_id="ke-hoach", period="2019-06", unit="STP", unit_name="Sở Tư pháp",
        due_at=DUE, kind="reminder", sequence=0, day_offset=-1, fire_at=datetime(2019, 6, 14, 1, tzinfo=UTC),
    )  # fmt: skip
    row = kept(cause, reminder, unit="STP")
    assert (row["province"], row["unit"]) == ("89", "STP")
    again, notice = revived(through_jsonb(row), URLS)
    assert again == cause
    assert notice == reminder and isinstance(notice, UnitNoticeV1)


def test_an_escalation_waits_for_its_province_alone():
    cause = Cause(event_id=uuid.uuid4(), event_type=ESCALATION_RAISED.type, service_urls=URLS)
    digest = EscalationV1(
        province="89", plan_id="ke-hoach", period="2019-06", due_at=DUE, fire_at=datetime(2019, 6, 16, 1, tzinfo=UTC),
        expected=3, missing_units=[{"unit": "STP", "unit_name": "Sở Tư pháp"}],
    )  # fmt: skip
    row = kept(cause, digest, unit=None)
    assert (row["province"], row["unit"]) == ("89", None)
    again, notice = revived(through_jsonb(row), URLS)
    assert (again.event_id, notice) == (cause.event_id, digest)
