"""Who gets a notice, what waits for the catalogue, and that each (event, recipient, channel) is delivered once:
the notice use cases on in-memory repositories."""

import uuid
from datetime import UTC, datetime

from baocao_shared.events.catalog import ContactV1, ProvinceV1, UnitV1
from baocao_shared.events.deadlines import DEADLINE_MISSED, ESCALATION_RAISED, REMINDER_DUE, EscalationV1, UnitNoticeV1
from baocao_shared.events.reports import REPORT_APPROVED, REPORT_PUBLISHED, ConsolidatedReportV1, ReportStatusV1
from notify.config import Settings
from notify.consumers import notice_use_cases
from notify.domain.cause import Cause
from notify.handlers import catalog, notices
from notify.handlers.published import report_published
from services.notify.tests.unit.fakes import FakeNotifyUnitOfWork

DUE = datetime(2019, 6, 15, 17, tzinfo=UTC)  # 00:00 on 16/06/2019 in Vietnam
URLS = {"intake": "http://intake.test", "deadlines": "http://deadlines.test"}
NATIONAL = [ContactV1(channel="inbox", address="national"), ContactV1(channel="email", address="vptt@gov.vn")]


def email(address: str) -> ContactV1:
    return ContactV1(channel="email", address=address)


def province(**changes) -> ProvinceV1:
    values = {"code": "30", "name": "Tỉnh Hải Dương", "issuing_body": "BAN CHỈ ĐẠO", "place_name": "Hải Dương"}
    return ProvinceV1(**{**values, "operator_contacts": [email("thuongtruc@hd.gov.vn")], **changes})


def unit(code: str = "SYT", *contacts: ContactV1) -> UnitV1:
    return UnitV1(province="30", code=code, name=f"Sở {code}", kind="member", contacts=list(contacts))


def reminder(unit_code: str = "SYT", kind: str = "reminder") -> UnitNoticeV1:
    return UnitNoticeV1(
        province="30", plan_id="467", period="2019-06", unit=unit_code, unit_name=f"Sở {unit_code}", due_at=DUE,
        kind=kind, sequence=0, fire_at=datetime(2019, 6, 14, 1, tzinfo=UTC),
    )  # fmt: skip


def digest() -> EscalationV1:
    return EscalationV1(
        province="30", plan_id="467", period="2019-06", due_at=DUE, fire_at=datetime(2019, 6, 16, 1, tzinfo=UTC),
        expected=2, missing_units=[{"unit": "SYT", "unit_name": "Sở SYT"}],
    )  # fmt: skip


def approved() -> ReportStatusV1:
    return ReportStatusV1(
        province="30", plan_id="467", period="2019-06", status="approved", revision=2,
        at=datetime(2019, 6, 20, 3, tzinfo=UTC), by="thuongtruc-30",
    )  # fmt: skip


def published() -> ConsolidatedReportV1:
    return ConsolidatedReportV1.model_construct(
        province="30", province_name="Tỉnh Hải Dương", plan_id="467", period="2019-06",
        published_at=datetime(2019, 6, 21, 3, tzinfo=UTC), approved_at=datetime(2019, 6, 20, 3, tzinfo=UTC),
    )  # fmt: skip


# The consumer's own map of who is told of what, also for the notices the catalogue releases.
TOLD = notice_use_cases(Settings(database_url="postgresql+asyncpg://u@127.0.0.1/x", service_urls=URLS))


def cause_of(spec) -> Cause:
    return TOLD.cause(uuid.uuid4(), spec.type)


def sent_to(uow: FakeNotifyUnitOfWork) -> set[tuple[str, str, str]]:
    """(event type, channel, recipient) of every recorded delivery."""
    return {(d.cause_type, d.channel, d.recipient) for d in uow.deliveries.rows.values()}


async def test_a_reminder_goes_to_the_units_own_reachable_contacts_once_each():
    uow = FakeNotifyUnitOfWork()
    await uow.catalog.upsert_province(province())
    contacts = [email("vanthu@syt.gov.vn"), email(" VANTHU@syt.gov.vn"), ContactV1(channel="inbox", address="syt")]
    await uow.catalog.upsert_unit(unit("SYT", *contacts))
    await uow.catalog.upsert_unit(unit("STP", email("vanthu@stp.gov.vn")))
    added = await notices.unit_notice(uow, reminder("SYT"), cause=cause_of(REMINDER_DUE))
    assert added == 2
    assert sent_to(uow) == {(REMINDER_DUE.type, "email", "vanthu@syt.gov.vn"), (REMINDER_DUE.type, "inbox", "syt")}
    [first, *_] = uow.deliveries.rows.values()
    assert first.subject == "[Nhắc hạn] Báo cáo tháng 06/2019 của Sở SYT: hạn 00:00 ngày 16/06/2019"
    assert (first.status, first.unit, first.province) == ("pending", "SYT", "30")
    assert "http://intake.test/dang-nhap" in first.body_text
    assert uow.waiting.rows == {}


async def test_a_digest_and_an_approved_report_go_to_the_provinces_operators_not_to_units():
    uow = FakeNotifyUnitOfWork()
    await uow.catalog.upsert_province(province())
    await uow.catalog.upsert_unit(unit("SYT", email("vanthu@syt.gov.vn")))
    await notices.escalation(uow, digest(), cause=cause_of(ESCALATION_RAISED))
    await notices.report_approved(uow, approved(), cause=cause_of(REPORT_APPROVED))
    assert sent_to(uow) == {
        (ESCALATION_RAISED.type, "email", "thuongtruc@hd.gov.vn"),
        (REPORT_APPROVED.type, "email", "thuongtruc@hd.gov.vn"),
    }
    subjects = sorted(d.subject for d in uow.deliveries.rows.values())
    assert subjects == [
        "[Tổng hợp] 1 đơn vị chưa gửi báo cáo tháng 06/2019",
        "[Đã duyệt] Báo cáo tổng hợp tháng 06/2019 của Tỉnh Hải Dương",
    ]


async def test_a_published_report_goes_to_the_national_office_and_never_waits_for_the_province():
    uow = FakeNotifyUnitOfWork()  # the catalogue knows nothing
    cause = cause_of(REPORT_PUBLISHED)
    added = await report_published(uow, published(), cause=cause, national_contacts=NATIONAL)
    assert added == 2 and uow.waiting.rows == {}
    assert sent_to(uow) == {
        (REPORT_PUBLISHED.type, "inbox", "national"),
        (REPORT_PUBLISHED.type, "email", "vptt@gov.vn"),
    }
    assert all(d.subject == "[Đã gửi] Báo cáo tháng 06/2019 của Tỉnh Hải Dương" for d in uow.deliveries.rows.values())


async def test_a_notice_for_an_unknown_unit_or_province_waits_and_sends_nothing():
    uow = FakeNotifyUnitOfWork()
    assert await notices.unit_notice(uow, reminder("SYT"), cause=cause_of(REMINDER_DUE)) == 0
    assert await notices.escalation(uow, digest(), cause=cause_of(ESCALATION_RAISED)) == 0
    assert await notices.report_approved(uow, approved(), cause=cause_of(REPORT_APPROVED)) == 0
    assert uow.deliveries.rows == {}
    assert uow.waiting.waiting_for() == {
        REMINDER_DUE.type: "SYT",
        ESCALATION_RAISED.type: None,
        REPORT_APPROVED.type: None,
    }


async def test_a_known_unit_without_contacts_gets_nothing_and_nothing_waits():
    uow = FakeNotifyUnitOfWork()
    await uow.catalog.upsert_unit(unit("SYT"))
    await uow.catalog.upsert_province(province(operator_contacts=[]))
    assert await notices.unit_notice(uow, reminder("SYT"), cause=cause_of(REMINDER_DUE)) == 0
    assert await notices.escalation(uow, digest(), cause=cause_of(ESCALATION_RAISED)) == 0
    assert uow.deliveries.rows == {} and uow.waiting.rows == {}


async def test_the_units_upsert_releases_its_own_notices_under_their_own_event_ids():
    uow = FakeNotifyUnitOfWork()
    await uow.catalog.upsert_province(province())
    waiting_reminder, other_units = cause_of(REMINDER_DUE), cause_of(DEADLINE_MISSED)
    await notices.unit_notice(uow, reminder("SYT"), cause=waiting_reminder)
    await notices.unit_notice(uow, reminder("STP", kind="overdue"), cause=other_units)

    released = await catalog.unit_upserted(uow, unit("SYT", email("vanthu@syt.gov.vn")), notices=TOLD)
    assert released == 1
    [delivery] = uow.deliveries.rows.values()
    assert (delivery.cause_event_id, delivery.cause_type, delivery.recipient) == (
        waiting_reminder.event_id, REMINDER_DUE.type, "vanthu@syt.gov.vn",
    )  # fmt: skip
    assert uow.waiting.waiting_for() == {DEADLINE_MISSED.type: "STP"}  # another unit's notice still waits
    assert await uow.catalog.unit("30", "SYT") is not None


async def test_the_provinces_upsert_releases_the_digest_but_not_a_units_reminder():
    uow = FakeNotifyUnitOfWork()
    await notices.escalation(uow, digest(), cause=cause_of(ESCALATION_RAISED))
    await notices.unit_notice(uow, reminder("SYT"), cause=cause_of(REMINDER_DUE))
    assert await catalog.province_upserted(uow, province(), notices=TOLD) == 1
    assert sent_to(uow) == {(ESCALATION_RAISED.type, "email", "thuongtruc@hd.gov.vn")}
    assert uow.waiting.waiting_for() == {REMINDER_DUE.type: "SYT"}


async def test_copies_of_one_event_are_delivered_once_also_when_they_waited():
    uow = FakeNotifyUnitOfWork()
    cause = cause_of(REMINDER_DUE)
    for _ in range(2):  # a redelivered record carries the same event id: it is kept once
        await notices.unit_notice(uow, reminder("SYT"), cause=cause)
    assert len(uow.waiting.rows) == 1
    await catalog.unit_upserted(uow, unit("SYT", email("vanthu@syt.gov.vn")), notices=TOLD)
    assert await notices.unit_notice(uow, reminder("SYT"), cause=cause) == 0  # a third copy, after the release
    assert len(uow.deliveries.rows) == 1
    # A second event of the same kind is a second notice.
    assert await notices.unit_notice(uow, reminder("SYT"), cause=cause_of(REMINDER_DUE)) == 1
