"""The inbox use cases read and mark only the caller's own messages; to anyone else a message does not exist."""

import uuid
from datetime import UTC, datetime

import pytest

from baocao_shared.errors import NotFound
from baocao_shared.events.catalog import ProvinceV1
from baocao_shared.principal import Principal, Role
from notify.domain.errors import NotYourMessage
from notify.domain.inbox import InboxMessage
from notify.handlers import inbox
from services.notify.tests.unit.fakes import EPOCH, FakeNotifyUnitOfWork

NOW = datetime(2019, 6, 20, 2, tzinfo=UTC)
SYT = Principal("syt-30", Role.REPORTER, province="30", unit="SYT")
STP = Principal("stp-30", Role.REPORTER, province="30", unit="STP")


def message(recipient: str, *, day: int, read: bool = False) -> InboxMessage:
    at = EPOCH.replace(day=day)
    return InboxMessage(uuid.uuid4(), uuid.uuid4(), recipient, f"Thư {day}", "…", at, at if read else None)


def inbox_of(*messages: InboxMessage) -> FakeNotifyUnitOfWork:
    uow = FakeNotifyUnitOfWork()
    for m in messages:
        uow.inbox.put(m)
    return uow


async def test_the_caller_sees_only_their_own_messages_newest_first_on_their_provinces_clock():
    old, new, theirs = message("syt-30", day=2, read=True), message("syt-30", day=5), message("stp-30", day=4)
    uow = inbox_of(old, new, theirs)
    await uow.catalog.upsert_province(
        ProvinceV1(code="30", name="Tỉnh", issuing_body="B", place_name="H", timezone="Asia/Bangkok")
    )
    shown = await inbox.inbox(uow, principal=SYT, limit=10)
    assert (shown.messages, shown.unread, shown.timezone) == ([new, old], 1, "Asia/Bangkok")
    assert await inbox.messages(uow, principal=STP, limit=10) == [theirs]
    national = await inbox.inbox(uow, principal=Principal("vptt", Role.NATIONAL_OPERATOR), limit=10)
    assert (national.messages, national.timezone) == ([], "Asia/Ho_Chi_Minh")


async def test_marking_read_is_refused_on_another_accounts_message_as_if_it_did_not_exist():
    mine, theirs = message("syt-30", day=5), message("stp-30", day=4)
    uow = inbox_of(mine, theirs)
    with pytest.raises(NotYourMessage) as refused:
        await inbox.mark_read(uow, principal=SYT, message_id=theirs.id, now=NOW)
    assert isinstance(refused.value, NotFound)
    assert refused.value.message == "There is no message with this id in your inbox."
    assert uow.inbox.rows[theirs.id].read_at is None
    # That a second reading keeps the first time is the SQL's (adapters/inbox.py): integration/test_pages.py.


async def test_marking_all_read_counts_and_marks_only_the_callers_unread_messages():
    uow = inbox_of(message("syt-30", day=2, read=True), message("syt-30", day=3), message("stp-30", day=4))
    assert await inbox.mark_all_read(uow, principal=SYT, now=NOW) == 1
    assert await inbox.mark_all_read(uow, principal=SYT, now=NOW) == 0
    assert await uow.inbox.count_unread("stp-30") == 1
