"""The outbox rows of events built by our own code (`event_rows`, what `uow.publish` writes): the envelope is not
validated again and everything is serialized in one pass, yet a consumer reads the same event `make_event` makes."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from baocao_shared.events import CloudEvent, make_event, parse_data
from baocao_shared.events.deadlines import REMINDER_DUE, UnitNoticeV1
from baocao_shared.events.registry import EventSpec, register
from baocao_shared.events.submissions import SUBMISSION_AMENDED, SubmissionV1
from baocao_shared.messaging.outbox import event_rows, outbox_rows, rows_json
from baocao_testing.samples import a_submission

AT = datetime(2025, 6, 13, 1, 0, tzinfo=UTC)


def a_notice(unit: str) -> UnitNoticeV1:
    return UnitNoticeV1(
        province="30",
        plan_id="kh-467",
        period="2025-06",
        unit=unit,
        unit_name=f"Đơn vị {unit} — Hải Dương",
        due_at=AT + timedelta(days=3),
        kind="reminder",
        sequence=0,
        day_offset=-3,
        fire_at=AT,
    )


def written(rows: list[dict]) -> list[dict]:
    """The rows as the outbox statement reads them (one JSON array)."""
    return json.loads(rows_json(rows))


def test_a_row_holds_what_make_event_makes_of_the_same_data():
    data = a_submission(version=2, narratives={"T1": "Chỉ thị 44"})
    (row,) = written(event_rows(SUBMISSION_AMENDED, [(data, "30", AT)], source="/baocao/intake"))
    event, key = make_event(SUBMISSION_AMENDED, data, source="/baocao/intake", province="30", time=AT)
    read = CloudEvent.model_validate(row["payload"])
    assert read == event.model_copy(update={"id": read.id})
    assert row["payload"] == json.loads(event.model_copy(update={"id": read.id}).to_bytes())
    assert parse_data(read) == data
    assert (row["key"], row["event_type"], row["topic"]) == (key, SUBMISSION_AMENDED.type, SUBMISSION_AMENDED.topic)
    assert row["event_id"] == row["payload"]["id"]


def test_each_row_is_its_own_event_with_its_province_and_time():
    items = [(a_notice(f"U{i:04d}"), f"{i % 3:02d}", AT + timedelta(seconds=i)) for i in range(500)]
    rows = written(event_rows(REMINDER_DUE, items, source="/baocao/deadlines"))
    ids = [uuid.UUID(r["event_id"]) for r in rows]
    assert len(set(ids)) == 500 and {i.version for i in ids} == {4}
    for row, (data, province, at) in zip(rows, items, strict=True):
        read = CloudEvent.model_validate(row["payload"])
        assert (read.province, read.time, read.subject) == (province, at, f"30/{data.unit}/2025-06")
        assert parse_data(read) == data


def test_rows_of_made_events_and_of_data_are_written_alike():
    data = a_notice("CA")
    event, key = make_event(REMINDER_DUE, data, source="/baocao/deadlines", province="30", time=AT)
    (made,) = written(outbox_rows(REMINDER_DUE.topic, [(event, key)]))
    (row,) = written(event_rows(REMINDER_DUE, [(data, "30", AT)], source="/baocao/deadlines"))
    assert made["payload"] == {**row["payload"], "id": made["event_id"]}


def test_data_of_another_type_is_refused():
    with pytest.raises(TypeError):
        event_rows(SUBMISSION_AMENDED, [(a_notice("CA"), "30", AT)], source="/baocao/intake")


def test_an_event_type_the_envelope_would_refuse_cannot_be_registered():
    with pytest.raises(ValueError):
        register(EventSpec("vn.baocao.Submission.received", "t", SubmissionV1, str, str, "not a type"))
