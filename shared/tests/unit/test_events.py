import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from baocao_shared.events import EVENTS, CloudEvent, make_event, parse_data
from baocao_shared.events.export import BASELINE_DIR, event_schema, incompatibilities, rendered
from baocao_shared.events.submissions import SUBMISSION_AMENDED, SUBMISSION_RECEIVED, SubmissionV1
from baocao_testing.samples import a_submission as sample


def a_submission(**overrides) -> SubmissionV1:
    at = datetime(2019, 6, 14, 2, 0, tzinfo=UTC)
    unit = {"unit": "UBND-NS", "plan_id": "p", "version": 2, "values": {"t1_sessions": 3}}
    return sample(**{**unit, "received_at": at, "first_received_at": at, **overrides})


def test_an_event_round_trips_through_its_record_bytes_with_vietnamese_intact():
    data = a_submission()
    event, key = make_event(SUBMISSION_AMENDED, data, source="/baocao/intake", province="30", correlation_id="req-1")
    assert key == "30.UBND-NS"
    raw = event.to_bytes()
    assert "Chỉ thị 44" in raw.decode("utf-8")
    back = CloudEvent.from_bytes(raw)
    assert back == event
    assert back.specversion == "1.0" and back.subject == "30/UBND-NS/2019-06"
    assert parse_data(back) == data


def test_make_event_refuses_data_of_another_type():
    with pytest.raises(TypeError):
        make_event(SUBMISSION_RECEIVED, CloudEvent(source="x", type="vn.baocao.a.b.v1", data={}), source="x")


@pytest.mark.parametrize(
    "raw",
    [
        None,
        b"",
        b"not json",
        b'{"specversion":"1.0"}',
        b'{"specversion":"0.3","source":"s","type":"vn.baocao.a.b.v1","data":{}}',
    ],
)
def test_a_record_that_is_not_a_cloudevent_is_refused(raw):
    with pytest.raises((ValueError, ValidationError)):
        CloudEvent.from_bytes(raw)


def test_negative_version_or_bad_period_breaks_the_schema():
    with pytest.raises(ValidationError):
        a_submission(version=0)
    with pytest.raises(ValidationError):
        a_submission(period="2019-13")


def test_exported_schemas_and_asyncapi_match_the_models():
    stale = [str(p) for p, text in rendered().items() if not p.exists() or p.read_text() != text]
    assert not stale, f"run `uv run python -m baocao_shared.events.export`; stale: {stale}"


def test_every_published_event_version_stays_backward_compatible():
    for event_type in EVENTS:
        frozen = BASELINE_DIR / f"{event_type}.json"
        assert frozen.exists(), f"{event_type} has no baseline; run the export"
        problems = incompatibilities(json.loads(frozen.read_text()), event_schema(event_type))
        assert not problems, f"{event_type} breaks its published schema: {problems}"


def test_the_compatibility_check_catches_removed_retyped_and_newly_required_fields():
    baseline = {"properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["a"]}
    current = {"properties": {"b": {"type": "string"}, "c": {"type": "string"}}, "required": ["c"]}
    problems = incompatibilities(baseline, current)
    assert any("a: removed" in p for p in problems)
    assert any("b: type changed" in p for p in problems)
    assert any("c: new required field" in p for p in problems)
    additive = {"properties": {**baseline["properties"], "d": {"type": "string"}}, "required": ["a"]}
    assert incompatibilities(baseline, additive) == []
