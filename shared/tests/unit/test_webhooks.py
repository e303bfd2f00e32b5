"""Signed webhooks: what a receiver accepts, and everything it must refuse."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from baocao_shared.clock import FixedClock
from baocao_shared.webhooks import (
    BadSignature,
    InvalidSecret,
    MemorySeenMessages,
    MissingHeader,
    Replayed,
    TooNew,
    TooOld,
    WebhookVerifier,
    new_secret,
    signature,
    signed_headers,
    signer,
)

SENT_AT = datetime(2019, 6, 14, 1, 0, 5, tzinfo=UTC)
BODY = json.dumps({"id": "d-1", "type": "vn.baocao.reminder.due.v1", "unit": "SYT"}, ensure_ascii=False).encode()


def request(secret: str, *, msg_id: str = "d-1", at: datetime = SENT_AT, body: bytes = BODY):
    return body, signed_headers(secret, msg_id=msg_id, at=at, body=body)


def verifier(secret: str, *, now: datetime = SENT_AT, **kwargs) -> WebhookVerifier:
    return WebhookVerifier(secret, clock=FixedClock(now), **kwargs)


def test_the_standard_webhooks_reference_vector():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signature(secret, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330, body=body) == expected
    headers = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330"}
    at = datetime.fromtimestamp(1614265330, UTC)
    assert verifier(secret, now=at).verify(body, {**headers, "webhook-signature": expected}) == {"test": 2432232314}


def test_a_signed_request_verifies_and_yields_its_document():
    secret = new_secret()
    body, headers = request(secret)
    assert headers["webhook-id"] == "d-1"
    assert headers["webhook-timestamp"] == str(int(SENT_AT.timestamp()))
    assert verifier(secret).verify(body, headers) == json.loads(BODY)


def test_the_packages_own_verifier_accepts_what_we_sign():
    secret = new_secret()
    body, headers = request(secret, at=datetime.now(UTC))  # its verify reads the wall clock
    assert Webhook(secret).verify(body, headers) == json.loads(BODY)


def test_header_names_are_read_in_any_case_and_a_rotated_secret_may_sign_too():
    old, new = new_secret(), new_secret()
    body, headers = request(new)
    both = f"{request(old)[1]['webhook-signature']} {headers['webhook-signature']}"
    shouted = {"Webhook-Id": headers["webhook-id"], "WEBHOOK-TIMESTAMP": headers["webhook-timestamp"]}
    assert verifier(new).verify(body, {**shouted, "Webhook-Signature": both}) == json.loads(BODY)


def test_a_tampered_body_is_refused():
    secret = new_secret()
    body, headers = request(secret)
    with pytest.raises(BadSignature):
        verifier(secret).verify(body.replace(b"SYT", b"STC"), headers)


def test_a_tampered_timestamp_is_refused():
    secret = new_secret()
    body, headers = request(secret)
    moved = {**headers, "webhook-timestamp": str(int(SENT_AT.timestamp()) + 60)}
    with pytest.raises(BadSignature):
        verifier(secret, now=SENT_AT + timedelta(seconds=60)).verify(body, moved)


def test_a_tampered_id_is_refused():
    secret = new_secret()
    body, headers = request(secret)
    with pytest.raises(BadSignature):
        verifier(secret).verify(body, {**headers, "webhook-id": "d-2"})


def test_another_secret_is_refused():
    body, headers = request(new_secret())
    with pytest.raises(BadSignature):
        verifier(new_secret()).verify(body, headers)


@pytest.mark.parametrize(
    "signature_header", ["", "v1,", "v1,not-base64!", "v2," + base64.b64encode(b"x" * 32).decode(), "garbage"]
)
def test_an_unreadable_signature_is_refused(signature_header):
    secret = new_secret()
    body, headers = request(secret)
    with pytest.raises((BadSignature, MissingHeader)):
        verifier(secret).verify(body, {**headers, "webhook-signature": signature_header})


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_named(missing):
    secret = new_secret()
    body, headers = request(secret)
    del headers[missing]
    with pytest.raises(MissingHeader, match=missing):
        verifier(secret).verify(body, headers)


def test_a_timestamp_that_is_not_a_number_is_refused():
    secret = new_secret()
    body, headers = request(secret)
    with pytest.raises(MissingHeader, match="unix seconds"):
        verifier(secret).verify(body, {**headers, "webhook-timestamp": "yesterday"})


def test_too_old_and_too_far_ahead_are_refused_but_the_edges_of_the_tolerance_pass():
    secret = new_secret()
    body, headers = request(secret)
    with pytest.raises(TooOld):
        verifier(secret, now=SENT_AT + timedelta(minutes=5, seconds=1)).verify(body, headers)
    with pytest.raises(TooNew):
        verifier(secret, now=SENT_AT - timedelta(minutes=5, seconds=1)).verify(body, headers)
    assert verifier(secret, now=SENT_AT + timedelta(minutes=5)).verify(body, headers)
    assert verifier(secret, now=SENT_AT - timedelta(minutes=5)).verify(body, headers)
    with pytest.raises(TooOld):
        verifier(secret, now=SENT_AT + timedelta(seconds=31), tolerance=timedelta(seconds=30)).verify(body, headers)


def test_a_copy_of_an_accepted_message_is_refused_as_a_replay():
    secret = new_secret()
    receiver = verifier(secret)
    body, headers = request(secret)
    receiver.verify(body, headers)
    with pytest.raises(Replayed):
        receiver.verify(body, headers)


def test_a_retry_of_the_same_delivery_is_a_new_message_not_a_replay():
    """The sender re-sends one delivery under the same id with a new timestamp and signature."""
    secret = new_secret()
    clock = FixedClock(SENT_AT)
    receiver = WebhookVerifier(secret, clock=clock)
    assert receiver.verify(*request(secret))
    clock.set(SENT_AT + timedelta(seconds=10))
    retry = request(secret, at=SENT_AT + timedelta(seconds=10))
    assert receiver.verify(*retry)
    with pytest.raises(Replayed):
        receiver.verify(*retry)


def test_a_forged_message_is_not_remembered_so_it_cannot_block_the_real_one():
    secret = new_secret()
    receiver = verifier(secret)
    body, headers = request(secret)
    with pytest.raises(BadSignature):
        receiver.verify(body, {**headers, "webhook-signature": request(new_secret())[1]["webhook-signature"]})
    assert receiver.verify(body, headers)


def test_the_seen_store_is_shared_and_bounded():
    secret = new_secret()
    seen = MemorySeenMessages(max_entries=2)
    first, second = verifier(secret, seen=seen), verifier(secret, seen=seen)
    body, headers = request(secret, msg_id="a")
    first.verify(body, headers)
    with pytest.raises(Replayed):  # another verifier (another worker) on the same store
        second.verify(body, headers)
    first.verify(*request(secret, msg_id="b"))
    first.verify(*request(secret, msg_id="c"))  # full: "a", the oldest, is forgotten
    assert second.verify(body, headers)


def test_expired_entries_make_room_before_live_ones_are_forgotten():
    seen = MemorySeenMessages(max_entries=2)
    assert seen.first_time("old", now=SENT_AT, until=SENT_AT + timedelta(minutes=1))
    assert seen.first_time("live", now=SENT_AT, until=SENT_AT + timedelta(minutes=10))
    later = SENT_AT + timedelta(minutes=2)
    assert seen.first_time("new", now=later, until=later + timedelta(minutes=5))
    assert not seen.first_time("live", now=later, until=later)


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("changeme", "starts with 'whsec_'"),
        ("whsec_not base64!", "base64"),
        ("whsec_" + base64.b64encode(b"short").decode(), "24 to 64 bytes"),
        ("whsec_" + base64.b64encode(b"x" * 65).decode(), "24 to 64 bytes"),
    ],
)
def test_a_malformed_secret_is_refused_without_showing_it(secret, why):
    with pytest.raises(InvalidSecret, match=why) as refused:
        signer(secret)
    assert secret not in str(refused.value)


def test_new_secrets_are_distinct_and_usable():
    a, b = new_secret(), new_secret()
    assert a != b and a.startswith("whsec_")
    assert signer(a)
