"""The submission API on a real database and broker: what an API client of a unit sees."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from baocao_shared.events import CloudEvent
from baocao_shared.events.topics import SUBMISSIONS
from baocao_testing.kit import read_topic, wait_until
from intake.adapters import orm
from intake.domain.catalog import parse_province_file

pytestmark = [pytest.mark.integration, pytest.mark.hai_duong_in_june]
REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
PLAN = HAI_DUONG.plans[0].id
FIGURES = {i.code: n for n, i in enumerate((i for t in HAI_DUONG.plans[0].template.tasks for i in t.indicators), 1)}


def report(unit: str = "CA", period: str = "2019-06", **figures) -> dict:
    return {
        "plan_id": PLAN,
        "unit": unit,
        "period": period,
        "values": {**FIGURES, **figures},
        "narratives": {"T1": "Tổ chức 3 hội nghị quán triệt Chỉ thị 44, Thông báo 46.", "next_month": "Tiếp tục."},
    }


async def events_for(kafka, submission_id: str, count: int) -> list:
    async def arrived():
        found = [
            (r, CloudEvent.from_bytes(r.value))
            for r in await read_topic(kafka.bootstrap, SUBMISSIONS)
            if submission_id.encode() in r.value
        ]
        return found if len(found) >= count else None

    return await wait_until(arrived, timeout=20, what=f"{count} event(s) for {submission_id}")


async def test_an_accepted_report_is_published_once_with_its_key_envelope_and_content(intake, kafka):
    headers = await intake.headers_for("reporter", "30", "CA")
    answer = await intake.client.post("/v1/submissions", json=report(), headers=headers)
    assert answer.status_code == 201, answer.text
    receipt = answer.json()
    assert receipt["version"] == 1 and receipt["status"] == "received"
    assert receipt["received_at"].startswith("2019-06-10T03:00")

    [(record, event)] = await events_for(kafka, receipt["id"], 1)
    await asyncio.sleep(0.5)
    assert len(await events_for(kafka, receipt["id"], 1)) == 1, "exactly one event per accepted submission"
    assert record.key == b"30.CA"
    assert event.type == "vn.baocao.submission.received.v1" and event.source == "/baocao/intake"
    assert event.province == "30" and event.subject == "30/CA/2019-06"
    assert event.data["values"] == FIGURES and event.data["version"] == 1
    assert event.data["narratives"]["T1"].startswith("Tổ chức 3 hội nghị")
    assert event.data["submitted_by"] == "test-reporter-30-CA"


async def test_the_same_idempotency_key_replays_and_a_different_body_conflicts(intake):
    headers = {**await intake.headers_for("reporter", "30", "CA"), "Idempotency-Key": "ca-2019-06-first"}
    first = await intake.client.post("/v1/submissions", json=report(), headers=headers)
    again = await intake.client.post("/v1/submissions", json=report(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    other = await intake.client.post("/v1/submissions", json=report(t1_sessions=99), headers=headers)
    assert other.status_code == 409 and other.json()["error"]["code"] == "conflict"
    async with intake.transaction() as db:
        assert await db.scalar(select(func.count()).select_from(orm.submissions)) == 1
        assert await db.scalar(select(func.count()).select_from(orm.outbox)) == 1


async def test_concurrent_requests_with_one_key_store_one_report(intake):
    headers = {**await intake.headers_for("reporter", "30", "CA"), "Idempotency-Key": "double-click"}
    answers = await asyncio.gather(
        *[intake.client.post("/v1/submissions", json=report(), headers=headers) for _ in range(5)]
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    async with intake.transaction() as db:
        assert await db.scalar(select(func.count()).select_from(orm.submissions)) == 1


async def test_a_second_report_for_the_same_period_points_to_the_amendment(intake):
    headers = await intake.headers_for("reporter", "30", "CA")
    first = (await intake.client.post("/v1/submissions", json=report(), headers=headers)).json()
    second = await intake.client.post("/v1/submissions", json=report(), headers=headers)
    assert second.status_code == 409
    assert second.json()["error"]["details"] == {"submission_id": first["id"]}


async def test_an_amendment_makes_version_two_with_its_audit_and_event(intake, kafka):
    headers = await intake.headers_for("reporter", "30", "CA")
    first = (await intake.client.post("/v1/submissions", json=report(), headers=headers)).json()
    amended = await intake.client.put(
        f"/v1/submissions/{first['id']}",
        json={"values": {**FIGURES, "t5_articles": 12}, "narratives": {"T1": "Đã sửa."}, "base_version": 1},
        headers=headers,
    )
    assert amended.status_code == 200, amended.text
    assert amended.json()["version"] == 2 and amended.json()["status"] == "amended"
    stale = await intake.client.put(
        f"/v1/submissions/{first['id']}", json={"values": FIGURES, "base_version": 1}, headers=headers
    )
    assert stale.status_code == 409 and stale.json()["error"]["details"] == {"current_version": 2}

    detail = (await intake.client.get(f"/v1/submissions/{first['id']}", headers=headers)).json()
    assert detail["version"] == 2 and detail["values"]["t5_articles"] == 12
    assert [h["version"] for h in detail["history"]] == [1, 2]
    assert detail["history"][1]["changes"] == {
        "figures": {"t5_articles": {"from": FIGURES["t5_articles"], "to": 12}},
        "narratives": ["T1", "next_month"],
    }
    events = [e for _, e in await events_for(kafka, first["id"], 2)]
    assert [(e.type, e.data["version"]) for e in events] == [
        ("vn.baocao.submission.received.v1", 1),
        ("vn.baocao.submission.amended.v1", 2),
    ]
    assert events[1].data["first_received_at"] == events[0].data["received_at"]
    async with intake.transaction() as db:
        actions = (
            (
                await db.execute(
                    select(orm.audit_log.c.action)
                    .where(orm.audit_log.c.subject == f"submission:{first['id']}")
                    .order_by(orm.audit_log.c.id)
                )
            )
            .scalars()
            .all()
        )
    assert actions == ["submission.received", "submission.amended"]


async def test_invalid_reports_get_422_with_each_field_named(intake):
    headers = await intake.headers_for("reporter", "30", "CA")
    bad = report(t1_sessions=-2)
    bad["values"]["made_up"] = 1
    answer = await intake.client.post("/v1/submissions", json=bad, headers=headers)
    assert answer.status_code == 422
    details = {tuple(d["loc"]): d["type"] for d in answer.json()["error"]["details"]}
    assert details == {
        ("body", "values", "t1_sessions"): "negative_figure",
        ("body", "values", "made_up"): "unknown_indicator",
    }
    outside = await intake.client.post("/v1/submissions", json=report(period="2019-04"), headers=headers)
    assert outside.status_code == 422
    assert outside.json()["error"]["details"][0]["type"] == "period_outside_plan"
    broken = await intake.client.post(
        "/v1/submissions", content=b"{not json", headers={**headers, "Content-Type": "application/json"}
    )
    assert broken.status_code == 422
    async with intake.transaction() as db:
        assert await db.scalar(select(func.count()).select_from(orm.submissions)) == 0


async def test_a_malformed_period_gets_422_for_a_unit_with_bounds_of_validity(intake):
    # Every Hải Dương unit ends with 2025-06: a malformed period is refused before it is compared with those bounds.
    assert next(u for u in HAI_DUONG.units if u.code == "CA").valid_to == "2025-06"
    headers = await intake.headers_for("reporter", "30", "CA")
    answer = await intake.client.post("/v1/submissions", json=report(period="2019-Qx"), headers=headers)
    assert answer.status_code == 422, answer.text
    message = "Kỳ báo cáo '2019-Qx' không đúng dạng (ví dụ 2019-06)."
    assert answer.json()["error"]["details"] == [{"loc": ["body", "period"], "msg": message, "type": "period_format"}]


async def test_a_body_over_256_kib_gets_413_and_stores_nothing(intake):
    headers = await intake.headers_for("reporter", "30", "CA")
    huge = report()
    huge["narratives"]["T2"] = "x" * (257 * 1024)
    answer = await intake.client.post("/v1/submissions", json=huge, headers=headers)
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "payload_too_large"
    async with intake.transaction() as db:
        assert await db.scalar(select(func.count()).select_from(orm.submissions)) == 0


async def test_another_units_or_provinces_data_gets_403(intake):
    ca = await intake.headers_for("reporter", "30", "CA")
    own = (await intake.client.post("/v1/submissions", json=report(), headers=ca)).json()
    assert (await intake.client.post("/v1/submissions", json=report(unit="BTG"), headers=ca)).status_code == 403
    btg = await intake.headers_for("reporter", "30", "BTG")
    hanoi = await intake.headers_for("reporter", "01", "CA")
    for other in (btg, hanoi):
        assert (await intake.client.get(f"/v1/submissions/{own['id']}", headers=other)).status_code == 403
        amend = await intake.client.put(f"/v1/submissions/{own['id']}", json={"values": FIGURES}, headers=other)
        assert amend.status_code == 403
    listed = await intake.client.get("/v1/submissions", params={"unit": "CA"}, headers=btg)
    assert listed.status_code == 403
    mine = await intake.client.get("/v1/submissions", headers=btg)
    assert mine.status_code == 200 and mine.json() == []


async def test_a_submission_under_another_provinces_plan_or_an_unknown_one_is_refused_by_name(intake):
    hanoi = await intake.headers_for("reporter", "01", "CA")
    foreign = await intake.client.post("/v1/submissions", json=report(), headers=hanoi)
    assert foreign.status_code == 403, foreign.text
    assert f"Plan {PLAN} belongs to province 30" in foreign.json()["error"]["message"]
    ca = await intake.headers_for("reporter", "30", "CA")
    unknown = await intake.client.post("/v1/submissions", json={**report(), "plan_id": "no-such-plan"}, headers=ca)
    assert unknown.status_code == 422
    details = unknown.json()["error"]["details"]
    assert [(d["loc"], d["type"]) for d in details] == [(["body", "plan_id"], "unknown_plan")]
    async with intake.transaction() as db:
        assert await db.scalar(select(func.count()).select_from(orm.submissions)) == 0


async def test_a_units_api_token_submits_and_its_use_is_recorded_even_when_a_request_is_refused(intake):
    admin = await intake.headers_for("admin")
    issued = (await intake.client.post("/v1/units/30/CA/api-tokens", json={"label": "máy"}, headers=admin)).json()
    as_token = {"Authorization": f"Bearer {issued['token']}"}
    missing_figure = {**report(), "values": {}}
    refused = await intake.client.post("/v1/submissions", json=missing_figure, headers=as_token)
    assert refused.status_code == 422
    [listed] = (await intake.client.get("/v1/units/30/CA/api-tokens", headers=admin)).json()
    assert listed["last_used_at"] is not None, "the refused request still counts as the token's use"
    accepted = await intake.client.post("/v1/submissions", json=report(), headers=as_token)
    assert accepted.status_code == 201, accepted.text
    stored = (await intake.client.get(f"/v1/submissions/{accepted.json()['id']}", headers=as_token)).json()
    assert stored["submitted_by"] == f"token:{issued['id']}" and stored["values"] == FIGURES


async def test_a_locked_period_refuses_changes_until_an_audited_reopen(intake):
    ca = await intake.headers_for("reporter", "30", "CA")
    admin = await intake.headers_for("admin")
    first = (await intake.client.post("/v1/submissions", json=report(), headers=ca)).json()
    lock_url = f"/v1/admin/locks/30/{PLAN}/2019-06"
    assert (await intake.client.put(lock_url, json={"reason": "Đã phát hành"}, headers=admin)).status_code == 200
    amend = await intake.client.put(f"/v1/submissions/{first['id']}", json={"values": FIGURES}, headers=ca)
    assert amend.status_code == 409 and "locked" in amend.json()["error"]["message"]
    btg = await intake.headers_for("reporter", "30", "BTG")
    assert (await intake.client.post("/v1/submissions", json=report(unit="BTG"), headers=btg)).status_code == 409
    assert (await intake.client.get(f"/v1/submissions/{first['id']}", headers=ca)).json()["locked"] is True
    reopen = await intake.client.request(
        "DELETE", lock_url, json={"reason": "Đơn vị xin bổ sung số liệu"}, headers=admin
    )
    assert reopen.status_code == 200
    amend = await intake.client.put(f"/v1/submissions/{first['id']}", json={"values": FIGURES}, headers=ca)
    assert amend.status_code == 200
    async with intake.transaction() as db:
        rows = (
            await db.execute(
                select(orm.audit_log.c.action, orm.audit_log.c.actor, orm.audit_log.c.details)
                .where(orm.audit_log.c.action.like("period.%"))
                .order_by(orm.audit_log.c.id)
            )
        ).all()
    assert [(r.action, r.actor, r.details["reason"]) for r in rows] == [
        ("period.locked", "test-admin", "Đã phát hành"),
        ("period.reopened", "test-admin", "Đơn vị xin bổ sung số liệu"),
    ]


async def test_an_unknown_submission_is_404(intake):
    headers = await intake.headers_for("reporter", "30", "CA")
    answer = await intake.client.get(f"/v1/submissions/{uuid.uuid4()}", headers=headers)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


async def test_a_plan_changed_in_the_catalogue_is_read_anew_by_the_next_submission(intake):
    """The plan is validated once per stored version: a change of its row (here: retired) is seen at once."""
    ca = await intake.headers_for("reporter", "30", "CA")
    assert (await intake.client.post("/v1/submissions", json=report(), headers=ca)).status_code == 201
    async with intake.transaction() as db:
        await db.execute(
            orm.plans.update()
            .where(orm.plans.c.province == "30", orm.plans.c.id == PLAN)
            .values(active=False, doc=orm.plans.c.doc.concat(func.jsonb_build_object("active", False)))
        )
    refused = await intake.client.post("/v1/submissions", json=report(period="2019-07"), headers=ca)
    assert refused.status_code == 422, refused.text
    assert [d["type"] for d in refused.json()["error"]["details"]] == ["unknown_plan"]
