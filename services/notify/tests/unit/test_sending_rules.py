"""One attempt of the sender: sent, retried after a wait, or failed for good after the last attempt, each
outcome announced on baocao.notifications in the same transaction."""

import uuid
from datetime import UTC, datetime, timedelta

from baocao_shared.events.notifications import NOTIFICATION_FAILED, NOTIFICATION_SENT
from notify.adapters.channels import InboxChannel
from notify.domain.delivery import NewDelivery
from notify.handlers.sending import RetryPolicy, attempt
from services.notify.tests.unit.fakes import FakeNotifyUnitOfWork

NOW = datetime(2019, 6, 20, 2, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=3, initial_s=5.0, max_s=600.0)


class Refusing:
    async def send(self, uow, delivery) -> None:
        raise ConnectionRefusedError("the mail server is down")


class Accepting:
    def __init__(self) -> None:
        self.sent: list = []

    async def send(self, uow, delivery) -> None:
        self.sent.append(delivery.id)


async def pending(channel: str = "email", recipient: str = "vanthu@syt.gov.vn") -> FakeNotifyUnitOfWork:
    uow = FakeNotifyUnitOfWork()
    new = NewDelivery(
        id=uuid.uuid4(), cause_event_id=uuid.uuid4(), cause_type="vn.baocao.reminder.due.v1", province="30",
        plan_id="467", period="2019-06", unit="SYT", channel=channel, recipient=recipient,
        subject="[Nhắc hạn] Báo cáo", body_text="Kính gửi", body_html=None,
    )  # fmt: skip
    await uow.deliveries.add_once([new])
    return uow


async def attempt_due(uow: FakeNotifyUnitOfWork, channels) -> None:
    delivery = await uow.deliveries.claim_due(now=NOW)
    assert delivery is not None
    await attempt(uow, delivery, channels, now=NOW, policy=POLICY)


async def test_a_sent_delivery_is_recorded_and_announced():
    uow, channel = await pending(), Accepting()
    await attempt_due(uow, {"email": channel})
    [delivery] = uow.deliveries.rows.values()
    assert (delivery.status, delivery.attempts, delivery.sent_at, channel.sent) == ("sent", 1, NOW, [delivery.id])
    [event] = uow.events_of(NOTIFICATION_SENT)
    assert (event.delivery_id, event.recipient, event.attempts, event.reason) == (
        delivery.id,
        delivery.recipient,
        1,
        None,
    )
    assert uow.published[0].province == "30" and uow.published[0].at == NOW


async def test_a_failed_attempt_waits_before_the_next_and_says_nothing_yet():
    uow = await pending()
    await attempt_due(uow, {"email": Refusing()})
    [delivery] = uow.deliveries.rows.values()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error == "ConnectionRefusedError: the mail server is down"
    assert NOW + timedelta(seconds=5) <= delivery.next_attempt_at <= NOW + timedelta(seconds=10)
    assert uow.published == []


async def test_the_last_failed_attempt_fails_the_delivery_for_good_with_its_reason():
    uow = await pending()
    for _ in range(POLICY.max_attempts):
        delivery = await uow.deliveries.claim_due(now=NOW + timedelta(hours=1))
        await attempt(uow, delivery, {"email": Refusing()}, now=NOW, policy=POLICY)
    [delivery] = uow.deliveries.rows.values()
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("failed", 3, None)
    [event] = uow.events_of(NOTIFICATION_FAILED)
    assert event.reason == "ConnectionRefusedError: the mail server is down" and event.attempts == 3
    assert await uow.deliveries.claim_due(now=NOW + timedelta(days=1)) is None


async def test_an_inbox_delivery_lands_in_the_recipients_inbox():
    uow = await pending(channel="inbox", recipient="syt-30")
    await attempt_due(uow, {"inbox": InboxChannel()})
    [message] = await uow.inbox.newest("syt-30", limit=10)
    assert (message.title, message.body) == ("[Nhắc hạn] Báo cáo", "Kính gửi")
    assert [e.recipient for e in uow.events_of(NOTIFICATION_SENT)] == ["syt-30"]
