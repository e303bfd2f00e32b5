"""The national level's notices (issue 18 §1): a province's reminder, overdue notice and the national office's nudge
go to the province's operators; the digest of the provinces missing goes to the national standing office."""

import uuid
from datetime import UTC, datetime

from baocao_shared.events.catalog import ContactV1
from baocao_shared.events.deadlines import (
    NATIONAL_ESCALATION_RAISED,
    PROVINCE_DEADLINE_MISSED,
    PROVINCE_NUDGE_REQUESTED,
    PROVINCE_REMINDER_DUE,
    MissingProvinceV1,
    NationalEscalationV1,
    ProvinceNoticeV1,
)
from notify.config import Settings
from notify.consumers import notice_use_cases
from services.notify.tests.unit.fakes import FakeNotifyUnitOfWork
from services.notify.tests.unit.test_notices import province

PROVINCE_DUE = datetime(2026, 11, 19, 17, tzinfo=UTC)  # 00:00 on 20/11/2026 in Vietnam
URLS = {"consolidation": "http://consolidation.test", "deadlines": "http://deadlines.test"}
NATIONAL = [ContactV1(channel="inbox", address="national"), ContactV1(channel="email", address="vptt@gov.vn")]
TOLD = notice_use_cases(
    Settings(database_url="postgresql+asyncpg://u@127.0.0.1/x", service_urls=URLS, national_contacts=NATIONAL)
)


def notice(kind: str, **changes) -> ProvinceNoticeV1:
    values = {
        "province": "30", "province_name": "Tỉnh Hải Dương", "plan_id": "467", "period": "2026-11",
        "due_at": PROVINCE_DUE, "kind": kind, "sequence": 0, "fire_at": datetime(2026, 11, 20, 1, tzinfo=UTC),
    }  # fmt: skip
    return ProvinceNoticeV1(**{**values, **changes})


async def told(uow, spec, data) -> int:
    return await TOLD.use_cases[spec.type](uow, data, cause=TOLD.cause(uuid.uuid4(), spec.type))


async def test_a_provinces_reminder_overdue_notice_and_nudge_reach_its_operators():
    uow = FakeNotifyUnitOfWork()
    await uow.catalog.upsert_province(province())
    assert await told(uow, PROVINCE_REMINDER_DUE, notice("reminder")) == 1
    assert await told(uow, PROVINCE_DEADLINE_MISSED, notice("overdue", late_by_s=8 * 3600)) == 1
    assert await told(uow, PROVINCE_NUDGE_REQUESTED, notice("nudge", message="Đề nghị gửi ngay.")) == 1
    rows = list(uow.deliveries.rows.values())
    assert {(d.channel, d.recipient, d.province) for d in rows} == {("email", "thuongtruc@hd.gov.vn", "30")}
    assert [d.subject for d in rows] == [
        "[Nhắc hạn] Báo cáo tổng hợp tháng 11/2026 của Tỉnh Hải Dương: hạn 00:00 ngày 20/11/2026",
        "[Quá hạn] Tỉnh Hải Dương chưa gửi báo cáo tổng hợp tháng 11/2026",
        "[Đôn đốc] Tỉnh Hải Dương: đề nghị gửi báo cáo tổng hợp tháng 11/2026",
    ]
    assert "đã quá hạn 8 giờ" in rows[1].body_text
    assert "Lời nhắn: Đề nghị gửi ngay." in rows[2].body_text
    assert "http://consolidation.test/tong-hop/30/2026-11?plan_id=467" in rows[0].body_text


async def test_a_provinces_notice_waits_for_a_province_the_catalogue_does_not_know_yet():
    uow = FakeNotifyUnitOfWork()
    assert await told(uow, PROVINCE_REMINDER_DUE, notice("reminder")) == 0
    assert uow.deliveries.rows == {} and len(uow.waiting.rows) == 1


async def test_the_national_digest_reaches_the_national_standing_office():
    uow = FakeNotifyUnitOfWork()
    digest = NationalEscalationV1(
        period="2026-11", plan_ids=["467"], due_at=PROVINCE_DUE, fire_at=datetime(2026, 11, 20, 1, tzinfo=UTC),
        expected=3, missing_provinces=[MissingProvinceV1(province="31", province_name="Thành phố Hải Phòng",
                                                         plan_id="hp-2025")],
    )  # fmt: skip
    assert await told(uow, NATIONAL_ESCALATION_RAISED, digest) == 2
    rows = list(uow.deliveries.rows.values())
    assert {(d.channel, d.recipient) for d in rows} == {("inbox", "national"), ("email", "vptt@gov.vn")}
    assert rows[0].subject == "[Tổng hợp] 1 tỉnh, thành phố chưa gửi báo cáo tháng 11/2026"
    said = "1/3 tỉnh, thành phố chưa gửi báo cáo tổng hợp tháng 11/2026 (hạn 00:00 ngày 20/11/2026)"
    assert said in rows[0].body_text
    assert "- Thành phố Hải Phòng (31)" in rows[0].body_text
    assert "http://deadlines.test/tien-do/quoc-gia?period=2026-11" in rows[0].body_text
