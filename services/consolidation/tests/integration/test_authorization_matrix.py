"""Every consolidation route (API, report pages, workflow forms, national view, ops) x every actor.

Province 53 has a plan of its own (units CA and BTG); 54 is the other province. The rows run in order
through the report's life: read as a draft (the national office may not yet), approved and published
through the API (now the national office reads it), reopened by an admin, then approved and sent through
the page's forms; then the national office answers it: returned through the page and the API (the province
approves and publishes it again each time), and accepted through the API, which is final (its page's form and
the reopen are let in and answer that it is not now).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from baocao_testing.authz import (
    ADMIN_ONLY,
    EVERYONE,
    OPS_READERS,
    PROVINCE_OPERATORS,
    PROVINCE_STAFF,
    PUBLIC_ROUTES,
    Row,
    actors,
    assert_covers,
    assert_matrix,
    minted,
    only,
    ops_rows,
)
from consolidation.adapters import orm
from consolidation.config import Settings
from consolidation.main import create_app
from services.consolidation.tests.kit import HAI_DUONG, province_for_tests, running, seed

pytestmark = pytest.mark.integration
INTAKE = "http://intake.test"
OWN, OTHER = "53", "54"  # no other test's provinces: the app reads the shared broker
ACTORS = actors(OWN, "CA", "BTG", OTHER, "CA")
PLAN = HAI_DUONG.plans[0].model_copy(
    update={"province": OWN, "units": ["CA", "BTG"], "id": f"az-{uuid.uuid4().hex[:8]}"}
)
DRAFT_READERS = PROVINCE_OPERATORS  # the national office reads a province's report once it is published
NATIONAL_OFFICE = only("national", "admin")  # accept or return a province's published report


@pytest.fixture(scope="module")
async def consolidation(postgres, kafka):
    start = datetime(2019, 6, 20, 3, tzinfo=UTC)
    async with running(postgres, kafka, clock_start=start, service_urls={"intake": INTAKE}) as (app, mint):
        await seed(app, [province_for_tests(code) for code in (OWN, OTHER)], units=["CA", "BTG"], plans=[PLAN])
        async with app.state.runtime.sessionmaker() as db, db.begin():
            # An audited act of the other province, which province 53's operator must not be shown.
            audited = {"actor": "test-admin", "action": "report.reopened", "details": {"reason": "kiểm thử"}}
            await db.execute(orm.audit_log.insert().values(at=start, subject=f"report:{OTHER}.x.2019-06", **audited))
        yield app, mint


def status_is(status: str):
    def check(actor: str, answer) -> str | None:
        found = answer.json().get("status")
        return None if found == status else f"the report is {found}, expected {status}"

    return check


def state_is(actor: str, answer) -> str | None:
    """June 2019 on 20 June: past its deadline (the 16th), before its close (the 25th)."""
    found = answer.json().get("state")
    return None if found == "overdue" else f"the period is {found}, expected overdue"


def operators_own_report(actor: str, answer) -> str | None:
    """The start page sends an operator to their own province's report, the national office to the roll-up."""
    where = answer.headers.get("location", "")
    if actor.startswith("operator") and not where.startswith(f"/tong-hop/{ACTORS[actor][1]}/"):
        return f"sent to {where!r}, not to the operator's own province"
    return None


def own_audit_only(actor: str, answer) -> str | None:
    """GET /v1/reports/audit?province=53 shows the workflow of province 53 (run by the rows above) and nothing else."""
    provinces = {r["province"] for r in answer.json()["items"]}
    return None if provinces == {OWN} else f"shows audit rows of provinces {sorted(provinces, key=str)}"


def rows() -> list[Row]:
    report, page = f"/v1/reports/{OWN}/2019-06", f"/tong-hop/{OWN}/2019-06"
    reason = {"json": {"reason": "Kiểm thử quyền mở lại"}}
    return [
        Row("GET", "/v1/reports/{province}/{period}", DRAFT_READERS, url=report, scope=status_is("draft")),
        Row("GET", "/v1/reports/{province}/{period}.docx", DRAFT_READERS, url=report + ".docx"),
        Row("GET", "/v1/reports/{province}/{period}.html", DRAFT_READERS, url=report + ".html"),
        Row("GET", "/tong-hop/{province}/{period}", DRAFT_READERS, url=page, page=True),
        Row("GET", "/v1/reports/{province}/{period}.pdf", DRAFT_READERS, url=report + ".pdf"),
        Row("GET", "/v1/reports/{province}/{period}.xlsx", DRAFT_READERS, url=report + ".xlsx"),
        # The office writes (the admin, second, is let in and then finds the version moved on: 409).
        Row(
            "PUT",
            "/v1/reports/{province}/{period}/sections/{key}",
            PROVINCE_OPERATORS,
            url=report + "/sections/t1",
            kwargs={"json": {"text": "Văn phòng đánh giá.", "base_version": 0}},
        ),
        Row(
            "POST",
            "/tong-hop/{province}/{period}/muc/{key}",
            PROVINCE_OPERATORS,
            url=page + "/muc/t2",
            page=True,
            kwargs={"data": {"text": "Văn phòng đánh giá.", "base_version": "1"}},
        ),
        Row("GET", "/kiem-tra-van-ban", EVERYONE, page=True),
        Row("POST", "/kiem-tra-van-ban", EVERYONE, page=True),
        Row("POST", "/v1/reports/{province}/{period}/approve", PROVINCE_OPERATORS, url=report + "/approve"),
        Row("POST", "/v1/reports/{province}/{period}/publish", PROVINCE_OPERATORS, url=report + "/publish"),
        Row("GET", "/v1/reports/{province}/{period}", PROVINCE_STAFF, url=report, scope=status_is("published")),
        Row("GET", "/v1/reports/{province}/{period}.docx", PROVINCE_STAFF, url=report + ".docx"),
        Row("GET", "/v1/reports/{province}/{period}.pdf", PROVINCE_STAFF, url=report + ".pdf"),
        Row("GET", "/tong-hop/{province}/{period}", PROVINCE_STAFF, url=page, page=True),
        Row("POST", "/v1/reports/{province}/{period}/reopen", ADMIN_ONLY, url=report + "/reopen", kwargs=reason),
        Row("POST", "/tong-hop/{province}/{period}/duyet", PROVINCE_OPERATORS, url=page + "/duyet", page=True),
        Row("POST", "/tong-hop/{province}/{period}/gui", PROVINCE_OPERATORS, url=page + "/gui", page=True),
        Row("GET", "/v1/reports/{province}/{period}", PROVINCE_STAFF, url=report, scope=status_is("published")),
        # The national office answers (the admin, after it, finds the step already taken: 409).
        Row(
            "POST",
            "/tong-hop/{province}/{period}/tra-lai",
            NATIONAL_OFFICE,
            url=page + "/tra-lai",
            page=True,
            kwargs={"data": {"reason": "Kiểm thử quyền trả lại"}},
        ),
        Row("GET", "/v1/reports/{province}/{period}", DRAFT_READERS, url=report, scope=status_is("draft")),
        Row("POST", "/v1/reports/{province}/{period}/approve", PROVINCE_OPERATORS, url=report + "/approve"),
        Row("POST", "/v1/reports/{province}/{period}/publish", PROVINCE_OPERATORS, url=report + "/publish"),
        Row("POST", "/v1/reports/{province}/{period}/return", NATIONAL_OFFICE, url=report + "/return", kwargs=reason),
        Row("POST", "/v1/reports/{province}/{period}/approve", PROVINCE_OPERATORS, url=report + "/approve"),
        Row("POST", "/v1/reports/{province}/{period}/publish", PROVINCE_OPERATORS, url=report + "/publish"),
        Row("POST", "/v1/reports/{province}/{period}/accept", NATIONAL_OFFICE, url=report + "/accept"),
        Row("POST", "/tong-hop/{province}/{period}/tiep-nhan", NATIONAL_OFFICE, url=page + "/tiep-nhan", page=True),
        Row("POST", "/v1/reports/{province}/{period}/reopen", ADMIN_ONLY, url=report + "/reopen", kwargs=reason),
        Row("GET", "/v1/reports/{province}/{period}", PROVINCE_STAFF, url=report, scope=status_is("accepted")),
        Row("GET", "/v1/national/{period}", OPS_READERS, url="/v1/national/2019-06"),
        # Where a period stands is no secret: any signed-in caller may ask, of any province.
        Row("GET", "/v1/periods/{province}/{period}", EVERYONE, url=f"/v1/periods/{OWN}/2019-06", scope=state_is),
        Row("GET", "/v1/periods/{province}", EVERYONE, url=f"/v1/periods/{OWN}?plan_id={PLAN.id}"),
        Row("GET", "/quoc-gia/{period}", OPS_READERS, url="/quoc-gia/2019-06", page=True),
        Row("GET", "/", EVERYONE, page=True, scope=operators_own_report),
        Row("GET", "/tong-hop", EVERYONE, page=True, scope=operators_own_report),
        Row("GET", "/v1/reports/audit", PROVINCE_STAFF, url=f"/v1/reports/audit?province={OWN}", scope=own_audit_only),
        # Without a province: a province operator is asked to name theirs; reporters are still refused.
        Row(
            "GET", "/v1/reports/audit", {**PROVINCE_STAFF, "operator own province": 422, "operator other province": 422}
        ),
        *ops_rows(),
    ]


async def test_every_route_has_a_row():
    app = create_app(Settings(database_url="postgresql+asyncpg://u@127.0.0.1/x"))
    assert_covers(app, rows(), public=PUBLIC_ROUTES | {("GET", "/v1/documents/{sha256}")})  # the file's holder asks


async def test_authorization_matrix(consolidation):
    app, mint = consolidation
    await assert_matrix(
        app, rows(), minted(mint, ACTORS), login=f"{INTAKE}/dang-nhap", base_url="http://consolidation.test"
    )
