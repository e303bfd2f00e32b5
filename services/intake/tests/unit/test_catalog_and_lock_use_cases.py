"""Loading a province file, reading the catalogue, and period locks, on the in-memory unit of work."""

import pytest

from baocao_shared.events.catalog import PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED
from baocao_shared.events.reports import ReportStatusV1
from baocao_shared.principal import Principal, Role
from intake.consumers import report_accepted, report_reopened, report_returned
from intake.domain.catalog import ProvinceCatalog
from intake.domain.errors import PeriodNotLocked, ProvinceNotFound
from intake.handlers import catalog, locks

LOCK = {"province": "30", "plan_id": "hd-467-2019", "period": "2019-06", "actor": "admin", "reason": "đã phát hành"}
OUTSIDER = Principal(subject="01-CA", role=Role.REPORTER, province="01", unit="CA")


@pytest.fixture
def empty(uow):
    uow.catalog.docs = {"province": {}, "unit": {}, "plan": {}}
    return uow


async def test_a_new_province_file_publishes_each_entity_in_order_and_is_audited(empty, hai_duong, hai_phong, now):
    empty.catalog.add(*hai_phong.entities())  # its successors, stored already
    summary = await catalog.load_province(empty, hai_duong, actor="admin", now=now)
    assert (len(summary["created"]), summary["updated"], summary["unchanged"]) == (31, [], 0)
    assert [p.spec for p in empty.published] == [PROVINCE_UPSERTED] + [UNIT_UPSERTED] * 29 + [PLAN_UPSERTED]
    [audit] = empty.audited
    assert (audit["action"], audit["subject"]) == ("catalog.load", "province:30")
    assert "unchanged" not in audit["details"]


async def test_the_same_file_again_changes_nothing_and_a_dropped_unit_is_retired(uow, hai_duong, hai_phong, now):
    uow.catalog.add(*hai_phong.entities())
    again = await catalog.load_province(uow, hai_duong, actor="admin", now=now)
    assert again["unchanged"] == 31 and uow.published == [] and uow.audited == []
    fewer = ProvinceCatalog(hai_duong.province, [u for u in hai_duong.units if u.code != "BTG"], hai_duong.plans)
    summary = await catalog.load_province(uow, fewer, actor="admin", now=now)
    assert summary["retired"] == ["unit:BTG"]
    [retired] = uow.events_of(UNIT_UPSERTED)
    assert (retired.code, retired.active) == ("BTG", False)


async def test_contacts_only_for_those_who_may_see_them(uow):
    [province] = await catalog.provinces(uow, principal=OUTSIDER)
    assert province.operator_contacts == []
    operator = Principal(subject="op-30", role=Role.PROVINCE_OPERATOR, province="30")
    assert (await catalog.provinces(uow, principal=operator))[0].operator_contacts
    reporter = Principal(subject="30-CA", role=Role.REPORTER, province="30", unit="CA")
    units = {u.code: u for u in await catalog.units(uow, principal=reporter, province="30")}
    assert units["CA"].contacts and units["BTG"].contacts == [], "a reporter sees its own unit's contacts only"


async def test_an_unknown_province_is_404_and_a_known_one_without_plans_is_empty(uow):
    with pytest.raises(ProvinceNotFound):
        await catalog.plans(uow, province="31")
    uow.catalog.docs["plan"] = {}
    assert await catalog.plans(uow, province="30") == []


async def test_a_lock_is_audited_once_and_a_reopen_needs_a_lock(uow, now):
    assert (await locks.lock(uow, **LOCK, now=now))["locked"] is True
    await locks.lock(uow, **LOCK, now=now)
    assert [a["action"] for a in uow.audited] == ["period.locked"]
    assert uow.audited[0]["subject"] == "period:30.hd-467-2019.2019-06"
    assert (await locks.reopen(uow, **LOCK, now=now))["locked"] is False
    with pytest.raises(PeriodNotLocked):
        await locks.reopen(uow, **LOCK, now=now)
    assert [a["action"] for a in uow.audited] == ["period.locked", "period.reopened"]


async def test_a_reopened_report_of_an_open_period_is_ignored(uow, now):
    change = ReportStatusV1.model_validate(
        {
            "province": "30",
            "plan_id": "hd-467-2019",
            "period": "2019-06",
            "status": "reopened",
            "revision": 2,
            "by": "op-30",
            "at": now,
        }
    )
    await report_reopened(uow, change)
    assert uow.audited == []


def national_answer(status: str, now, reason: str | None = None) -> ReportStatusV1:
    return ReportStatusV1(
        province="30", plan_id="hd-467-2019", period="2019-06", status=status, revision=2, by="vpttt", at=now,
        reason=reason,
    )  # fmt: skip


async def test_a_returned_report_unlocks_as_a_reopen_and_an_accepted_one_locks_for_good(uow, now):
    await locks.lock(uow, **LOCK, now=now)
    await report_returned(uow, national_answer("draft", now, "Thiếu số liệu"))
    assert not await uow.locks.is_locked("30", "hd-467-2019", "2019-06")
    await report_returned(uow, national_answer("draft", now, "Thiếu số liệu"))  # a replay changes nothing
    await report_accepted(uow, national_answer("accepted", now))  # even a lock lifted by hand comes back
    assert await uow.locks.is_locked("30", "hd-467-2019", "2019-06")
    assert [(a["action"], a["actor"]) for a in uow.audited] == [
        ("period.locked", "admin"), ("period.reopened", "vpttt"), ("period.locked", "vpttt"),
    ]  # fmt: skip
    assert uow.audited[1]["details"]["reason"] == "Văn phòng Thường trực trả lại báo cáo: Thiếu số liệu"
