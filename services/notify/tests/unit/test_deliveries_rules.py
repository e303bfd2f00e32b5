"""Who reads a province's deliveries and who sends one again, decided once in the use cases for the API and the
pages: each rule and each named refusal, on in-memory repositories."""

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest

from baocao_shared.errors import Conflict, Forbidden, NotFound
from baocao_shared.events.catalog import ProvinceV1
from baocao_shared.principal import Principal, Role
from notify.adapters import orm
from notify.domain.delivery import Delivery, Filters
from notify.domain.errors import (
    DeliveriesNotVisible,
    DeliveryNotFound,
    NotAProvinceCode,
    NotResendable,
    ResendNotAllowed,
)
from notify.domain.inbox import InboxMessage
from notify.handlers import deliveries
from services.notify.tests.unit.fakes import EPOCH, FakeNotifyUnitOfWork

NOW = datetime(2019, 6, 20, 2, tzinfo=UTC)
OPERATOR = Principal("op-30", Role.PROVINCE_OPERATOR, province="30")
FOREIGN_OPERATOR = Principal("op-01", Role.PROVINCE_OPERATOR, province="01")
NATIONAL = Principal("vptt", Role.NATIONAL_OPERATOR)
ADMIN = Principal("admin", Role.ADMIN)
REPORTER = Principal("syt-30", Role.REPORTER, province="30", unit="SYT")


def delivery(status: str = "failed", *, province: str = "30", **changes) -> Delivery:
    values = {
        "id": uuid.uuid4(), "cause_event_id": uuid.uuid4(), "cause_type": "vn.baocao.reminder.due.v1",
        "province": province, "plan_id": "467", "period": "2019-06", "unit": "SYT", "channel": "email",
        "recipient": "vanthu@syt.gov.vn", "subject": "[Nhắc hạn] Báo cáo", "body_text": "Kính gửi", "body_html": None,
        "status": status, "attempts": 6 if status == "failed" else 1, "next_attempt_at": EPOCH,
        "last_error": "SMTPRecipientsRefused" if status == "failed" else None, "created_at": EPOCH, "sent_at": None,
    }  # fmt: skip
    return Delivery(**{**values, **changes})


def stored(*rows: Delivery) -> FakeNotifyUnitOfWork:
    uow = FakeNotifyUnitOfWork()
    for row in rows:
        uow.deliveries.put(row)
    return uow


@pytest.mark.parametrize("reader", [OPERATOR, NATIONAL, ADMIN])
async def test_the_provinces_operators_the_national_office_and_admins_read_its_deliveries(reader):
    mine, elsewhere = delivery(), delivery(province="01")
    uow = stored(mine, elsewhere)
    assert await deliveries.find(uow, principal=reader, filters=Filters(province="30"), limit=10) == [mine]
    shown = await deliveries.detail(uow, principal=reader, delivery_id=mine.id)
    assert shown.delivery == mine and shown.may_resend == (reader is not NATIONAL)


@pytest.mark.parametrize("reader", [FOREIGN_OPERATOR, REPORTER])
async def test_another_provinces_operator_and_a_units_reporter_do_not(reader):
    mine = delivery()
    uow = stored(mine)
    for read in (
        deliveries.find(uow, principal=reader, filters=Filters(province="30"), limit=10),
        deliveries.overview(uow, principal=reader, filters=Filters(province="30"), limit=10),
        deliveries.detail(uow, principal=reader, delivery_id=mine.id),
    ):
        with pytest.raises(DeliveriesNotVisible) as refused:
            await read
    # The API's answer, word for word.
    assert isinstance(refused.value, Forbidden) and refused.value.code == "forbidden"
    assert refused.value.message == "Deliveries of a province are for its operators and the national office."


async def test_a_reporter_is_refused_before_learning_whether_a_delivery_exists():
    uow = stored()
    with pytest.raises(DeliveriesNotVisible):
        await deliveries.detail(uow, principal=REPORTER, delivery_id=uuid.uuid4())
    with pytest.raises(DeliveriesNotVisible):
        await deliveries.provinces(uow, principal=REPORTER)
    with pytest.raises(DeliveryNotFound) as missing:
        await deliveries.detail(uow, principal=NATIONAL, delivery_id=uuid.uuid4())
    assert isinstance(missing.value, NotFound) and missing.value.message == "There is no delivery with this id."
    with pytest.raises(DeliveryNotFound) as no_id:
        await deliveries.detail(uow, principal=NATIONAL, delivery_id=None)
    assert no_id.value.delivery_id is None


async def test_a_page_asking_for_a_malformed_province_is_refused_after_who_may_read():
    uow = stored()
    with pytest.raises(NotAProvinceCode):
        await deliveries.overview(uow, principal=ADMIN, filters=Filters(province="9"), limit=10)
    with pytest.raises(DeliveriesNotVisible):  # an operator learns nothing about other codes
        await deliveries.overview(uow, principal=OPERATOR, filters=Filters(province="9"), limit=10)


async def test_the_overview_counts_every_status_and_offers_the_periods_and_units_it_names():
    rows = [
        delivery("sent", period="2019-05", created_at=EPOCH.replace(day=2)),
        delivery("failed", unit="STP", created_at=EPOCH.replace(day=3)),
        delivery("failed", created_at=EPOCH.replace(day=4)),
    ]
    uow = stored(*rows, delivery(province="01"))
    await uow.catalog.upsert_province(
        ProvinceV1(code="30", name="Tỉnh Hải Dương", issuing_body="BCĐ", place_name="Hải Dương")
    )
    found = await deliveries.overview(
        uow, principal=OPERATOR, filters=Filters(province="30", status="failed"), limit=10
    )
    assert found.by_status == {"pending": 0, "sent": 1, "failed": 2}
    assert found.rows == [rows[2], rows[1]]  # newest first
    assert (found.place.name, found.choices.periods, found.choices.units) == (
        "Tỉnh Hải Dương", ["2019-06", "2019-05"], [("STP", "STP"), ("SYT", "SYT")],
    )  # fmt: skip
    assert found.may_resend


async def test_the_national_reader_picks_from_the_catalogues_provinces_and_those_with_deliveries():
    uow = stored(delivery(province="01"))
    await uow.catalog.upsert_province(ProvinceV1(code="30", name="Tỉnh Hải Dương", issuing_body="B", place_name="H"))
    assert await deliveries.provinces(uow, principal=NATIONAL) == [("01", "Tỉnh mã 01"), ("30", "Tỉnh Hải Dương")]


@pytest.mark.parametrize("sender", [OPERATOR, ADMIN])
async def test_the_provinces_operator_or_an_admin_sends_a_failed_delivery_again(sender):
    failed = delivery("failed")
    uow = stored(failed)
    again = await deliveries.resend(uow, principal=sender, delivery_id=failed.id, now=NOW)
    assert again.id == failed.id and again.status == "pending"  # how it is queued again is the SQL's (test_pages)


@pytest.mark.parametrize("status", ["pending", "sent"])
async def test_only_a_failed_delivery_is_sent_again(status):
    other = delivery(status)
    uow = stored(other)
    with pytest.raises(NotResendable) as refused:
        await deliveries.resend(uow, principal=OPERATOR, delivery_id=other.id, now=NOW)
    assert isinstance(refused.value, Conflict) and refused.value.status == status
    assert refused.value.message == f"This delivery is {status}, not failed: only a failed delivery can be sent again."
    assert refused.value.details == {"status": status}
    assert uow.deliveries.rows[other.id] == other


@pytest.mark.parametrize("sender", [NATIONAL, FOREIGN_OPERATOR, REPORTER])
async def test_only_the_provinces_own_operators_and_admins_send_again(sender):
    failed = delivery("failed")
    uow = stored(failed)
    with pytest.raises(ResendNotAllowed) as refused:
        await deliveries.resend(uow, principal=sender, delivery_id=failed.id, now=NOW)
    assert isinstance(refused.value, Forbidden) and refused.value.province == "30"
    assert refused.value.message == "Only the province's own operators and admins may send a delivery again."
    assert uow.deliveries.rows[failed.id].status == "failed"


async def test_sending_again_what_does_not_exist():
    with pytest.raises(DeliveryNotFound):
        await deliveries.resend(stored(), principal=ADMIN, delivery_id=uuid.uuid4(), now=NOW)


def test_a_stored_delivery_and_message_have_every_column_of_their_tables():
    assert [f.name for f in dataclasses.fields(Delivery)] == [c.name for c in orm.deliveries.c]
    assert [f.name for f in dataclasses.fields(InboxMessage)] == [c.name for c in orm.inbox_messages.c]
