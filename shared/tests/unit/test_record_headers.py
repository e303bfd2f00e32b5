"""An event record's headers follow the CloudEvents Kafka binding (structured mode), and records written before
it did (a `ce_type` header alone) are still read as they were: on the topics, in dead-letter queues and when a
dead letter is sent back to its topic."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka.structs import ConsumerRecord

from baocao_shared.dlq_replay import replay_headers
from baocao_shared.events import make_event
from baocao_shared.events.submissions import SUBMISSION_RECEIVED, SubmissionV1
from baocao_shared.messaging.batches import parse_record
from baocao_shared.messaging.handlers import typed_handler
from baocao_shared.messaging.headers import event_type_of, record_headers, upgraded
from baocao_shared.ops import REPLAY_HEADER

TYPE = SUBMISSION_RECEIVED.type
AT = datetime(2019, 6, 14, 2, tzinfo=UTC)


def submission_value() -> bytes:
    data = SubmissionV1(
        submission_id=uuid.uuid4(), province="30", unit="CA", plan_id="p", period="2019-06", version=1,
        values={"t1_sessions": 3}, narratives={}, received_at=AT, first_received_at=AT,
    )  # fmt: skip
    event, _ = make_event(SUBMISSION_RECEIVED, data, source="/baocao/intake", province="30")
    return json.dumps(event.model_dump(mode="json"), ensure_ascii=False).encode()


def a_record(value: bytes | None, headers, topic: str = "baocao.submissions") -> ConsumerRecord:
    return ConsumerRecord(
        topic=topic, partition=0, offset=7, timestamp=0, timestamp_type=0, key=b"30.CA", value=value,
        checksum=None, serialized_key_size=5, serialized_value_size=len(value or b""), headers=list(headers),
    )  # fmt: skip


async def applied(session, data) -> None: ...


HANDLERS = {TYPE: typed_handler(applied, many=applied)}


def test_a_record_says_structured_mode_and_carries_no_ce_header():
    """The binding: `content-type: application/cloudevents+json` is structured mode; any `ce_` header would make
    the official SDK's reader take the record for binary mode and look for the attributes in headers."""
    headers = dict(record_headers(TYPE))
    assert headers["content-type"] == b"application/cloudevents+json"
    assert not [name for name in headers if name.lower().startswith("ce_")]
    assert event_type_of(record_headers(TYPE)) == TYPE


@pytest.mark.parametrize(
    "headers",
    [
        record_headers(TYPE),
        [("ce_type", TYPE.encode())],
        [("ce_type", b"vn.baocao.other.thing.v1"), *record_headers(TYPE)],
    ],
    ids=["current", "old relay's ce_type", "both: baocao.type wins"],
)
def test_the_type_header_of_either_scheme_takes_the_typed_path(headers):
    parsed = parse_record(a_record(submission_value(), headers), HANDLERS)
    assert isinstance(parsed.data, SubmissionV1), "read in one pass with the typed model, as the relay's records"
    assert parsed.event.type == TYPE


@pytest.mark.parametrize("name", ["baocao.type", "ce_type"])
def test_a_type_header_without_a_value_is_read_as_no_type_not_a_crash(name):
    """Kafka allows a header with no value; aiokafka gives it as None. The record is judged by its value."""
    for value in (b"not json", None):
        record = a_record(value, [(name, None)])
        parsed = parse_record(record, HANDLERS)
        assert parsed.event is None and parsed.record is record, "not an event: dead-lettered, the partition moves on"
    parsed = parse_record(a_record(submission_value(), [(name, None)]), HANDLERS)
    assert parsed.event.type == TYPE and parsed.data is None, "an event all the same, its data checked when applied"


def test_a_dead_letter_of_an_old_record_goes_back_in_the_current_scheme():
    old = a_record(
        submission_value(),
        [("ce_type", TYPE.encode()), ("traceparent", b"00-ab-cd-01"), ("dlq.error", b"boom"), ("dlq.attempts", b"3")],
        topic="baocao.dlq.consolidation",
    )
    sent = replay_headers(old, "admin")
    assert sent[:2] == record_headers(TYPE)
    assert dict(sent)["traceparent"] == b"00-ab-cd-01" and dict(sent)[REPLAY_HEADER].startswith(b"baocao.dlq.")
    assert not [name for name, _ in sent if name.startswith(("ce_", "dlq."))]

    current = a_record(submission_value(), [*record_headers(TYPE), ("dlq.error", b"boom")])
    assert replay_headers(current, "admin")[:2] == record_headers(TYPE)
    assert upgraded(current.headers) == current.headers, "a record of the current scheme keeps its headers"
    assert upgraded([("x", b"1")]) == [("x", b"1")], "nor is a record that is not ours given any"
